import DabbaCatalog
import DabbaEvents
import DabbaKafka
import Foundation
import Logging
import Synchronization

/// A Kafka cluster of its own for one test: the in-process ``EmbeddedBroker`` with the catalog's topics (main,
/// retry and dead-letter) created, a producer, and readers that wait for records.
///
/// Create it with ``withEmbeddedKafka(catalog:brokers:logger:_:)``, which tears everything down when the body
/// returns or throws. Every fixture is a separate cluster, so tests running in parallel never see each other's
/// topics, consumer groups, offsets or transactional ids, while keeping the catalog's real topic names (which the
/// pipeline runtime derives retry and dead-letter topics from).
public final class EmbeddedKafka: Sendable {
    /// The cluster.
    public let broker: EmbeddedBroker
    /// The catalog whose topics were created, if one was given.
    public let catalog: Catalog?
    /// The logger for the fixture's clients.
    public let logger: Logger
    private let recorders = Mutex<[String: TopicRecorder]>([:])
    private let producerState = Mutex<KafkaProducer?>(nil)

    init(catalog: Catalog?, brokers: Int, logger: Logger) async throws {
        self.broker = try EmbeddedBroker(brokers: brokers, logger: logger)
        self.catalog = catalog
        self.logger = logger
        for topic in catalog?.allTopics ?? [] {
            try await broker.createTopic(
                topic.name, partitions: Int32(topic.partitions), replicationFactor: Int32(min(topic.replicas, brokers))
            )
        }
    }

    /// `host:port` of the cluster, for clients and executables under test.
    public var bootstrapServers: String { broker.bootstrapServers }

    /// Creates a topic (for tests that need one outside the catalog; use ``TestHelpers/uniqueName(_:)``).
    /// - Parameters:
    ///   - name: The topic name.
    ///   - partitions: The partition count.
    /// - Throws: ``KafkaError`` if it cannot be created.
    public func createTopic(_ name: String, partitions: Int32 = 1) async throws {
        try await broker.createTopic(name, partitions: partitions)
    }

    /// The fixture's producer (idempotent, acks=all), created on first use and closed at teardown.
    /// - Throws: ``KafkaError`` if it cannot be created.
    public func producer() throws -> KafkaProducer {
        try producerState.withLock { producer in
            if let producer { return producer }
            var configuration = ProducerConfiguration(bootstrap: broker.bootstrapServers)
            configuration.linger = .milliseconds(1)
            let created = try KafkaProducer(configuration: configuration, logger: logger)
            producer = created
            return created
        }
    }

    /// An event producer routing event types to the catalog's topics.
    /// - Parameter source: The `ce_source` of the events (default `/test`).
    /// - Throws: ``KafkaError`` if the producer cannot be created.
    public func eventProducer(source: String = "/test") throws -> EventProducer {
        EventProducer(
            producer: try producer(), source: source,
            routes: catalog.map { EventRoutes(catalog: $0) } ?? EventRoutes([:])
        )
    }

    /// Publishes an event to its catalog topic, in the CloudEvents binary envelope, and waits for the broker's
    /// acknowledgement.
    /// - Parameters:
    ///   - event: The event.
    ///   - metadata: Id, key or topic overrides, extra headers.
    ///   - source: The `ce_source`.
    /// - Returns: Where it was written.
    /// - Throws: What the producer throws (for example an event type the catalog does not route).
    @discardableResult
    public func send<E: Event>(_ event: E, metadata: EventMetadata = EventMetadata(), source: String = "/test")
        async throws
        -> DeliveryReport
    {
        try await eventProducer(source: source).send(event, metadata: metadata)
    }

    /// Every record read from a topic so far (reading starts at the first call for that topic, from offset 0).
    /// - Parameter topic: The topic.
    /// - Returns: The records, in the order read (per partition: offset order).
    /// - Throws: ``KafkaError`` if the reader cannot be created.
    public func records(on topic: String) throws -> [TestRecord] {
        try recorder(for: topic).records
    }

