import ArgumentParser

/// The `dabba` command-line tool.
public struct DabbaCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "dabba",
        abstract: "Kafka event pipelines.",
        subcommands: [BenchCommand.self]
    )
    public init() {}
}
