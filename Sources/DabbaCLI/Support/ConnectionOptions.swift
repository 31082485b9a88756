import ArgumentParser
import DabbaKafka
import Foundation
import Logging

/// Options shared by the commands that connect to Kafka: where the brokers are, raw librdkafka properties, and
/// how talkative librdkafka may be.
struct ConnectionOptions: ParsableArguments {
    /// The environment variable that supplies the bootstrap servers when `-b` is not given.
    static let bootstrapEnvironmentVariable = "DABBA_BOOTSTRAP"

    @Option(
        name: [.customShort("b"), .customLong("bootstrap")],
        help: ArgumentHelp(
            "Bootstrap servers, HOST:PORT[,HOST:PORT...]. Default: $\(bootstrapEnvironmentVariable).",
            valueName: "servers"
        )
    )
    var bootstrap: String?

    @Option(
        name: .customLong("property"),
        help: ArgumentHelp(
            "A librdkafka property, applied after Dabba's settings (repeatable).",
            valueName: "key=value"
        ),
        transform: LibrdkafkaProperty.parse
    )
    var properties: [LibrdkafkaProperty] = []

    @Flag(
        name: [.customShort("v"), .long],
        help: "Show librdkafka log lines on standard error (add --property debug=... for more)."
    )
    var verbose = false

    func validate() throws {
        guard let servers = bootstrapServers, !servers.allSatisfy(\.isWhitespace) else {
            throw ValidationError(
                "no Kafka brokers given: pass -b/--bootstrap HOST:PORT[,HOST:PORT...] or set "
                    + "\(Self.bootstrapEnvironmentVariable)"
            )
        }
    }

    /// `-b`, else `$DABBA_BOOTSTRAP`.
    var bootstrapServers: String? {
        bootstrap ?? ProcessInfo.processInfo.environment[Self.bootstrapEnvironmentVariable]
    }

    /// Client settings with the `--property` values in ``ClientConfiguration/properties``.
    func clientConfiguration() -> ClientConfiguration {
        var configuration = ClientConfiguration(bootstrap: bootstrapServers ?? "")
        configuration.clientID = "dabba-cli"
        for property in properties { configuration.properties[property.key] = property.value }
        return configuration
    }

    /// A logger for librdkafka's lines: silent unless `--verbose`.
    func logger(label: String) -> Logger {
        var logger = Self.quietLogger(label: label)
        if verbose { logger.logLevel = .debug }
        return logger
    }

    /// A logger that prints nothing: the CLI reports failures itself, as `error:` lines.
    static func quietLogger(label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        return logger
    }
}

extension Duration {
    /// A duration from a command-line number of seconds (fractions allowed).
    static func cliSeconds(_ seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

/// Formats a number of seconds the way the user typed it: `10s`, `2.5s`.
func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int64(seconds))s" : "\(seconds)s"
}
