import DabbaKafka
import Foundation
import Testing

@Suite("dabba broker", .timeLimit(.minutes(3)))
struct BrokerCommandTests {
    @Test("starts, creates topics, writes the bootstrap file, serves clients, and stops on SIGTERM with exit 0")
    func lifecycle() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dabba-broker-\(UUID().uuidString)"
        )
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("bootstrap")
        // A stale file from an earlier run is replaced, never mistaken for this broker's.
        try Data("127.0.0.1:1\n".utf8).write(to: file)

        let broker = try RunningDabba(
            ["broker", "--brokers", "2", "--topic", "orders:3", "--topic", "audit:1:2", "--bootstrap-file", file.path],
            input: nil,
            environment: [:]
        )
        var servers: String?
        for _ in 0..<300 where servers == nil {
            if let text = try? String(contentsOf: file, encoding: .utf8), text != "127.0.0.1:1\n" {
                servers = text
            } else {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
        let contents = try #require(servers, "no bootstrap file; stderr: \(broker.stderr)")
        #expect(contents.hasSuffix("\n"))
        let bootstrap = contents.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(bootstrap.split(separator: ",").count == 2)
        #expect(broker.stdout == "bootstrap=\(bootstrap)\n")
        #expect(broker.stderr.contains("topic orders: 3 partitions"))

        let produced = try await Dabba.run(
            ["produce", "-t", "orders", "-k", "customer-9", "--value", "hi"],
            environment: ["DABBA_BOOTSTRAP": bootstrap]
        )
        #expect(produced.exitCode == 0, "\(produced.stderr)")
        let delivery = try #require(try produced.jsonLines().first)
        #expect(delivery.int("partition") == Int(Murmur2Partitioner.partition(forKey: "customer-9", partitionCount: 3)))
        let consumed = try await Dabba.run(
            ["consume", "-b", bootstrap, "-t", "orders", "--max", "1"]
        )
        #expect(consumed.exitCode == 0, "\(consumed.stderr)")
        #expect(try consumed.jsonLines().first?.string("value") == "hi")

        broker.signal(SIGTERM)
        let result = try await broker.waitForExit(timeLimit: .seconds(30))
        #expect(result.exitCode == 0, "\(result.stderr)")
        #expect(result.stderr.contains("SIGTERM received, stopping"))
        // The file exists exactly while the broker is ready.
        #expect(!FileManager.default.fileExists(atPath: file.path))
    }

    @Test("SIGINT stops it too")
    func interrupt() async throws {
        let broker = try RunningDabba(["broker"], input: nil, environment: [:])
        for _ in 0..<300 where !broker.stdout.hasPrefix("bootstrap=") {
            try await Task.sleep(for: .milliseconds(100))
        }
        #expect(broker.stdout.hasPrefix("bootstrap=127.0.0.1:"))
        broker.signal(SIGINT)
        let result = try await broker.waitForExit(timeLimit: .seconds(30))
        #expect(result.exitCode == 0, "\(result.stderr)")
    }

    @Test(
        "a malformed --topic is named, with usage (exit 64)",
        arguments: [
            ("orders", "expected NAME:PARTITIONS"),
            ("orders:zero", "'zero' of topic 'orders' is not a positive integer"),
            ("orders:0", "'0' of topic 'orders' is not a positive integer"),
            ("orders:-3", "'-3' of topic 'orders' is not a positive integer"),
        ]
    )
    func malformedTopic(value: String, reason: String) async throws {
        let result = try await Dabba.run(["broker", "--topic", value], timeLimit: .seconds(30))
        #expect(result.exitCode == 64)
        #expect(
            result.stderr.hasPrefix("error: The value '\(value)' is invalid for '--topic <name:partitions>'"),
            "\(result.stderr)"
        )
        #expect(result.stderr.contains(reason))
        #expect(result.stdout.isEmpty)
    }

    @Test("more replicas than brokers is refused before starting")
    func tooManyReplicas() async throws {
        let result = try await Dabba.run(["broker", "--topic", "orders:3:2"], timeLimit: .seconds(30))
        #expect(result.exitCode == 64)
        #expect(
            result.stderr.contains("topic 'orders' asks for 2 replicas but the cluster has 1 broker"),
            "\(result.stderr)"
        )
    }
}
