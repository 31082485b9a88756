import DabbaKafka
import Foundation
import Testing

@Suite("dabba broker --catalog", .timeLimit(.minutes(3)))
struct TypedBrokerTests {
    /// Starts `dabba broker` with `arguments` and waits for its bootstrap file.
    private func startBroker(_ arguments: [String]) async throws -> (RunningDabba, String, URL) {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-bootstrap-\(UUID().uuidString)")
        let broker = try RunningDabba(
            ["broker"] + arguments + ["--bootstrap-file", file.path],
            input: nil,
            environment: [:]
        )
        for _ in 0..<300 where !FileManager.default.fileExists(atPath: file.path) {
            if !broker.isRunning { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let contents = try #require(
            try? String(contentsOf: file, encoding: .utf8),
            "no bootstrap file; stderr: \(broker.stderr)"
        )
        return (broker, contents.trimmingCharacters(in: .whitespacesAndNewlines), file)
    }

    private func partitionCount(_ topic: String, bootstrap: String) async throws -> Int32? {
        try await KafkaMetadata(configuration: ClientConfiguration(bootstrap: bootstrap), logger: quietLogger)
            .topicPartitionCount(topic: topic, timeout: .seconds(10))
    }

    @Test("creates the repository's Topics/ catalog, derived topics included; produce --example works from the root")
    func repositoryCatalog() async throws {
        let (broker, bootstrap, _) = try await startBroker([
            "--catalog", repositoryRoot.appendingPathComponent("Topics").path,
        ])
        for topic in [
            "payments.payments", "payments.payments.payments-authorizer.retry.1",
            "payments.payments.payments-authorizer.retry.2", "payments.payments.payments-authorizer.dlq",
        ] {
            #expect(try await partitionCount(topic, bootstrap: bootstrap) == 6, "\(topic)")
        }
        #expect(broker.stderr.contains("topic payments.payments.payments-authorizer.dlq: 6 partitions"))
        // The hint names the first event with an example (the food-delivery document sorts first).
        #expect(broker.stderr.contains("dabba produce food.order.placed --example"))

        // The default catalog is ./Topics.
        let produced = try await runDabba(
            ["produce", "payments.payment.requested", "--example", "-b", bootstrap],
            in: repositoryRoot
        )
        #expect(produced.exitCode == 0, "\(produced.stderr)")
        let delivery = try #require(try produced.jsonLines().first)
        #expect(delivery.string("topic") == "payments.payments")
        #expect(delivery.string("key") == "ord_7731")
        #expect(delivery.int("partition") == Int(Murmur2Partitioner.partition(forKey: "ord_7731", partitionCount: 6)))

        // Derived topics take records like any other.
        let retry = try await Dabba.run(
            ["produce", "-b", bootstrap, "-t", "payments.payments.payments-authorizer.retry.1", "--value", "r"]
        )
        #expect(retry.exitCode == 0, "\(retry.stderr)")

        broker.signal(SIGTERM)
        let stopped = try await broker.waitForExit(timeLimit: .seconds(30))
        #expect(stopped.exitCode == 0, "\(stopped.stderr)")
    }

    @Test("--topic and --catalog together; replicas are capped at --brokers with a warning")
    func combined() async throws {
        let catalog = try TestCatalog(topic: "shop.orders", partitions: 4, replicas: 3)
        defer { catalog.remove() }
        let (broker, bootstrap, _) = try await startBroker(
            ["--brokers", "2", "--topic", "audit:2", "--topic", "shop.orders:4"] + catalog.arguments
        )
        #expect(try await partitionCount("audit", bootstrap: bootstrap) == 2)
        for topic in [
            "shop.orders", "shop.orders.shipping.retry.1", "shop.orders.shipping.retry.2", "shop.orders.shipping.dlq",
        ] {
            #expect(try await partitionCount(topic, bootstrap: bootstrap) == 4, "\(topic)")
        }
        #expect(
            broker.stderr.contains(
                "warning: topic 'shop.orders.shipping.dlq' asks for 3 replicas but the cluster has 2 brokers; "
                    + "creating it with 2"
            ),
            "\(broker.stderr)"
        )
        let produced = try await Dabba.run(
            ["produce", "test.order.placed", "--example", "-b", bootstrap] + catalog.arguments
        )
        #expect(produced.exitCode == 0, "\(produced.stderr)")
        #expect(try produced.jsonLines().first?.string("topic") == "shop.orders")
    }

    @Test("conflicting partitions, a broken catalog and a missing one fail before the broker starts")
    func failures() async throws {
        let catalog = try TestCatalog(topic: "shop.orders", partitions: 4)
        defer { catalog.remove() }
        let conflict = try await Dabba.run(
            ["broker", "--topic", "shop.orders:3"] + catalog.arguments,
            timeLimit: .seconds(30)
        )
        #expect(conflict.exitCode == 1)
        #expect(
            conflict.stderr.hasPrefix(
                "error: topic 'shop.orders' is given with --topic shop.orders:3 but the catalog declares 4 partitions"
            ),
            "\(conflict.stderr)"
        )
        #expect(conflict.stdout.isEmpty)

        let missing = try await Dabba.run(["broker", "--catalog", "/nonexistent"], timeLimit: .seconds(30))
        #expect(missing.exitCode == 1)
        #expect(missing.stderr == "error: catalog directory '/nonexistent' (--catalog) does not exist\n")
        #expect(missing.stdout.isEmpty)

        try Data("asyncapi: 2.6.0\n".utf8).write(to: catalog.directory.appendingPathComponent("old.asyncapi.yaml"))
        let broken = try await Dabba.run(["broker"] + catalog.arguments, timeLimit: .seconds(30))
        #expect(broken.exitCode == 1)
        #expect(broken.stderr.contains("old.asyncapi.yaml:1:"), "\(broken.stderr)")
        #expect(broken.stdout.isEmpty)
    }
}
