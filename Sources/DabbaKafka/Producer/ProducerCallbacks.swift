internal import CRDKafka
import Dispatch
import Logging
import Synchronization

/// Delivery-report handling for one producer. Runs on whichever thread serves librdkafka's queue (a sending task or
/// the poll thread, see ``ProducerQueueServer``, or a thread inside flush/commit_transaction), so its mutable state
/// sits behind a mutex.
final class ProducerCallbacks: ClientCallbacks, @unchecked Sendable {
    struct DeliveryState {
        var topicNames: [UInt: String] = [:]
        var pendingReports = DeliveryBatch()
        var delivered: UInt64 = 0
        var failedSinceFlush: [KafkaError] = []
        var failedTotal: UInt64 = 0

        /// Appends a report to the pending batch; a topic's name is resolved once per topic and batch.
        mutating func appendReport(
            messageID: UInt64,
            topic: UnsafeSendable<OpaquePointer?>,
            partition: Int32,
            offset: Int64,
            failure: DeliveryBatch.Failure?
        ) {
            let topicKey = UInt(bitPattern: topic.value)
            let topicIndex: UInt32
            if let known = pendingReports.topicIndex(forHandle: topicKey) {
                topicIndex = known
            } else {
                let name: String
                if let cached = topicNames[topicKey] {
                    name = cached
                } else {
                    name = RDKafkaClient.topicName(topic.value)
                    topicNames[topicKey] = name
                }
                topicIndex = pendingReports.addTopic(name, handle: topicKey)
            }
            var failureIndex: Int32 = -1
            if let failure {
                failureIndex = Int32(truncatingIfNeeded: pendingReports.failures.count)
                pendingReports.failures.append(failure)
            }
            pendingReports.records.append(
                DeliveryBatch.Record(
                    messageID: messageID,
                    offset: offset,
                    partition: partition,
                    topicIndex: topicIndex,
                    failureIndex: failureIndex
                )
            )
        }
    }

    let publishesReports: Bool
    let state = Mutex<DeliveryState>(DeliveryState())

    init(logger: Logger, publishesReports: Bool) {
        self.publishesReports = publishesReports
        super.init(logger: logger)
    }

    /// Called for every delivery report.
    /// - Parameter handle: The producer's handle, to look up a fatal error that caused a failure.
    func delivered(_ message: UnsafePointer<rd_kafka_message_t>, handle: OpaquePointer?) {
        let record = message.pointee
        // The common case, an enqueued message delivered: count it and record a flat report, nothing more.
        if record.err == RD_KAFKA_RESP_ERR_NO_ERROR, let opaque = record._private, MessageTag.isFastPath(opaque) {
            let topic = UnsafeSendable(record.rkt)
            state.withLock { state in
                state.delivered += 1
                guard publishesReports else { return }
                state.appendReport(
                    messageID: MessageTag.id(of: opaque), topic: topic, partition: record.partition,
                    offset: record.offset, failure: nil
                )
            }
            return
        }
        var failure: KafkaError? =
            record.err == RD_KAFKA_RESP_ERR_NO_ERROR
            ? nil
            : KafkaError(
                responseCode: record.err,
                context: "delivery failed",
                topic: RDKafkaClient.topicName(record.rkt),
                partition: record.partition,
                offset: record.offset
            )
        // After a fatal error (a fenced transactional producer, an idempotence violation) librdkafka fails the
        // queued messages as _PURGE_QUEUE/_PURGE_INFLIGHT: report the fatal error, which is the real cause.
        if failure != nil, let handle {
            var text = [CChar](repeating: 0, count: 512)
            let fatal = rd_kafka_fatal_error(handle, &text, text.count)
            if fatal != RD_KAFKA_RESP_ERR_NO_ERROR {
                let reason = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                var error = KafkaError(
                    responseCode: fatal,
                    context: "delivery failed",
                    topic: RDKafkaClient.topicName(record.rkt),
                    partition: record.partition,
                    offset: record.offset
                )
                error.message = "delivery failed: the producer hit a fatal error: \(reason)"
                error.isFatal = true
                failure = error
            }
        }
        if let opaque = record._private, !MessageTag.isFastPath(opaque) {
            // Awaited send: the waiter was retained when the message was enqueued; this balances it.
            let waiter = Unmanaged<DeliveryWaiter>.fromOpaque(opaque).takeRetainedValue()
            if let failure {
                waiter.complete(.failure(failure))
            } else {
                waiter.complete(
                    .success(
                        DeliveryReport(
                            messageID: 0,
                            topic: RDKafkaClient.topicName(record.rkt),
                            partition: record.partition,
                            offset: record.offset,
                            error: nil
                        )
                    )
                )
            }
            return
        }
        let messageID = record._private.map { MessageTag.id(of: $0) } ?? 0
        let topic = UnsafeSendable(record.rkt)
        let partition = record.partition
        let offset = record.offset
        let failedKey = failure == nil ? nil : Self.copyBytes(record.key, record.key_len)
        let failedValue = failure == nil ? nil : Self.copyBytes(record.payload, record.len)
        state.withLock { state in
            if let failure {
                state.failedTotal += 1
                state.failedSinceFlush.append(failure)
            } else {
                state.delivered += 1
            }
            guard publishesReports else { return }
            state.appendReport(
                messageID: messageID, topic: topic, partition: partition, offset: offset,
                failure: failure.map { DeliveryBatch.Failure(error: $0, key: failedKey, value: failedValue) }
            )
        }
        if let failure, !publishesReports {
            logger.error(
                "message \(messageID) was not delivered",
                metadata: ["error": "\(failure)", "topic": "\(failure.topic ?? "")"]
            )
        }
    }

