import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import DabbaTesting
import DabbaTestingPostgres
import Foundation
import Logging
import Synchronization
import Testing

struct OrderPlaced: Event, Equatable {
    static let eventType = "test.order.placed"
    var orderID: String
    var amount: Int
    var partitionKey: String? { orderID }
}

struct OrderShipped: Event, Equatable {
    static let eventType = "test.order.shipped"
    var orderID: String
    var partitionKey: String? { orderID }
}

let quietLogger = TestHelpers.quietLogger()

/// A fresh embedded broker with a main topic, two retry tiers and a dead-letter topic for one group.
struct PipelineFixture {
    let broker: EmbeddedBroker
    let topic: String
    let group: String
    let topology: PipelineTopology

    init(partitions: Int32 = 3, delays: [Duration] = [.milliseconds(300), .milliseconds(600)], deadLetter: Bool = true) async throws {
        broker = try EmbeddedBroker()
        topic = TestHelpers.uniqueName("orders")
        group = "g-\(topic)"
        try await broker.createTopic(topic, partitions: partitions)
        var tiers: [RetryTier] = []
        for (index, delay) in delays.enumerated() {
            let name = "\(topic).\(group).retry.\(index + 1)"
            try await broker.createTopic(name, partitions: partitions)
            tiers.append(RetryTier(topic: name, delay: delay))
        }
        var deadLetters: [String: String] = [:]
        if deadLetter {
            try await broker.createTopic("\(topic).\(group).dlq", partitions: partitions)
            deadLetters[topic] = "\(topic).\(group).dlq"
        }
        topology = PipelineTopology(mainTopics: [topic], retryTiers: [topic: tiers], deadLetterTopics: deadLetters)
    }

    var deadLetterTopic: String { "\(topic).\(group).dlq" }

    func configuration() -> PipelineConfiguration {
        var configuration = PipelineConfiguration(client: ClientConfiguration(bootstrap: broker.bootstrapServers))
        configuration.retry = RetryConfiguration(inPlaceAttempts: 2, initialBackoff: .milliseconds(10))
        configuration.consumerProperties = [
            "topic.metadata.refresh.interval.ms": "1000", "session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
        ]
        return configuration
    }

    func eventProducer() throws -> EventProducer {
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: quietLogger
        )
        return EventProducer(
            producer: producer, source: "/test",
            routes: EventRoutes([OrderPlaced.eventType: topic, OrderShipped.eventType: topic])
        )
    }

    /// Every record on a topic (read with a throwaway group), waiting up to `timeout` for `count`.
    /// A generous deadline: tests run in parallel, each with its own in-process cluster, on two shared cores.
    /// After `count` records (or the deadline), it keeps reading for `quietPeriod`, so unexpected extra records (or,
    /// with `count: 0`, any record at all) show up.
    func records(
        on topic: String, count: Int, timeout: Duration = .seconds(90), quietPeriod: Duration = .milliseconds(300)
    ) async throws -> [TestRecord] {
        try await records(on: topic, timeout: timeout, quietPeriod: quietPeriod) { $0.count >= count }
    }

    /// Every record on a topic (read with a throwaway group), waiting up to `timeout` until `complete` holds of what
    /// was read, then `quietPeriod` more.
    func records(
        on topic: String, timeout: Duration = .seconds(90), quietPeriod: Duration = .milliseconds(300),
        until complete: ([TestRecord]) -> Bool
    ) async throws -> [TestRecord] {
        var configuration = ConsumerConfiguration(bootstrap: broker.bootstrapServers, groupID: "reader-\(UUID())")
        configuration.client.properties["topic.metadata.refresh.interval.ms"] = "1000"
        // A short session: librdkafka 2.0 rejoins when a metadata refresh lands while the group leader waits for the
        // metadata of its assignment, and the embedded broker then holds the rejoin for the session timeout less a
        // second (44 s with the default 45 s).
        configuration.sessionTimeout = .seconds(6)
        configuration.client.properties["heartbeat.interval.ms"] = "500"
        let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
        try consumer.subscribe(topics: [topic])
        let collected = Mutex<[TestRecord]>([])
        let reader = Task {
            for try await message in consumer.messages {
                collected.withLock { $0.append(TestRecord(message)) }
            }
        }
        let clock = ContinuousClock()
        // Joining a new group comes first; without an assignment nothing can arrive.
        let joinDeadline = clock.now.advanced(by: .seconds(60))
        while clock.now < joinDeadline, consumer.assignment.isEmpty {
            try await Task.sleep(for: .milliseconds(50))
        }
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline, !complete(collected.withLock { $0 }) {
            try await Task.sleep(for: .milliseconds(50))
        }
        try await Task.sleep(for: quietPeriod)
        try await consumer.close()
        reader.cancel()
        return collected.withLock { $0 }
    }
}

/// Runs a pipeline runner in the background until `body` returns, then shuts it down gracefully.
func withRunning<Result>(
    _ runner: PipelineRunner,
    _ body: () async throws -> Result
) async throws -> Result {
    let task = Task { try await runner.run() }
    do {
        let result = try await body()
        runner.consumer.stopFetching()
        try await task.value
        return result
    } catch {
        runner.consumer.stopFetching()
        _ = try? await task.value
        throw error
    }
}

/// Polls until `condition` holds or fails the test after `timeout`.
func eventually(
    _ what: String, timeout: Duration = .seconds(30), _ condition: () async throws -> Bool
) async throws {
    do {
        try await TestHelpers.eventually(what, timeout: timeout, condition)
    } catch let timeout as WaitTimeout {
        Issue.record("\(timeout)")
        throw CancellationError()
    }
}

/// Thread-safe record of what handlers saw.
final class Calls: Sendable {
    private let entries = Mutex<[(id: String, attempt: Int, time: ContinuousClock.Instant)]>([])
    func record(_ context: EventContext) {
        entries.withLock { $0.append((context.envelope.id, context.attempt, ContinuousClock.now)) }
    }
    var attempts: [Int] { entries.withLock { $0.map(\.attempt) } }
    var times: [ContinuousClock.Instant] { entries.withLock { $0.map(\.time) } }
    var count: Int { entries.withLock { $0.count } }
}

/// Runs `body` with a throwaway PostgreSQL server and the connection string of a fresh schema on it; drops the schema
/// and stops the server afterwards, also when `body` throws.
/// - Parameters:
///   - prefix: The schema name's start (the rest is random).
///   - body: The test, given the server and the schema's connection string.
func withPostgresSchema<Result>(
    _ prefix: String, _ body: (_ server: TestPostgres, _ url: String) async throws -> Result
) async throws -> Result {
    let server = try await TestPostgres.start()
    let schema = "\(prefix)_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
    do {
        _ = try await server.adminQuery("CREATE SCHEMA \(schema)")
        let result = try await body(server, try server.url(searchPath: schema))
        _ = try? await server.adminQuery("DROP SCHEMA \(schema) CASCADE")
        await server.stop()
        return result
    } catch {
        _ = try? await server.adminQuery("DROP SCHEMA \(schema) CASCADE")
        await server.stop()
        throw error
    }
}
