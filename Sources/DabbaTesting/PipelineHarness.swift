import DabbaCatalog
import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import Foundation
import Logging

/// A pipeline running in-process against an ``EmbeddedKafka`` fixture, through the real ``PipelineRunner``: events
/// are consumed from the catalog's topics, retried through its retry tiers, dead-lettered, recorded in the inbox
/// and emitted exactly as in production.
///
/// Create it with ``EmbeddedKafka/withPipeline(_:inbox:retryDelay:migrations:configure:_:)``.
public final class PipelineHarness: Sendable {
    /// The fixture the pipeline runs against.
    public let kafka: EmbeddedKafka
    /// The pipeline.
    public let pipeline: Pipeline
    /// The topics the pipeline reads and writes (retry delays possibly shortened).
    public let topology: PipelineTopology
    /// The runner.
    public let runner: PipelineRunner
    /// The inbox, unless the harness runs without one.
    public let inbox: (any InboxStore)?

    init(
        kafka: EmbeddedKafka, pipeline: Pipeline, topology: PipelineTopology, runner: PipelineRunner,
        inbox: (any InboxStore)?
    ) {
        self.kafka = kafka
        self.pipeline = pipeline
        self.topology = topology
        self.runner = runner
        self.inbox = inbox
    }

    /// Publishes an event to its catalog topic for the pipeline to handle.
    /// - Parameters:
    ///   - event: The event.
    ///   - metadata: Id, key or topic overrides, extra headers.
    /// - Returns: Where it was written.
    /// - Throws: What the producer throws.
    @discardableResult
    public func send<E: Event>(_ event: E, metadata: EventMetadata = EventMetadata()) async throws -> DeliveryReport {
        try await kafka.send(event, metadata: metadata)
    }

    /// Waits for events the pipeline emitted (or any producer wrote) of a type on its catalog topic.
    /// - Parameters:
    ///   - type: The event type.
    ///   - count: How many to wait for.
    ///   - timeout: How long to wait.
    ///   - matching: An extra condition.
    /// - Returns: The events with their records (key, partition, headers).
    /// - Throws: ``WaitTimeout`` naming what was expected and seen.
    public func waitForEmitted<E: Event>(
        _ type: E.Type, count: Int = 1, timeout: Duration = .seconds(60),
        matching: @escaping @Sendable (E) -> Bool = { _ in true }
    ) async throws -> [TestEvent<E>] {
        try await kafka.waitFor(type, count: count, timeout: timeout, matching: matching)
    }

    /// Waits for records on the dead-letter topic of a main topic.
    /// - Parameters:
    ///   - count: How many to wait for.
    ///   - topic: The main topic (default: the pipeline's only main topic).
    ///   - timeout: How long to wait.
    /// - Returns: The dead-lettered records, with Dabba's diagnostic headers (``RetryHeaders``).
    /// - Throws: ``WaitTimeout``; ``EmbeddedKafkaError`` when the topic has no dead-letter topic.
    public func waitForDeadLetters(count: Int = 1, of topic: String? = nil, timeout: Duration = .seconds(60))
        async throws
        -> [TestRecord]
    {
        let main = try mainTopic(topic)
        guard let deadLetter = topology.deadLetterTopics[main] else {
            throw EmbeddedKafkaError("\(main) has no dead-letter topic for group \(pipeline.groupID)")
        }
        return try await kafka.waitFor(topic: deadLetter, count: count, description: "(dead letters)", timeout: timeout)
    }

