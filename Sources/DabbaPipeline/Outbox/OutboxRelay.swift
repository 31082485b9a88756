import DabbaEvents
import DabbaInbox
import DabbaKafka
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Publishes a consumer group's transactional outbox: the events handlers emitted, written to the inbox database in
/// their event's transaction, go to Kafka in sequence order and are deleted once the broker acknowledged them.
///
/// - Order: rows are read oldest first and handed to an idempotent producer in that order, so records of one
///   partition keep it; a row is never skipped. The producer never gives up on a row (no delivery timeout): while
///   the broker is unreachable rows wait, in librdkafka and in the outbox, and go out when it is back.
/// - Nothing lost: a row leaves the outbox only after its acknowledgement. A process that dies keeps its rows.
/// - None twice: a crash between "acknowledged" and "deleted" leaves published rows in the outbox. The relay keeps,
///   per partition it writes to, a read-back position (stored with each delete, before every record it has not
///   deleted). When it starts, takes over, or after a failed round, it reads the partitions from those positions to
///   their end and deletes the rows whose CloudEvents id (`ce_id`) is already there before publishing anything.
/// - One publisher per group: with a store shared by several instances (PostgreSQL) only the instance holding the
///   store's relay lock publishes (``DabbaInbox/OutboxStore/acquireOutboxRelay(group:)``); the others stand by.
///
/// It is a swift-service-lifecycle `Service` (``run()``); a ``PipelineRunner`` in outbox mode runs its own relay and
/// stops it after its last batch, so use this type directly only for a relay without a pipeline.
public final class OutboxRelay: Service, Sendable {
    /// The relay's settings.
    public let configuration: OutboxConfiguration
    /// The group whose outbox is published.
    public let group: String
    let store: any OutboxStore
    let producer: KafkaProducer
    let reader: KafkaTailReader
    let metrics: PipelineMetrics
    let logger: Logger
    private let signal = WakeSignal()
    private let state = Mutex(State())

    private struct State {
        var holdsRelay = false
        var needsReadBack = true
        var knownTopics: Set<String> = []
        var status = OutboxStatus(depth: 0, oldestCreatedAtMilliseconds: nil)
        var lastAcknowledgement: ContinuousClock.Instant?
        var lastError: String?
        var stopRequested = false
        var drainDeadline: ContinuousClock.Instant?
    }

    private enum Round {
        case published, idle, standby
    }

    /// Creates the relay and its producer (idempotent, `acks=all`, no delivery timeout) and read-back client.
    /// - Parameters:
    ///   - store: The inbox store that keeps the outbox.
    ///   - group: The consumer group whose rows to publish.
    ///   - client: Connection settings.
    ///   - producerProperties: librdkafka producer properties beyond the defaults (the pipeline's escape hatch).
    ///   - configuration: The outbox settings.
    ///   - metrics: Where the outbox depth, the oldest row's age and published counts go: by default the
    ///     bootstrapped swift-metrics backend, with the group as the `service` label.
    ///   - logger: The service's logger.
    /// - Throws: ``KafkaError`` for invalid client settings.
    public init(
        store: any OutboxStore,
        group: String,
        client: ClientConfiguration,
        producerProperties: [String: String] = [:],
        configuration: OutboxConfiguration,
        metrics: PipelineMetrics? = nil,
        logger: Logger = Logger(label: "dabba.outbox")
    ) throws {
        var producerConfiguration = ProducerConfiguration(client: client)
        producerConfiguration.client.properties.merge(producerProperties) { $1 }
        // A timed-out row could be followed by later rows of its partition that were delivered: order would break.
        // librdkafka's largest timeout (about 24 days) stands for "never": a row waits for the broker instead.
        producerConfiguration.messageTimeout = .milliseconds(Int64(Int32.max))
        producerConfiguration.idempotent = true
        producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        reader = try KafkaTailReader(configuration: client, logger: logger)
        self.store = store
        self.group = group
        self.configuration = configuration
        self.metrics = metrics ?? PipelineMetrics(service: group)
        self.logger = logger
    }

    // MARK: - Lifecycle

    /// Relays until graceful shutdown, then publishes what is left for up to ``shutdownDrain`` and stops; rows still
    /// unsent stay in the outbox for the next start.
    public func run() async throws {
        await withGracefulShutdownHandler {
            await self.relayUntilStopped()
        } onGracefulShutdown: {
            self.stop(drainingFor: Self.shutdownDrain)
        }
    }

    /// How long ``run()`` keeps publishing after a graceful shutdown began.
    public static let shutdownDrain: Duration = .seconds(30)

    /// Wakes the relay: a batch committed rows to the outbox.
    public func wake() { signal.notify() }

    /// Asks the relay to publish what is in the outbox for at most `drainTimeout` and then stop.
    /// - Parameter drainTimeout: How long it may keep publishing.
    public func stop(drainingFor drainTimeout: Duration) {
        state.withLock { state in
            state.stopRequested = true
            state.drainDeadline = ContinuousClock.now.advanced(by: drainTimeout)
        }
        signal.notify()
    }

