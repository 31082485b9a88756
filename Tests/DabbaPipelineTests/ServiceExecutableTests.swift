import DabbaEvents
import DabbaKafka
import DabbaTesting
import Foundation
import Testing

@Suite("Pipeline executables: standard options, startup checks, metrics, signals", .serialized, .timeLimit(.minutes(3)))
struct ServiceExecutableTests {
    static let catalogYAML = """
        asyncapi: 3.0.0
        info: {title: Payments, version: 1.0.0}
        channels:
          payments:
            address: TOPIC
            messages:
              requested: {$ref: '#/components/messages/Requested'}
            bindings: {kafka: {partitions: 2, replicas: 1}}
            x-dabba-retry: {delays: [1s], deadLetter: true}
        operations:
          authorize:
            action: receive
            channel: {$ref: '#/channels/payments'}
            bindings: {kafka: {groupId: {type: string, const: payments-authorizer}}}
        components:
          messages:
            Requested:
              name: payments.payment.requested
              x-dabba-key: /orderId
              payload:
                type: object
                required: [paymentId, orderId]
                properties:
                  paymentId: {type: string}
                  orderId: {type: string}
              examples:
                - payload: {paymentId: p1, orderId: o1}
        """

    struct Setup {
        let broker: EmbeddedBroker
        let topic: String
        let catalog: String
        let database: String

        init() throws {
            broker = try EmbeddedBroker()
            topic = TestHelpers.uniqueName("payments")
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(ServiceExecutableTests.catalogYAML.replacingOccurrences(of: "TOPIC", with: topic).utf8)
                .write(to: directory.appendingPathComponent("payments.asyncapi.yaml"))
            catalog = directory.path
            database = directory.appendingPathComponent("inbox.sqlite").path
        }

        func arguments(_ extra: [String] = []) -> [String] {
            ["--bootstrap", broker.bootstrapServers, "--catalog", catalog, "--inbox", "sqlite:\(database)"] + extra
        }

        func createTopics() async throws {
            for name in [topic, "\(topic).payments-authorizer.retry.1", "\(topic).payments-authorizer.dlq"] {
                try await broker.createTopic(name, partitions: 2)
            }
        }
    }

    @Test("missing topics stop the service at start with a message naming them and the fix")
    func missingTopics() async throws {
        let setup = try Setup()
        let process = try FixtureProcess(executable: "dabba-service-fixture", arguments: setup.arguments())
        #expect(try await process.waitForExit() != 0)
        let output = process.lines.joined(separator: "\n")
        #expect(output.contains("missing topics: \(setup.topic), \(setup.topic).payments-authorizer.retry.1, \(setup.topic).payments-authorizer.dlq"))
        #expect(output.contains("dabba topics apply"))
    }

    @Test("an event type routed to the group without a handler stops the service at start")
    func missingHandler() async throws {
        let setup = try Setup()
        try await setup.createTopics()
        let process = try FixtureProcess(
            executable: "dabba-service-fixture", arguments: setup.arguments(["--without-handler"])
        )
        #expect(try await process.waitForExit() != 0)
        #expect(process.lines.joined().contains("routes payments.payment.requested to group 'payments-authorizer' but authorizer has no handler"))
    }

    @Test("bad option values are rejected with the option named")
    func badOptions() async throws {
        let setup = try Setup()
        let process = try FixtureProcess(
            executable: "dabba-service-fixture", arguments: setup.arguments(["--concurrency", "lots"])
        )
        #expect(try await process.waitForExit() != 0)
        #expect(process.lines.joined().contains("--concurrency must be 'partition' or 'key:N'"))
    }

    @Test(
        "--exactly-once and --concurrency key:N with the (default) inbox stop the service at start, naming the fix",
        arguments: [
            (["--exactly-once", "--instance-id", "one"], "exactly-once (--exactly-once) with an inbox is refused"),
            (["--concurrency", "key:4"], "per-key concurrency (--concurrency key:N) with an inbox is refused"),
        ]
    )
    func refusedWithInbox(options: [String], message: String) async throws {
        let setup = try Setup()
        let process = try FixtureProcess(executable: "dabba-service-fixture", arguments: setup.arguments(options))
        #expect(try await process.waitForExit() != 0)
        let output = process.lines.joined(separator: " ")
        #expect(output.contains(message), "\(output)")
        #expect(output.contains("--inbox none"), "\(output)")
    }