    /// Waits for records on a retry tier of a main topic.
    /// - Parameters:
    ///   - tier: The tier, from 1.
    ///   - count: How many to wait for.
    ///   - topic: The main topic (default: the pipeline's only main topic).
    ///   - timeout: How long to wait.
    /// - Returns: The records written to the tier.
    /// - Throws: ``WaitTimeout``; ``EmbeddedKafkaError`` when there is no such tier.
    public func waitForRetries(tier: Int = 1, count: Int = 1, of topic: String? = nil, timeout: Duration = .seconds(60))
        async throws -> [TestRecord]
    {
        let main = try mainTopic(topic)
        let tiers = topology.retryTiers[main] ?? []
        guard tiers.indices.contains(tier - 1) else {
            throw EmbeddedKafkaError(
                "\(main) has \(tiers.count) retry tiers for group \(pipeline.groupID), not \(tier)")
        }
        return try await kafka.waitFor(
            topic: tiers[tier - 1].topic, count: count, description: "(retry tier \(tier))", timeout: timeout)
    }

    /// Whether the inbox records an event as processed by the pipeline's group.
    /// - Parameter eventID: The event id (`ce_id`).
    /// - Returns: Whether it is recorded; `false` without an inbox.
    /// - Throws: ``InboxError``.
    public func inboxContains(eventID: String) async throws -> Bool {
        try await inbox?.contains(group: pipeline.groupID, eventID: eventID) ?? false
    }

    /// Waits until the inbox records an event as processed (the handler's writes committed with it).
    /// - Parameters:
    ///   - eventID: The event id.
    ///   - timeout: How long to wait.
    /// - Throws: ``WaitTimeout``.
    public func waitUntilProcessed(eventID: String, timeout: Duration = .seconds(60)) async throws {
        try await TestHelpers.eventually(
            "the inbox of group \(pipeline.groupID) records event \(eventID)", timeout: timeout
        ) {
            try await inboxContains(eventID: eventID)
        }
    }

    /// Runs a query on the inbox database (the handler's own tables live there too).
    /// - Parameters:
    ///   - sql: The query.
    ///   - arguments: Its arguments.
    /// - Returns: The rows.
    /// - Throws: ``EmbeddedKafkaError`` without an inbox; ``InboxError``.
    public func query(_ sql: String, _ arguments: [SQLValue] = []) async throws -> [[SQLValue]] {
        guard let inbox else { throw EmbeddedKafkaError("the harness runs without an inbox") }
        return try await inbox.withConnection { database in try database.query(sql, arguments) }
    }

    private func mainTopic(_ topic: String?) throws -> String {
        if let topic { return topic }
        guard topology.mainTopics.count == 1, let only = topology.mainTopics.first else {
            throw EmbeddedKafkaError(
                "the pipeline reads \(topology.mainTopics.joined(separator: ", ")): name the topic")
        }
        return only
    }
}

/// Where a harnessed pipeline keeps its inbox.
public struct HarnessInbox: Sendable {
    let make: @Sendable (_ directory: URL) throws -> (any InboxStore)?

    /// A SQLite inbox in a temporary file, deleted at teardown (the default).
    public static let sqlite = HarnessInbox { directory in
        try SQLiteInbox(path: directory.appendingPathComponent("inbox.sqlite").path)
    }

    /// No inbox (at-least-once handling, no `context.database`).
    public static let none = HarnessInbox { _ in nil }

    /// A store of your own (for example a PostgreSQL inbox on a test database).
    /// - Parameter store: The store.
    public static func custom(_ store: any InboxStore) -> HarnessInbox {
        HarnessInbox { _ in store }
    }
}