    /// Waits until a topic holds `count` records matching a condition, then returns them.
    ///
    /// On timeout the error says what was expected and lists what was seen, e.g. `waited 60.0 seconds for 2 records
    /// on payments.payments with ce_type payments.payment.authorized; saw 1 of 3 records: …`.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - count: How many matching records to wait for (more may have arrived; all are returned).
    ///   - description: The condition in words, for the failure message.
    ///   - timeout: How long to wait: a deadline, not an assertion about speed.
    ///   - matching: The condition (default: every record).
    /// - Returns: The matching records, in the order read.
    /// - Throws: ``WaitTimeout`` when fewer arrived in time.
    public func waitFor(
        topic: String,
        count: Int,
        description: String? = nil,
        timeout: Duration = .seconds(60),
        matching: @Sendable (TestRecord) -> Bool = { _ in true }
    ) async throws -> [TestRecord] {
        let recorder = try recorder(for: topic)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            let all = recorder.records
            let matched = all.filter(matching)
            if matched.count >= count { return matched }
            guard clock.now < deadline, recorder.failure == nil else {
                var message = "waited \(timeout) for \(count) record\(count == 1 ? "" : "s") on \(topic)"
                if let description { message += " \(description)" }
                message += "; saw \(matched.count) matching of \(all.count) record\(all.count == 1 ? "" : "s")"
                if !all.isEmpty {
                    message += ":\n" + all.prefix(20).map { "  \($0)" }.joined(separator: "\n")
                    if all.count > 20 { message += "\n  … and \(all.count - 20) more" }
                }
                if let failure = recorder.failure { message += "\n(the reader stopped: \(failure))" }
                throw WaitTimeout(message)
            }
            try await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Waits for `count` events of a type on its catalog topic (or `topic`), decoded.
    /// - Parameters:
    ///   - type: The event type.
    ///   - count: How many to wait for.
    ///   - topic: The topic; by default the catalog's topic for the type.
    ///   - timeout: How long to wait.
    ///   - matching: An extra condition on the decoded event.
    /// - Returns: The events with their records.
    /// - Throws: ``WaitTimeout``; ``EmbeddedKafkaError`` when the topic is unknown; a decoding error.
    public func waitFor<E: Event>(
        _ type: E.Type,
        count: Int = 1,
        on topic: String? = nil,
        timeout: Duration = .seconds(60),
        matching: @escaping @Sendable (E) -> Bool = { _ in true }
    ) async throws -> [TestEvent<E>] {
        guard let topic = topic ?? catalog?.event(named: E.eventType)?.topic else {
            throw EmbeddedKafkaError("no topic for \(E.eventType): the fixture has no catalog declaring it; pass on:")
        }
        let records = try await waitFor(
            topic: topic, count: count, description: "with ce_type \(E.eventType)", timeout: timeout
        ) { record in
            guard record.eventType == E.eventType, let event = try? record.decode(E.self) else { return false }
            return matching(event)
        }
        return try records.map { TestEvent(record: $0, event: try $0.decode(E.self)) }
    }

    private func recorder(for topic: String) throws -> TopicRecorder {
        try recorders.withLock { recorders in
            if let recorder = recorders[topic] { return recorder }
            let recorder = try TopicRecorder(topic: topic, bootstrapServers: broker.bootstrapServers, logger: logger)
            recorders[topic] = recorder
            return recorder
        }
    }

    /// Closes the readers and the producer, then stops the cluster and waits until its ports are closed.
    func tearDown() async {
        let readers = recorders.withLock { recorders in
            defer { recorders = [:] }
            return Array(recorders.values)
        }
        for reader in readers { await reader.stop() }
        let producer = producerState.withLock { producer in
            defer { producer = nil }
            return producer
        }
        try? await producer?.close(timeout: .seconds(5))
        await broker.shutDown()
    }
}

/// A misuse of the test fixture (for example waiting for an event type no topic carries).
public struct EmbeddedKafkaError: Error, Sendable, CustomStringConvertible {
    /// What was wrong.
    public var message: String
    /// Creates the error.
    /// - Parameter message: What was wrong.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// Runs `body` with a Kafka cluster of its own, the catalog's topics created, and tears it all down afterwards —
/// also when `body` throws.
///
/// ```swift
/// @Test func authorizes() async throws {
///     try await withEmbeddedKafka(catalog: try Catalog.load(directory: topicsURL)) { kafka in
///         try await kafka.send(PaymentRequested(…))
///         let requested = try await kafka.waitFor(PaymentRequested.self)
///         #expect(requested.first?.record.key == "ord_7731")
///     }
/// }
/// ```
/// - Parameters:
///   - catalog: The catalog whose topics (with their retry and dead-letter topics) to create, if any.
///   - brokers: How many brokers the cluster has.
///   - logger: The logger for the cluster and clients (quiet by default).
///   - body: The test.
/// - Returns: What `body` returns.
/// - Throws: What `body` throws (after teardown), or a ``KafkaError`` if the cluster cannot start.
public func withEmbeddedKafka<Result>(
    catalog: Catalog? = nil,
    brokers: Int = 1,
    logger: Logger = TestHelpers.quietLogger("dabba.embedded-kafka"),
    _ body: (EmbeddedKafka) async throws -> Result
) async throws -> Result {
    let kafka = try await EmbeddedKafka(catalog: catalog, brokers: brokers, logger: logger)
    do {
        let result = try await body(kafka)
        await kafka.tearDown()
        return result
    } catch {
        await kafka.tearDown()
        throw error
    }
}