    @Test("--outbox without an inbox, or with --exactly-once, is refused at start with the reason")
    func outboxCombinations() async throws {
        let setup = try Setup()
        let base = ["--bootstrap", setup.broker.bootstrapServers, "--catalog", setup.catalog]
        let withoutInbox = try FixtureProcess(
            executable: "dabba-service-fixture", arguments: base + ["--inbox", "none", "--outbox"]
        )
        #expect(try await withoutInbox.waitForExit() != 0)
        #expect(withoutInbox.lines.joined().contains("--outbox keeps emitted events in the inbox database"))
        let withExactlyOnce = try FixtureProcess(
            executable: "dabba-service-fixture",
            arguments: setup.arguments(["--outbox", "--exactly-once", "--instance-id", "one"])
        )
        #expect(try await withExactlyOnce.waitForExit() != 0)
        #expect(withExactlyOnce.lines.joined().contains("--outbox and --exactly-once both decide how emitted events"))
    }

    @Test("a second process on the same SQLite inbox stops at start, naming the file and --instance-id")
    func sharedSQLiteInbox() async throws {
        let setup = try Setup()
        try await setup.createTopics()
        let port = freePort()
        let first = try FixtureProcess(
            executable: "dabba-service-fixture", arguments: setup.arguments(["--metrics-port", String(port)])
        )
        try await eventually("the first service is ready", timeout: .seconds(60)) { httpGet(port: port, path: "/ready")?.status == 200 }
        let second = try FixtureProcess(
            executable: "dabba-service-fixture", arguments: setup.arguments(["--metrics-port", String(freePort())])
        )
        #expect(try await second.waitForExit() != 0)
        let output = second.lines.joined(separator: "\n")
        #expect(output.contains("the SQLite inbox \(setup.database) is in use by another instance"))
        #expect(output.contains("give each instance its own --instance-id"))
        #expect(httpGet(port: port, path: "/health")?.status == 200, "the first instance keeps running")
        first.send(SIGTERM)
        #expect(try await first.waitForExit() == 0)

        // Once the first process has exited, the lock is free again.
        let thirdPort = freePort()
        let third = try FixtureProcess(
            executable: "dabba-service-fixture", arguments: setup.arguments(["--metrics-port", String(thirdPort)])
        )
        try await eventually("the restarted service is ready", timeout: .seconds(60)) {
            httpGet(port: thirdPort, path: "/ready")?.status == 200
        }
        third.send(SIGTERM)
        #expect(try await third.waitForExit() == 0)
    }