    /// How many rows wait and how old the oldest is (refreshed about once a second while the relay runs).
    public var status: OutboxStatus { state.withLock { $0.status } }

    /// Why the relay counts as stalled, or nil: the oldest unsent event is older than
    /// ``OutboxConfiguration/stallThreshold`` and nothing was acknowledged for as long.
    public var stall: String? {
        let threshold = configuration.stallThreshold
        return state.withLock { state -> String? in
            guard let oldest = state.status.oldestCreatedAtMilliseconds else { return nil }
            let age = Self.nowMilliseconds() - oldest
            guard age > threshold.totalMilliseconds else { return nil }
            if let last = state.lastAcknowledgement, ContinuousClock.now - last < threshold { return nil }
            var reason = "the outbox relay is stalled: the oldest unsent event is \(age / 1000) s old"
            if !state.holdsRelay { reason += " (this instance stands by; another one holds the relay)" }
            if let error = state.lastError { reason += "; last error: \(error)" }
            return reason
        }
    }

    /// Relays until ``stop(drainingFor:)`` (and the drain) or cancellation, then closes the producer.
    func relayUntilStopped() async {
        await withTaskGroup(of: Void.self) { group in
            // Pending acknowledgements cannot outlast the drain: closing the producer fails what is still in flight.
            group.addTask { await self.closeProducerAfterDrainDeadline() }
            // Apart from the rounds, which wait as long as the broker is away: the gauges and the stall check
            // must see a growing outbox then.
            group.addTask {
                while !Task.isCancelled {
                    await self.refreshStatus()
                    try? await Task.sleep(for: .seconds(1))
                }
            }
            await self.relayLoop()
            group.cancelAll()
        }
        try? await producer.close(timeout: .seconds(1))
        await refreshStatus()
    }

