import ArgumentParser

/// `dabba bench`: measures Dabba against a raw librdkafka baseline on the embedded broker.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmark against raw librdkafka.")
}