    /// How many reports are recorded and not yet handed over.
    var pendingReportCount: Int { state.withLock { $0.pendingReports.count } }

    /// Hands over the reports recorded since the last call.
    func takePendingReports() -> DeliveryBatch {
        state.withLock { state in
            let reports = state.pendingReports
            state.pendingReports = DeliveryBatch()
            // Pre-size for a typical batch, without pinning a huge buffer after a burst.
            state.pendingReports.records.reserveCapacity(min(reports.records.count, 16_384))
            return reports
        }
    }

    private static func copyBytes(_ pointer: UnsafeMutableRawPointer?, _ length: Int) -> [UInt8]? {
        guard let pointer else { return nil }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }
}

/// Serves a producer's librdkafka queue (delivery reports, errors, logs): on the producing threads while they
/// produce, on the poll thread otherwise.
///
/// librdkafka frees each delivered message on the thread that serves its report. When that is not the thread that
/// allocated it, the frees contend with the producing thread's allocations for the allocator's arena lock (measured:
/// up to 17,000 futex waits per million messages). So, like a C producer calling `rd_kafka_poll(rk, 0)` between
/// sends, a producing thread serves pending events itself, without waiting, whenever librdkafka signals some, and
/// when the queue is full. The poll thread serves when no producing thread has for a moment, or when producers wait
/// for room, and publishes the recorded reports (waiting for the application to take them: backpressure). A lock
/// serializes serving, so reports keep librdkafka's order.
final class ProducerQueueServer: @unchecked Sendable {
    // @unchecked: `queue` is written only in init and `disable()`; `lastInlineServes` only on the poll thread; the
    // rest is atomic or behind `serving`.
    private let client: RDKafkaClient
    private let callbacks: ProducerCallbacks
    private let queueSpace: QueueSpace
    private var queue: OpaquePointer?
    private let serving = Mutex<Void>(())
    /// Set from librdkafka's threads when the queue goes from empty to non-empty.
    private let eventsPending = Atomic<Bool>(false)
    private let wakeup = DispatchSemaphore(value: 0)
    /// How often producing threads served; the poll thread leaves serving to them while this moves.
    private let inlineServes = Atomic<UInt64>(0)
    private var lastInlineServes: UInt64 = 0
    /// True while producing threads serve: new events then do not wake the poll thread (it looks every 2 ms),
    /// unless a producer waits for room.
    private let producersServing = Atomic<Bool>(false)
    /// Beyond this many unpublished reports, producing threads stop serving: the poll thread, which waits for the
    /// application to take reports, then serves alone, and a full queue makes producers wait (bounded memory).
    private static let inlineReportLimit = 65_536