    private func closeProducerAfterDrainDeadline() async {
        while !Task.isCancelled {
            if let deadline = state.withLock({ $0.drainDeadline }) {
                try? await Task.sleep(until: deadline, clock: .continuous)
                if !Task.isCancelled { try? await producer.close(timeout: .zero) }
                return
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    private var pastDrainDeadline: Bool {
        state.withLock { state in state.drainDeadline.map { ContinuousClock.now >= $0 } ?? false }
    }

    private var stopRequested: Bool { state.withLock { $0.stopRequested } }

    private func relayLoop() async {
        var failures = 0
        while !Task.isCancelled {
            let round: Round
            do {
                round = try await relayRound()
                failures = 0
            } catch {
                failures += 1
                state.withLock { state in
                    state.lastError = "\(error)"
                    // The round may have published rows it could not delete: look before publishing again.
                    state.needsReadBack = true
                }
                logger.warning("outbox relay round failed (\(failures) in a row), retrying: \(error)")
                if stopRequested && pastDrainDeadline { return }
                try? await Task.sleep(for: backoff(after: failures))
                continue
            }
            if round == .idle { await refreshStatus() }
            switch round {
            case .published:
                if stopRequested && pastDrainDeadline { return }
            case .idle, .standby:
                if stopRequested { return }
                await signal.wait(upTo: configuration.pollInterval)
            }
        }
    }

    private func backoff(after failures: Int) -> Duration {
        let milliseconds = min(100 * (1 << min(failures, 10)), configuration.maxBackoff.totalMilliseconds)
        return .milliseconds(milliseconds)
    }

    // MARK: - One round

    private func relayRound() async throws -> Round {
        guard try await store.acquireOutboxRelay(group: group) else {
            state.withLock { state in
                if state.holdsRelay { logger.notice("outbox relay of \(group) lost its lock: standing by") }
                state.holdsRelay = false
                state.needsReadBack = true
            }
            return .standby
        }
        let (held, needsReadBack) = state.withLock { state in
            defer { state.holdsRelay = true }
            return (state.holdsRelay, state.needsReadBack)
        }
        if !held { logger.info("outbox relay of \(group) holds the relay lock: publishing") }
        if needsReadBack {
            try await dropAlreadyPublished()
            state.withLock { $0.needsReadBack = false }
        }
        let records = try await store.oldestOutboxRecords(group: group, limit: max(configuration.relayBatchSize, 1))
        guard !records.isEmpty else { return .idle }
        try await recordPositions(for: records)
        OutboxCrashPoint.beforePublish.crashIfConfigured(records: records.count)
        let outcome = await publish(records)
        OutboxCrashPoint.afterPublish.crashIfConfigured(records: records.count)
        // Positions move only when the whole round was acknowledged: a failed row may still have been written (a
        // purge at shutdown fails requests already sent), and the next read-back must start before it.
        try await store.deleteOutboxRecords(
            group: group, sequences: outcome.acknowledged, advancing: outcome.failure == nil ? outcome.positions : []
        )
        if !outcome.acknowledged.isEmpty {
            metrics.outboxPublished.increment(by: outcome.acknowledged.count)
            state.withLock { $0.lastAcknowledgement = .now }
        }
        if let failure = outcome.failure { throw failure }
        state.withLock { $0.lastError = nil }
        return .published
    }

    private struct PublishOutcome {
        var acknowledged: [Int64] = []
        var positions: [OutboxPosition] = []
        var failure: (any Error)?
    }

    /// Hands the records to the producer in sequence order and waits for every acknowledgement.
    private func publish(_ records: [OutboxRecord]) async -> PublishOutcome {
        var outcome = PublishOutcome()
        var pending: [(sequence: Int64, delivery: PendingDelivery)] = []
        pending.reserveCapacity(records.count)
        for record in records {
            let message = ProducerMessage(
                topic: record.topic, key: record.key, value: record.value,
                headers: record.headers.map { KafkaHeader(name: $0.name, value: $0.value) },
                partition: record.partition, timestampMilliseconds: record.createdAtMilliseconds
            )
            do {
                pending.append((record.sequence, try await producer.submit(message)))
            } catch {
                // Later rows must not overtake this one: stop handing rows over; it is retried next round.
                outcome.failure = error
                break
            }
        }
        var ends: [TopicPartition: Int64] = [:]
        let half = max(1, pending.count / 2)
        for (index, item) in pending.enumerated() {
            if index == half { OutboxCrashPoint.midPublish.crashIfConfigured(records: records.count) }
            do {
                let report = try await item.delivery.report()
                outcome.acknowledged.append(item.sequence)
                let partition = TopicPartition(topic: report.topic, partition: report.partition)
                ends[partition] = max(ends[partition] ?? 0, report.offset + 1)
            } catch {
                if outcome.failure == nil { outcome.failure = error }
            }
        }
        outcome.positions = ends.map {
            OutboxPosition(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value)
        }
        return outcome
    }

    /// Before the first write to a topic, stores where its partitions end now: the read-back starts there.
    private func recordPositions(for records: [OutboxRecord]) async throws {
        let known = state.withLock { $0.knownTopics }
        for topic in Set(records.map(\.topic)).subtracting(known).sorted() {
            let ends = try await reader.partitionEnds(topic: topic)
            // A missing topic has no partitions to remember; publishing to it fails and is retried.
            guard !ends.isEmpty else { continue }
            try await store.recordOutboxPositions(
                group: group, ends.map { OutboxPosition(topic: $0.topic, partition: $0.partition, offset: $0.offset) }
            )
            state.withLock { _ = $0.knownTopics.insert(topic) }
        }
    }

    /// Deletes the oldest rows whose events are already in their topics (published before a crash, a lost lock or
    /// a failed delete). Rows that may have been published are among the oldest: a round takes the oldest rows.
    private func dropAlreadyPublished() async throws {
        let positions = try await store.outboxPositions(group: group)
        state.withLock { $0.knownTopics = Set(positions.map(\.topic)) }
        let candidates = try await store.oldestOutboxRecords(
            group: group, limit: 2 * max(configuration.relayBatchSize, 1)
        )
        let topics = Set(candidates.map(\.topic))
        let starts = positions.filter { topics.contains($0.topic) }
        guard !candidates.isEmpty, !starts.isEmpty else { return }
        let tail = starts.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.offset) }
        // Binary mode carries the id in a header (read without copying records); structured mode in the value.
        let structured = candidates.contains { $0.header(Self.eventIDHeader) == nil }
        let published: Set<String>
        if structured {
            let records = try await reader.messages(from: tail, timeout: configuration.readBackTimeout)
            published = Set(records.compactMap { Self.eventID(headers: $0.headers, value: $0.value) })
        } else {
            published = try await reader.headerValues(
                named: Self.eventIDHeader, from: tail, timeout: configuration.readBackTimeout
            )
        }
        let already = candidates.filter { record in
            Self.eventID(
                headers: record.headers.map { KafkaHeader(name: $0.name, value: $0.value) }, value: record.value
            ).map(published.contains) ?? false
        }
        guard !already.isEmpty else { return }
        logger.notice("\(already.count) outbox rows of \(group) were published before a restart: not sent again")
        try await store.deleteOutboxRecords(group: group, sequences: already.map(\.sequence), advancing: [])
    }

    // MARK: - Status

    private func refreshStatus() async {
        do {
            let status = try await store.outboxStatus(group: group)
            state.withLock { $0.status = status }
            metrics.outboxDepth.set(status.depth)
        } catch {
            logger.warning("could not read the outbox status: \(error)")
        }
        updateAgeGauge()
    }

    /// Sets the oldest row's age gauge from the last status.
    func updateAgeGauge() {
        let oldest = state.withLock { $0.status.oldestCreatedAtMilliseconds }
        metrics.outboxOldestAge.set(oldest.map { Double(max(0, Self.nowMilliseconds() - $0)) / 1000 } ?? 0)
    }

    /// The CloudEvents id header (binary content mode), by which published rows are recognised.
    static let eventIDHeader = "ce_id"

    /// A record's event id in either content mode.
    static func eventID(headers: [KafkaHeader], value: [UInt8]?) -> String? {
        headers.string(named: eventIDHeader) ?? EventDecoder.envelope(headers: headers, value: value)?.id
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}
