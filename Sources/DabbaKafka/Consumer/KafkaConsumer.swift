internal import CRDKafka
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// A consumer-group member with at-least-once delivery by construction.
///
/// Messages arrive on ``messages``. An offset is committed only after the application calls
/// ``markProcessed(_:)`` for that message; stored offsets are committed every
/// ``ConsumerConfiguration/commitInterval``, when partitions are revoked, and on ``close(timeout:)``. A dedicated thread
/// fetches in batches into a bounded buffer, so a slow handler slows fetching instead of growing memory, and no
/// blocking librdkafka call runs on Swift's cooperative pool.
///
/// The consumer is a swift-service-lifecycle `Service`: on graceful shutdown it stops fetching, waits for the
/// message being handled, commits processed offsets and leaves the group.
public final class KafkaConsumer: Service, Sendable {
    let client: RDKafkaClient
    let callbacks: ConsumerCallbacks
    private let channel: BatchChannel<MessageBatch>
    private let fetchLoop: FetchLoop
    private let pollThread: PollThread
    private let closing = Atomic<Bool>(false)
    private let fetchingStopped = Atomic<Bool>(false)
    private let closeResult = Mutex<CloseState>(.open)
    let cursor = ReadCursor()
    /// True between handing a message to the application and its next request for one.
    let inHandler = Atomic<Bool>(false)
    private let configuration: ConsumerConfiguration
    let logger: Logger
    /// Rebalances and errors. Iterate from one task; old events are dropped if it is not consumed.
    public let events: AsyncStream<ConsumerEvent>

    private enum CloseState {
        case open
        case closing([CheckedContinuation<Void, Never>])
        case closed
    }