    @Test("a running service serves /ready and /metrics, handles events, and exits 0 on SIGTERM")
    func metricsAndShutdown() async throws {
        let setup = try Setup()
        try await setup.createTopics()
        let port = freePort()
        let process = try FixtureProcess(
            executable: "dabba-service-fixture", arguments: setup.arguments(["--metrics-port", String(port)])
        )
        try await eventually("the service is ready", timeout: .seconds(60)) { httpGet(port: port, path: "/ready")?.status == 200 }
        #expect(httpGet(port: port, path: "/health")?.status == 200)
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrap: setup.broker.bootstrapServers), logger: quietLogger)
        let events = EventProducer(producer: producer, source: "/test", routes: EventRoutes(["payments.payment.requested": setup.topic]))
        for index in 0..<3 {
            try await events.send(
                ServicePaymentRequested(paymentId: "p\(index)", orderId: "o\(index)"), metadata: EventMetadata(id: "e\(index)")
            )
        }
        try await eventually("metrics show 3 handled events", timeout: .seconds(60)) {
            httpGet(port: port, path: "/metrics")?.body.contains(#"dabba_events_handled_total{service="authorizer"} 3"#) == true
        }
        process.send(SIGTERM)
        #expect(try await process.waitForExit() == 0)
        #expect(httpGet(port: port, path: "/health") == nil, "the metrics endpoint should be closed after shutdown")
        try await producer.close()
    }

    /// The scrape a Prometheus server does, over HTTP from another process: every line of `/metrics` is a comment or
    /// a sample, with the pipeline's counters, the handler latency histogram, the lag and librdkafka's statistics;
    /// `/ready` turns 503 while the consumer cannot reach the broker, naming why, and 200 again once it can.
    @Test("a scrape over HTTP parses as Prometheus text; /ready flips while the broker is down")
    func scrapeAndReadiness() async throws {
        let setup = try Setup()
        try await setup.createTopics()
        let port = freePort()
        let process = try FixtureProcess(
            executable: "dabba-service-fixture",
            arguments: setup.arguments(["--metrics-port", String(port), "--statistics-interval", "200ms"])
        )
        try await eventually("the service is ready", timeout: .seconds(60)) { httpGet(port: port, path: "/ready")?.status == 200 }
        let producer = try KafkaProducer(configuration: ProducerConfiguration(bootstrap: setup.broker.bootstrapServers), logger: quietLogger)
        let events = EventProducer(producer: producer, source: "/test", routes: EventRoutes(["payments.payment.requested": setup.topic]))
        for index in 0..<2 {
            try await events.send(
                ServicePaymentRequested(paymentId: "p\(index)", orderId: "o\(index)"), metadata: EventMetadata(id: "e\(index)")
            )
        }
        var samples: [PrometheusSample] = []
        try await eventually("the scrape shows both events handled and the brokers' round trips", timeout: .seconds(60)) {
            guard let body = httpGet(port: port, path: "/metrics")?.body else { return false }
            samples = try PrometheusSample.parse(body)
            return samples.contains { $0.name == "dabba_events_handled_total" && $0.value == 2 }
                && samples.contains { $0.name == "dabba_kafka_broker_rtt_seconds" }
        }
        let service = ["service": "authorizer"]
        #expect(samples.contains { $0.name == "dabba_events_handled_total" && $0.labels == service })
        #expect(samples.contains { $0.name == "dabba_handler_duration_seconds_count" && $0.value == 2 })
        #expect(samples.contains { $0.name == "dabba_handler_duration_seconds_bucket" && $0.labels["le"] == "+Inf" })
        let lag = samples.filter { $0.name == "dabba_consumer_lag" && $0.labels["topic"] == setup.topic }
        #expect(Set(lag.compactMap { $0.labels["partition"] }) == ["0", "1"], "a lag series per assigned partition")
        #expect(lag.allSatisfy { $0.value == 0 })
        // The main topic's two partitions and the retry tier's two.
        #expect(samples.contains { $0.name == "dabba_kafka_assigned_partitions" && $0.value == 4 })

        try await setup.broker.setBrokerDown(1)
        try await eventually("/ready answers 503 naming the brokers", timeout: .seconds(60)) {
            guard let ready = httpGet(port: port, path: "/ready") else { return false }
            return ready.status == 503 && ready.body.contains("the Kafka brokers cannot be reached")
        }
        #expect(httpGet(port: port, path: "/health")?.status == 200, "alive: a restart would not bring the broker back")
        try await setup.broker.setBrokerUp(1)
        try await eventually("/ready answers 200 again", timeout: .seconds(60)) {
            httpGet(port: port, path: "/ready")?.status == 200
        }
        process.send(SIGTERM)
        #expect(try await process.waitForExit() == 0)
        try await producer.close()
    }
}

/// One sample line of the Prometheus text format (0.0.4): `name{label="value",…} value`.
struct PrometheusSample: Equatable {
    var name: String
    var labels: [String: String]
    var value: Double

    struct Malformed: Error, CustomStringConvertible {
        let line: String
        var description: String { "not a Prometheus sample line: \(line)" }
    }

    /// Parses every line: blank lines and `#` comments are skipped, anything else must be a sample.
    static func parse(_ text: String) throws -> [PrometheusSample] {
        try text.split(separator: "\n").compactMap { line -> PrometheusSample? in
            if line.isEmpty || line.hasPrefix("#") { return nil }
            guard let sample = sample(String(line)) else { throw Malformed(line: String(line)) }
            return sample
        }
    }

    private static func sample(_ line: String) -> PrometheusSample? {
        guard let valueStart = line.lastIndex(of: " ") else { return nil }
        let series = line[..<valueStart]
        let valueText = line[line.index(after: valueStart)...]
        guard let value = Double(valueText) ?? (valueText == "+Inf" ? .infinity : nil) else { return nil }
        let name: Substring
        var labels: [String: String] = [:]
        if let open = series.firstIndex(of: "{") {
            guard series.last == "}" else { return nil }
            name = series[..<open]
            let body = series[series.index(after: open)..<series.index(before: series.endIndex)]
            // Label values here hold no quotes or commas.
            for pair in body.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2, parts[1].count >= 2, parts[1].first == "\"", parts[1].last == "\"" else { return nil }
                labels[String(parts[0])] = String(parts[1].dropFirst().dropLast())
            }
        } else {
            name = series
        }
        let validName = name.first.map { $0.isLetter || $0 == "_" || $0 == ":" } == true
            && name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        return validName ? PrometheusSample(name: String(name), labels: labels, value: value) : nil
    }
}

struct ServicePaymentRequested: Event {
    static let eventType = "payments.payment.requested"
    var paymentId: String
    var orderId: String
    var partitionKey: String? { orderId }
}
