import ArgumentParser
import DabbaKafka
import Foundation
import Logging

/// The `dabba` command-line tool.
public struct DabbaCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dabba",
        abstract: "Kafka event pipelines.",
        discussion: """
            Commands that talk to Kafka take -b/--bootstrap HOST:PORT[,...] (default: $DABBA_BOOTSTRAP). \
            Errors are printed to standard error as "error: ..." with exit code 1 (64 for command-line usage errors).
            """,
        subcommands: [
            BrokerCommand.self, ProduceCommand.self, ConsumeCommand.self, BenchCommand.self, DLQCommand.self,
            TopicsCommand.self, ContractCommand.self, GroupCommand.self, UICommand.self,
        ]
    )

    public init() {}

    /// Parses and runs a command, reporting failures as `error: …` on standard error.
    /// - Parameter arguments: The arguments after the program name.
    /// - Returns: The process exit code: 0 on success, 1 on failure, 64 for command-line usage errors.
    public static func execute(_ arguments: [String]) async -> Int32 {
        bootstrapLogging()
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            return 0
        } catch {
            return report(error)
        }
    }

    /// Prints an error the way the CLI reports errors and returns the exit code.
    static func report(_ error: any Error) -> Int32 {
        switch error {
        case let error as CLIError:
            Output.note("error: \(error.message)")
            return error.exitCode
        case let error as KafkaError:
            Output.note("error: \(error.cliDescription)")
            return 1
        default:
            let code = exitCode(for: error)
            var text = fullMessage(for: error)
            if code == .success {
                if !text.isEmpty { Output.line(text) }
                return 0
            }
            if text.hasPrefix("Error: ") { text = "error: " + text.dropFirst("Error: ".count) }
            if !text.isEmpty { Output.note(text) }
            return code.rawValue
        }
    }

    /// Log lines go to standard error: standard output carries only data (JSON lines, the bootstrap line).
    private static func bootstrapLogging() {
        LoggingSystem.bootstrap { label in StreamLogHandler.standardError(label: label) }
    }
}