extension EmbeddedKafka {
    /// Runs a pipeline against this cluster while `body` runs, then stops it gracefully (finishing its batch and
    /// committing) — also when `body` throws.
    ///
    /// The topology is the catalog's for the pipeline's group; the retry tiers keep their topics, but wait
    /// `retryDelay` instead of the catalog's delays, so retry tests take milliseconds rather than minutes.
    /// - Parameters:
    ///   - pipeline: The handlers.
    ///   - inbox: Where the inbox lives (default: a temporary SQLite file).
    ///   - retryDelay: The delay of every retry tier (`nil`: the catalog's delays).
    ///   - migrations: Schema statements for the handlers' own tables.
    ///   - configure: Adjusts the runtime settings (in-place retries, concurrency, exactly-once, …).
    ///   - body: The test.
    /// - Returns: What `body` returns.
    /// - Throws: ``EmbeddedKafkaError`` without a catalog; what `body` throws; what the runner throws when it
    ///   fails; ``PipelineRunnerFailure`` (carrying both errors) when the runner failed and `body` threw too, for
    ///   example a ``WaitTimeout`` for an event the stopped runner never emitted.
    public func withPipeline<Result>(
        _ pipeline: Pipeline,
        inbox: HarnessInbox = .sqlite,
        retryDelay: Duration? = .milliseconds(200),
        migrations: [String] = [],
        configure: (inout PipelineConfiguration) -> Void = { _ in },
        _ body: (PipelineHarness) async throws -> Result
    ) async throws -> Result {
        guard let catalog else {
            throw EmbeddedKafkaError("withPipeline needs the fixture's catalog: withEmbeddedKafka(catalog:)")
        }
        var topology = try PipelineTopology(catalog: catalog, groupID: pipeline.groupID)
        if let retryDelay {
            topology.retryTiers = topology.retryTiers.mapValues { tiers in
                tiers.map { RetryTier(topic: $0.topic, delay: retryDelay) }
            }
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            TestHelpers.uniqueName("dabba-harness"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try inbox.make(directory)
        if let store, !migrations.isEmpty { try await store.migrate(migrations) }

        var configuration = PipelineConfiguration(client: ClientConfiguration(bootstrap: bootstrapServers))
        configuration.retry = RetryConfiguration(inPlaceAttempts: 2, initialBackoff: .milliseconds(10))
        configuration.consumerProperties = [
            "topic.metadata.refresh.interval.ms": "1000", "session.timeout.ms": "6000", "heartbeat.interval.ms": "500",
        ]
        configure(&configuration)
        let schemas = Dictionary(
            catalog.events.map { ($0.type, $0.payloadSchema) }, uniquingKeysWith: { first, _ in first })
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: topology, configuration: configuration, routes: EventRoutes(catalog: catalog),
            inbox: store, schemas: schemas, logger: logger
        )
        let harness = PipelineHarness(kafka: self, pipeline: pipeline, topology: topology, runner: runner, inbox: store)
        // The runner is a child task of this call: it cannot outlive the test, and its failure is never dropped.
        return try await withThrowingTaskGroup(of: Void.self, returning: Result.self) { group in
            group.addTask { try await runner.run() }
            let outcome: Swift.Result<Result, any Error>
            do {
                outcome = .success(try await body(harness))
            } catch {
                outcome = .failure(error)
            }
            runner.consumer.stopFetching()
            var runnerError: (any Error)?
            do {
                try await group.next()
            } catch {
                runnerError = error
            }
            switch (outcome, runnerError) {
            case (.success(let result), nil):
                return result
            case (.success, let runnerError?):
                throw runnerError
            case (.failure(let testError), nil):
                throw testError
            case (.failure(let testError), let runnerError?):
                // The body's failure (often a wait that timed out) is usually a consequence of the runner's.
                throw PipelineRunnerFailure(runnerError: runnerError, testError: testError)
            }
        }
    }
}

/// The pipeline runner of ``EmbeddedKafka/withPipeline(_:inbox:retryDelay:migrations:configure:_:)`` stopped with an
/// error, and the test body failed too: the body's error (say, a ``WaitTimeout``) is then usually a consequence of
/// the runner's, so both are reported, the runner's first.
public struct PipelineRunnerFailure: Error, Sendable, CustomStringConvertible {
    /// What stopped the runner.
    public var runnerError: any Error
    /// What the test body threw.
    public var testError: any Error

    /// Creates the error.
    /// - Parameters:
    ///   - runnerError: What stopped the runner.
    ///   - testError: What the test body threw.
    public init(runnerError: any Error, testError: any Error) {
        self.runnerError = runnerError
        self.testError = testError
    }

    /// Both errors, the runner's first.
    public var description: String {
        "the pipeline runner failed: \(runnerError)\nand then the test failed: \(testError)"
    }
}
