import DabbaKafka

/// A failure the CLI reports as `error: <message>` on standard error, exiting with ``exitCode``.
///
/// Commands throw it for problems found while running (an unreachable broker, a missing topic, a malformed input
/// line). Problems with the command line itself are ArgumentParser's `ValidationError`s (exit code 64, with usage).
struct CLIError: Error, CustomStringConvertible {
    /// What went wrong and where, without the `error: ` prefix.
    var message: String
    /// The process exit code.
    var exitCode: Int32

    init(_ message: String, exitCode: Int32 = 1) {
        self.message = message
        self.exitCode = exitCode
    }

    var description: String { message }
}

extension KafkaError {
    /// The message as the CLI prints it: the explanation, then librdkafka's error name when there is one.
    var cliDescription: String {
        guard let librdkafkaName, !message.contains(librdkafkaName) else { return message }
        return "\(message) [\(librdkafkaName)]"
    }
}