    init(client: RDKafkaClient, callbacks: ProducerCallbacks, queueSpace: QueueSpace) {
        self.client = client
        self.callbacks = callbacks
        self.queueSpace = queueSpace
        self.queue = rd_kafka_queue_get_main(client.pointer)
    }

    /// Starts librdkafka's queue notifications. The notification holds a reference until ``disable()``.
    func enable() {
        guard let queue else { return }
        rd_kafka_queue_cb_event_enable(queue, queueEventCallback, Unmanaged.passRetained(self).toOpaque())
    }

    /// Stops the notifications (librdkafka guarantees none runs after this returns) and releases the queue handle.
    func disable() {
        guard let queue else { return }
        rd_kafka_queue_cb_event_enable(queue, nil, nil)
        rd_kafka_queue_destroy(queue)
        self.queue = nil
        Unmanaged.passUnretained(self).release()
    }

    /// From librdkafka's threads: events are waiting to be served.
    fileprivate func eventsArrived() {
        eventsPending.store(true, ordering: .releasing)
        if !producersServing.load(ordering: .relaxed) || queueSpace.hasWaiters { wakeup.signal() }
    }

    /// Wakes the poll thread (to notice a stop request).
    func wake() { wakeup.signal() }

    /// For a producer that just started waiting for room: makes sure the poll thread serves what is pending.
    func wakeIfEventsPending() {
        if eventsPending.load(ordering: .acquiring) { wakeup.signal() }
    }

    /// For producing threads, before each send: serves pending events without waiting. One atomic load when there
    /// are none.
    @inline(__always)
    func serveIfPending() {
        if eventsPending.load(ordering: .relaxed) { _ = serveFromProducer() }
    }

    /// For producing threads: serves what is waiting now, unless another thread is serving or too many reports
    /// wait to be published. Returns whether anything was served.
    func serveFromProducer() -> Bool {
        if callbacks.publishesReports, callbacks.pendingReportCount >= Self.inlineReportLimit { return false }
        let served = serving.withLockIfAvailable { _ in
            eventsPending.store(false, ordering: .relaxed)
            return rd_kafka_poll(client.pointer, 0)
        }
        guard let served, served > 0 else { return false }
        inlineServes.add(1, ordering: .relaxed)
        return true
    }

    /// One poll-thread round: waits for events (at most 100 ms), then serves them unless producing threads are
    /// serving (and none waits for room).
    func serveFromPollThread() {
        let producersServed = inlineServes.load(ordering: .relaxed)
        let producersActive = producersServed != lastInlineServes
        lastInlineServes = producersServed
        producersServing.store(producersActive, ordering: .relaxed)
        _ = wakeup.wait(timeout: .now() + .milliseconds(producersActive ? 2 : 100))
        // While producers serve, they take events within microseconds; serve only what they left.
        if producersActive, !eventsPending.load(ordering: .acquiring) { return }
        serving.withLock { _ in
            eventsPending.store(false, ordering: .relaxed)
            _ = rd_kafka_poll(client.pointer, 0)
        }
    }
}

private func queueEventCallback(_ handle: OpaquePointer?, _ opaque: UnsafeMutableRawPointer?) {
    guard let opaque else { return }
    Unmanaged<ProducerQueueServer>.fromOpaque(opaque)._withUnsafeGuaranteedRef { $0.eventsArrived() }
}

/// Delivery reports as the poll thread records them: plain values in one flat buffer (no reference counting per
/// message), turned into ``DeliveryReport``s only when the application reads them.
@usableFromInline
struct DeliveryBatch: Sendable {
    @usableFromInline
    struct Record: Sendable {
        var messageID: UInt64
        var offset: Int64
        var partition: Int32
        /// Index into `topics`.
        var topicIndex: UInt32
        /// Index into `failures`, or -1 for a delivered message.
        var failureIndex: Int32
    }