    /// Creates a consumer and starts its fetch thread. Call ``subscribe(topics:)`` to join the group.
    /// - Parameters:
    ///   - configuration: Consumer-group settings.
    ///   - logger: Where librdkafka's log lines and consumer errors go.
    ///   - onRevoke: Rebalance safety. Called on the fetch thread when partitions are revoked, before librdkafka
    ///     commits their stored offsets: return true once the application's in-flight work of those partitions is
    ///     finished and marked. It is called again every 2 ms (seeks are served meanwhile) until it returns true or
    ///     ``ConsumerConfiguration/revocationTimeout`` passes, so work in hand is committed instead of redelivered.
    ///   - pausedOnAssignment: Called on the fetch thread with each newly assigned set of partitions, right after
    ///     the assignment and before any of them is fetched: the partitions it returns start paused (resume them
    ///     with ``resume(_:)``), the others start fetching. This is how a pause outlives a rebalance.
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` naming a bad property, or `clientCreation`.
    public init(
        configuration: ConsumerConfiguration,
        logger: Logger = Logger(label: "dabba.consumer"),
        onRevoke: (@Sendable ([TopicPartition]) -> Bool)? = nil,
        pausedOnAssignment: (@Sendable ([TopicPartition]) -> [TopicPartition])? = nil
    ) throws {
        let (events, continuation) = AsyncStream<ConsumerEvent>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        let callbacks = ConsumerCallbacks(
            logger: logger, events: continuation, revocationHandler: onRevoke,
            assignmentPauses: pausedOnAssignment, revocationTimeout: configuration.revocationTimeout
        )
        let client = try RDKafkaClient.make(
            kind: .consumer,
            properties: configuration.librdkafkaProperties,
            callbacks: callbacks,
            statistics: configuration.client.statistics
        ) { rdConfiguration in
            rd_kafka_conf_set_rebalance_cb(rdConfiguration, rebalanceCallback)
        }
        // Route the main queue (errors, logs, rebalances) into the consumer queue served by consumer_poll.
        rd_kafka_poll_set_consumer(client.pointer)
        self.client = client
        self.callbacks = callbacks
        self.events = events
        self.configuration = configuration
        self.logger = logger
        let channel = BatchChannel<MessageBatch>(capacity: configuration.maxBufferedBatches)
        self.channel = channel
        let loop = FetchLoop(
            client: client, callbacks: callbacks, channel: channel, batchSize: max(1, configuration.batchSize),
            parsesHeaders: configuration.parsesHeadersOnFetch, logger: logger
        )
        self.fetchLoop = loop
        self.pollThread = PollThread(name: "dabba-consumer") { isStopping in
            loop.fetchBatch(isStopping: isStopping)
        } onExit: {
            loop.stopped()
        }
    }

    deinit {
        pollThread.requestStop()
        channel.finish(discardingQueued: true)
        callbacks.events.finish()
    }

    /// Joins the consumer group for these topics (replacing any previous subscription).
    /// - Parameter topics: Topic names; a name starting with `^` is a regular expression.
    /// - Throws: ``KafkaError`` if the subscription is invalid or the consumer is closed.
    public func subscribe(topics: [String]) throws {
        guard !closing.load(ordering: .acquiring) else { throw KafkaError(.closed, "the consumer is closed") }
        let result = TopicPartitionList.with(topics.map { TopicPartitionOffset(topic: $0, partition: -1, offset: 0) }) {
            rd_kafka_subscribe(client.pointer, $0)
        }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(responseCode: result, context: "could not subscribe to \(topics)")
        }
    }

    /// The messages, in order per partition. Iterate from one task. The sequence ends after ``close(timeout:)`` and throws
    /// if the consumer fails fatally.
    public var messages: KafkaMessageSequence { KafkaMessageSequence(consumer: self) }

    /// Records that a message was processed: its offset + 1 will be committed.
    ///
    /// It also tells graceful shutdown that the message in hand is finished.
    /// Offsets must be marked in order per partition (marking a later message covers earlier ones).
    /// - Parameter message: The processed message.
    /// - Returns: False if the partition is no longer assigned to this member (revoked in a rebalance, or the
    ///   consumer closed): the message will then be redelivered to the partition's owner.
    @discardableResult
    public func markProcessed(_ message: KafkaMessage) -> Bool {
        inHandler.store(false, ordering: .releasing)
        let record = message.record
        let timestamp = message.timestampMilliseconds
        if let topicHandle = record.rkt {
            let partition = LagClock.MarkedPartition(
                topicHandle: UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(topicHandle))), partition: record.partition
            )
            lagClock.withLock {
                $0.processed(partition, topic: { message.topic }, offset: record.offset, timestamp: timestamp)
            }
        }
        return rd_kafka_offset_store(record.rkt, record.partition, record.offset) == RD_KAFKA_RESP_ERR_NO_ERROR
    }

    /// Whether a message handed out earlier belongs to a partition that was revoked (or sought) since: such a
    /// message must not be processed; it is redelivered to the partition's owner (or from the sought offset).
    /// - Parameter message: A message from this consumer.
    public func isStale(_ message: KafkaMessage) -> Bool {
        message.batch.epoch != callbacks.epoch.load(ordering: .sequentiallyConsistent)
            && callbacks.isStale(message.batch, message.index)
    }

    /// Records processed positions explicitly: each offset is the next one to read (last processed + 1).
    /// - Parameter offsets: The positions to store.
    /// - Throws: ``KafkaError`` naming the first partition that could not be stored (e.g. not assigned).
    public func markProcessed(upTo offsets: [TopicPartitionOffset]) throws {
        lagClock.withLock { $0.processed(upTo: offsets) }
        try TopicPartitionList.with(offsets) { list in
            let result = rd_kafka_offsets_store(client.pointer, list)
            if let error = TopicPartitionList.firstError(list, context: "could not store offsets") { throw error }
            if result != RD_KAFKA_RESP_ERR_NO_ERROR {
                throw KafkaError(responseCode: result, context: "could not store offsets")
            }
        }
    }

    /// Commits the stored (processed) offsets now and waits for the broker's answer.
    /// - Throws: ``KafkaError`` if the commit fails.
    public func commit() async throws {
        let client = self.client
        let result = try await Blocking.run { rd_kafka_commit(client.pointer, nil, 0).rawValue }
        let code = rd_kafka_resp_err_t(rawValue: result)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR || code == RD_KAFKA_RESP_ERR__NO_OFFSET else {
            throw KafkaError(responseCode: code, context: "commit failed")
        }
    }

    /// Commits explicit offsets (each the next offset to read) and waits for the broker's answer.
    /// - Parameter offsets: The positions to commit.
    /// - Throws: ``KafkaError`` naming the first partition that failed.
    public func commit(_ offsets: [TopicPartitionOffset]) async throws {
        let client = self.client
        try await Blocking.run {
            try TopicPartitionList.with(offsets) { list in
                let result = rd_kafka_commit(client.pointer, list, 0)
                if let error = TopicPartitionList.firstError(list, context: "commit failed") { throw error }
                guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(responseCode: result, context: "commit failed")
                }
            }
        }
    }

    /// The group's committed offsets for these partitions (-1001 where none is committed).
    /// - Parameters:
    ///   - partitions: The partitions to ask about.
    ///   - timeout: How long to wait for the group coordinator.
    /// - Returns: The committed offsets.
    /// - Throws: ``KafkaError`` if the coordinator does not answer.
    public func committedOffsets(
        for partitions: [TopicPartition],
        timeout: Duration = .seconds(10)
    ) async throws -> [TopicPartitionOffset] {
        let client = self.client
        return try await Blocking.run {
            try TopicPartitionList.with(partitions.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: -1001) }) { list in
                let result = rd_kafka_committed(client.pointer, list, Int32(clamping: timeout.milliseconds))
                guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(responseCode: result, context: "could not read committed offsets")
                }
                return TopicPartitionList.read(list)
            }
        }
    }

    /// The partitions currently assigned to this member.
    public var assignment: Set<TopicPartition> { callbacks.assignment.withLock { $0 } }

    /// Whether the consumer can reach its cluster: false from librdkafka's report that every broker is down until
    /// ``recheckBrokers(timeout:)`` gets an answer from one.
    public var brokersReachable: Bool { !callbacks.brokersDown.load(ordering: .acquiring) }

    /// After every broker was reported down, asks the cluster for its brokers (a metadata request, waited for on a
    /// thread of its own, never on Swift's cooperative pool); an answer makes ``brokersReachable`` true again.
    /// - Parameter timeout: How long to wait for an answer.
    /// - Returns: Whether the brokers are reachable.
    public func recheckBrokers(timeout: Duration = .seconds(2)) async -> Bool {
        guard !brokersReachable else { return true }
        let client = self.client
        let answered = (try? await Blocking.run {
            try client.withClusterMetadata(allTopics: false, timeout: timeout, servesCallbacks: false) { _ in true }
        }) ?? false
        if answered { callbacks.brokersDown.store(false, ordering: .releasing) }
        return answered
    }

    /// The last connection error librdkafka reported, if any.
    public var lastConnectionError: KafkaError? { callbacks.lastError.withLock { $0 } }

    /// What the time lag is computed from.
    private let lagClock = Mutex(LagClock())

    /// Consumer lag per assigned partition: records not processed yet (see ``ConsumerLag/messages``), from
    /// librdkafka's cached watermarks (no broker round trip).
    public var lag: [TopicPartition: Int64] { lagReport().mapValues { $0.messages } }

    /// Consumer lag per assigned partition in messages and in time (see ``ConsumerLag``), from librdkafka's cached
    /// watermarks and the records marked processed.
    ///
    /// The time lag is learnt from the calls themselves (when a partition was last seen caught up): call it
    /// regularly, every second or so, as a metrics refresh does.
    public func lagReport() -> [TopicPartition: ConsumerLag] {
        var partitions: [TopicPartition: (low: Int64, high: Int64, position: Int64?)] = [:]
        for partition in assignment {
            var low: Int64 = 0
            var high: Int64 = 0
            guard rd_kafka_get_watermark_offsets(client.pointer, partition.topic, partition.partition, &low, &high)
                == RD_KAFKA_RESP_ERR_NO_ERROR
            else { continue }
            let position = TopicPartitionList.with([TopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: -1001)]) { list in
                _ = rd_kafka_position(client.pointer, list)
                return TopicPartitionList.read(list).first?.offset ?? -1001
            }
            partitions[partition] = (low, high, position >= 0 ? position : nil)
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        return lagClock.withLock { $0.report(partitions, nowMilliseconds: now) }
    }

    /// Stops fetching these partitions. Messages already buffered are still delivered; fetching restarts after
    /// them on ``resume(_:)``.
    /// - Parameter partitions: The partitions to pause.
    /// - Throws: ``KafkaError`` if a partition is not assigned.
    public func pause(_ partitions: [TopicPartition]) throws {
        try TopicPartitionList.with(partitions.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: 0) }) { list in
            _ = rd_kafka_pause_partitions(client.pointer, list)
            if let error = TopicPartitionList.firstError(list, context: "could not pause") { throw error }
        }
    }

    /// Resumes fetching paused partitions.
    /// - Parameter partitions: The partitions to resume.
    /// - Throws: ``KafkaError`` if a partition is not assigned.
    public func resume(_ partitions: [TopicPartition]) throws {
        try TopicPartitionList.with(partitions.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: 0) }) { list in
            _ = rd_kafka_resume_partitions(client.pointer, list)
            if let error = TopicPartitionList.firstError(list, context: "could not resume") { throw error }
        }
    }

    /// Moves a partition's fetch position. Buffered messages of that partition not yet delivered are discarded,
    /// so the next message delivered from it is the one at `offset`.
    /// - Parameter position: The partition and the offset to read next.
    /// - Throws: ``KafkaError`` if the partition is not assigned or the seek fails.
    public func seek(_ position: TopicPartitionOffset) async throws {
        let callbacks = self.callbacks
        try await runOnFetchThread { handle in
            try TopicPartitionList.with([position]) { list in
                let timeout = LibrdkafkaVersion.seekPartitionsTimeout(milliseconds: 10_000)
                if let error = rd_kafka_seek_partitions(handle, list, timeout) {
                    throw KafkaError(consuming: error, context: "could not seek to \(position)")
                }
                if let error = TopicPartitionList.firstError(list, context: "could not seek to \(position)") {
                    throw error
                }
                callbacks.invalidate([TopicPartition(topic: position.topic, partition: position.partition)])
            }
        }
    }

    /// Stops fetching, waits (up to `timeout`) for the message being handled, commits processed offsets and leaves
    /// the group. Buffered messages that were not handed out are not committed: the group's next owner reads them.
    /// - Parameter timeout: How long to wait for the message in hand before closing anyway.
    /// - Throws: ``KafkaError`` if the final commit or leave fails.
    public func close(timeout: Duration = .seconds(10)) async throws {
        guard !closing.exchange(true, ordering: .acquiringAndReleasing) else {
            await waitUntilClosed()
            return
        }
        closeResult.withLock { $0 = .closing([]) }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while inHandler.load(ordering: .acquiring), clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
        channel.finish(discardingQueued: true)
        await pollThread.stop()
        // Seeks queued while the thread stopped would otherwise wait forever.
        callbacks.runCommands(client.pointer)
        let client = self.client
        let result = try? await Blocking.run { rd_kafka_consumer_close(client.pointer).rawValue }
        callbacks.events.finish()
        let waiters = closeResult.withLock { state -> [CheckedContinuation<Void, Never>] in
            defer { state = .closed }
            if case .closing(let waiters) = state { return waiters }
            return []
        }
        for waiter in waiters { waiter.resume() }
        if let result, result != RD_KAFKA_RESP_ERR_NO_ERROR.rawValue {
            throw KafkaError(responseCode: rd_kafka_resp_err_t(rawValue: result), context: "consumer close failed")
        }
    }

    /// Runs until graceful shutdown, then closes (swift-service-lifecycle).
    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }

    /// The consumer group metadata needed to send offsets to a producer's transaction.
    public func groupMetadata() throws -> ConsumerGroupMetadata {
        guard let pointer = rd_kafka_consumer_group_metadata(client.pointer) else {
            throw KafkaError(.invalidState, "the consumer has no group metadata (not a group member)")
        }
        return ConsumerGroupMetadata(pointer: pointer)
    }

    /// Fetched batches waiting for the application (at most ``ConsumerConfiguration/maxBufferedBatches``).
    var bufferedBatchCount: Int { channel.count }

    /// Declares that the application handles no message any more without marking it processed (it gave up after a
    /// failure): ``close(timeout:)`` then does not wait for the message in hand. Its offset is not stored, so it is
    /// redelivered.
    public func abandonMessageInHand() {
        inHandler.store(false, ordering: .releasing)
    }

    /// Ends ``messages`` and ``nextMessages(upTo:)`` (they return nil from their next call) without closing: the
    /// first step of a graceful shutdown, after which the application finishes the messages in hand, marks them and
    /// calls ``close(timeout:)``. Callable from synchronous code such as a shutdown handler.
    public func stopFetching() {
        fetchingStopped.store(true, ordering: .releasing)
        channel.finish(discardingQueued: true)
    }

    var isClosing: Bool { closing.load(ordering: .relaxed) || fetchingStopped.load(ordering: .relaxed) }

    func terminalErrorIfAny() -> KafkaError? { fetchLoop.terminalError.withLock { $0 } }

    func nextBatch() async -> MessageBatch? { await channel.next() }

    /// The next fetched batch if one is buffered, without waiting.
    func readyBatch() -> MessageBatch? { channel.nextIfReady() }

    private func waitUntilClosed() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let done = closeResult.withLock { state -> Bool in
                switch state {
                case .closing(let waiters):
                    state = .closing(waiters + [continuation])
                    return false
                case .open, .closed:
                    return true
                }
            }
            if done { continuation.resume() }
        }
    }

    /// Runs `body` on the fetch thread between batches, where seeking cannot race with a fetch in progress.
    private func runOnFetchThread(_ body: @escaping @Sendable (OpaquePointer) throws -> Void) async throws {
        guard !closing.load(ordering: .acquiring) else { throw KafkaError(.closed, "the consumer is closed") }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            callbacks.commands.withLock { commands in
                commands.append { handle in continuation.resume(with: Result { try body(handle) }) }
            }
            rd_kafka_queue_yield_consumer(client.pointer)
            channel.wakeProducer()
        }
    }
}

/// A consumer's group identity for ``KafkaProducer/sendOffsetsToTransaction(_:group:timeout:)``.
public final class ConsumerGroupMetadata: @unchecked Sendable {
    // Immutable after creation; librdkafka only reads it.
    let pointer: OpaquePointer

    init(pointer: OpaquePointer) { self.pointer = pointer }

    deinit { rd_kafka_consumer_group_metadata_destroy(pointer) }
}

private func rd_kafka_queue_yield_consumer(_ handle: OpaquePointer) {
    if let queue = rd_kafka_queue_get_consumer(handle) {
        rd_kafka_queue_yield(queue)
        rd_kafka_queue_destroy(queue)
    }
}