    struct Failure: Sendable {
        var error: KafkaError
        var key: [UInt8]?
        var value: [UInt8]?
    }

    @usableFromInline var records: [Record] = []
    var topics: [String] = []
    var failures: [Failure] = []
    /// The librdkafka topic handle (as an integer) of each entry of `topics`.
    private var topicHandles: [UInt] = []
    private var lastHandle: UInt = 0
    private var lastIndex: UInt32 = 0

    @inlinable var count: Int { records.count }
    var isEmpty: Bool { records.isEmpty }

    /// The index of a topic already in this batch (almost always the previous message's topic).
    mutating func topicIndex(forHandle handle: UInt) -> UInt32? {
        if handle == lastHandle, !topicHandles.isEmpty { return lastIndex }
        guard let index = topicHandles.firstIndex(of: handle) else { return nil }
        lastHandle = handle
        lastIndex = UInt32(truncatingIfNeeded: index)
        return lastIndex
    }

    mutating func addTopic(_ name: String, handle: UInt) -> UInt32 {
        topics.append(name)
        topicHandles.append(handle)
        lastHandle = handle
        lastIndex = UInt32(truncatingIfNeeded: topics.count - 1)
        return lastIndex
    }

    @usableFromInline
    func report(at index: Int) -> DeliveryReport {
        let record = records[index]
        let topic = topics[Int(record.topicIndex)]
        guard record.failureIndex >= 0 else {
            return DeliveryReport(
                messageID: record.messageID,
                topic: topic,
                partition: record.partition,
                offset: record.offset,
                error: nil
            )
        }
        let failure = failures[Int(record.failureIndex)]
        return DeliveryReport(
            messageID: record.messageID,
            topic: topic,
            partition: record.partition,
            offset: record.offset,
            error: failure.error,
            failedKey: failure.key,
            failedValue: failure.value
        )
    }
}

/// Distinguishes the two kinds of per-message opaque pointers: a retained ``DeliveryWaiter`` (aligned, low bit 0)
/// or a fast-path message id (low bit 1), so the fast path allocates nothing per message.
enum MessageTag {
    static func fastPath(id: UInt64) -> UnsafeMutableRawPointer? {
        UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: id) << 1 | 1)
    }

    static func isFastPath(_ pointer: UnsafeMutableRawPointer) -> Bool {
        UInt(bitPattern: pointer) & 1 == 1
    }

    static func id(of pointer: UnsafeMutableRawPointer) -> UInt64 {
        UInt64(UInt(bitPattern: pointer) >> 1)
    }
}

/// The rendezvous between an awaited ``KafkaProducer/send(_:)`` and its delivery report.
final class DeliveryWaiter: Sendable {
    private enum State {
        case waiting(CheckedContinuation<DeliveryReport, any Error>?)
        case done(Result<DeliveryReport, KafkaError>)
    }

    private let state = Mutex<State>(.waiting(nil))

    func complete(_ result: Result<DeliveryReport, KafkaError>) {
        let continuation: CheckedContinuation<DeliveryReport, any Error>? = state.withLock { state in
            guard case .waiting(let continuation) = state else { return nil }
            state = .done(result)
            return continuation
        }
        continuation?.resume(with: result.mapError { $0 as any Error })
    }

    func value() async throws -> DeliveryReport {
        try await withCheckedThrowingContinuation { continuation in
            let ready: Result<DeliveryReport, KafkaError>? = state.withLock { state in
                switch state {
                case .done(let result): return result
                case .waiting:
                    state = .waiting(continuation)
                    return nil
                }
            }
            if let ready { continuation.resume(with: ready.mapError { $0 as any Error }) }
        }
    }
}

func deliveryReportCallback(
    _ handle: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?
) {
    // Only producers install this callback, so the opaque is always their ProducerCallbacks.
    guard let message, let opaque else { return }
    // The handle keeps its callbacks alive (see RDKafkaClient), so no retain/release per report.
    Unmanaged<ProducerCallbacks>.fromOpaque(opaque)._withUnsafeGuaranteedRef { $0.delivered(message, handle: handle) }
}
