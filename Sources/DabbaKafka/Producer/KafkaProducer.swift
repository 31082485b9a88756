internal import CRDKafka
import Logging
import ServiceLifecycle
import Synchronization

/// A Kafka producer: idempotent, `acks=all`, Java-compatible key partitioning by default.
///
/// Two ways to send:
/// - ``send(_:)`` waits for the broker's acknowledgement and returns where the message landed.
/// - ``enqueue(_:)`` is the high-volume path: it returns as soon as librdkafka has the message, and the delivery
///   outcome arrives later on ``deliveryReports`` (when ``ProducerConfiguration/publishesDeliveryReports`` is on).
///
/// When librdkafka's local queue is full, both wait for deliveries to make room (bounded backpressure) instead of
/// failing. librdkafka's events (delivery reports, errors, logs) are served by the sending task while it sends, with
/// a non-waiting `rd_kafka_poll(rk, 0)` as a C producer would, and by a dedicated thread otherwise (see
/// `ProducerQueueServer`); no blocking librdkafka call runs on Swift's cooperative pool. The producer is a
/// swift-service-lifecycle `Service`: on graceful shutdown it flushes and closes.
public final class KafkaProducer: Service, Sendable {
    let client: RDKafkaClient
    private let callbacks: ProducerCallbacks
    private let pollThread: PollThread
    private let server: ProducerQueueServer
    private let reports: BatchChannel<DeliveryBatch>
    private let queueSpace = QueueSpace()
    private let topicHandles = TopicHandleCache()
    private let nextMessageID = Atomic<UInt64>(1)
    private let closed = Atomic<Bool>(false)
    private let transactionInitialization = Mutex<Task<Void, any Error>?>(nil)
    private let configuration: ProducerConfiguration
    let logger: Logger

    /// Creates a producer. Connection happens in the background; the first send waits for it.
    /// - Parameters:
    ///   - configuration: Producer settings.
    ///   - logger: Where librdkafka's log lines and delivery failures go.
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` naming a bad property, or `clientCreation`.
    public init(configuration: ProducerConfiguration, logger: Logger = Logger(label: "dabba.producer")) throws {
        let callbacks = ProducerCallbacks(logger: logger, publishesReports: configuration.publishesDeliveryReports)
        let client = try RDKafkaClient.make(
            kind: .producer,
            properties: configuration.librdkafkaProperties,
            callbacks: callbacks,
            statistics: configuration.client.statistics
        ) { rdConfiguration in
            rd_kafka_conf_set_dr_msg_cb(rdConfiguration, deliveryReportCallback)
        }
        let reports = BatchChannel<DeliveryBatch>(capacity: 64)
        let queueSpace = self.queueSpace
        let server = ProducerQueueServer(client: client, callbacks: callbacks, queueSpace: queueSpace)
        self.server = server
        self.client = client
        self.callbacks = callbacks
        self.reports = reports
        self.configuration = configuration
        self.logger = logger
        self.pollThread = PollThread(name: "dabba-producer") { isStopping in
            server.serveFromPollThread()
            if callbacks.publishesReports {
                let batch = callbacks.takePendingReports()
                if !batch.isEmpty { reports.push(batch, whileWaiting: isStopping) }
            }
            queueSpace.wakeAll()
        }
        server.enable()
    }

    deinit {
        pollThread.requestStop()
        server.wake()
        server.disable()
        reports.finish()
        // Before the client (and its rd_kafka_destroy) goes: this object still holds it.
        topicHandles.destroyAll()
    }

    /// Sends a message and waits for the broker's acknowledgement.
    /// - Parameter message: The message to send.
    /// - Returns: The topic, partition and offset the message was written to.
    /// - Throws: ``KafkaError``: `messageTooLarge`, `unknownTopicOrPartition`, `timedOut` (not delivered within
    ///   ``ProducerConfiguration/messageTimeout``), `closed`, or another delivery failure.
    @discardableResult
    public func send(_ message: ProducerMessage) async throws -> DeliveryReport {
        try await submit(message).report()
    }

    /// Hands a message to librdkafka and returns a handle on its acknowledgement, without waiting for it: send
    /// many, then wait for all (librdkafka keeps them in order per partition).
    /// - Parameter message: The message to send.
    /// - Returns: The pending delivery; await ``PendingDelivery/report()`` once.
    /// - Throws: ``KafkaError`` if the message cannot be enqueued (too large, unknown partition, closed).
    public func submit(_ message: ProducerMessage) async throws -> PendingDelivery {
        let waiter = DeliveryWaiter()
        let opaque = Unmanaged.passRetained(waiter).toOpaque()
        do {
            try await produce(message, opaque: opaque)
        } catch {
            // Not enqueued: no delivery report will come to balance the retain.
            Unmanaged<DeliveryWaiter>.fromOpaque(opaque).release()
            throw error
        }
        return PendingDelivery(waiter: waiter)
    }

    /// Hands a message to librdkafka without waiting for its acknowledgement: the high-volume path.
    ///
    /// Suspends only while librdkafka's queue is full. The outcome arrives on ``deliveryReports`` when
    /// ``ProducerConfiguration/publishesDeliveryReports`` is on; otherwise failures are logged and make the next
    /// ``flush(timeout:)`` throw, so no failure goes unnoticed.
    /// - Parameter message: The message to send.
    /// - Returns: The message's id, repeated in its ``DeliveryReport``.
    /// - Throws: ``KafkaError`` if the message cannot be enqueued (too large, unknown partition, closed).
    @inlinable
    @discardableResult
    public func enqueue(_ message: ProducerMessage) async throws -> UInt64 {
        // Inlined into the caller, the common case (librdkafka has room) is one synchronous call: no async frame
        // and no executor hop per message.
        let id = makeMessageID()
        if try enqueueIfRoom(message, id: id) { return id }
        try await enqueueWhenRoom(message, id: id)
        return id
    }

    @usableFromInline
    func makeMessageID() -> UInt64 {
        nextMessageID.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// One ``enqueue(_:)`` attempt: false if librdkafka's queue is full.
    @usableFromInline
    func enqueueIfRoom(_ message: ProducerMessage, id: UInt64) throws -> Bool {
        try produceIfRoom(message, opaque: MessageTag.fastPath(id: id))
    }

    /// ``enqueue(_:)`` once librdkafka's queue has room.
    @usableFromInline
    func enqueueWhenRoom(_ message: ProducerMessage, id: UInt64) async throws {
        try await produce(message, opaque: MessageTag.fastPath(id: id))
    }

    /// Delivery reports of messages sent with ``enqueue(_:)``, in batches as librdkafka serves them.
    ///
    /// Available when ``ProducerConfiguration/publishesDeliveryReports`` is on; iterate it from one task. It ends
    /// when the producer is closed. If it is not consumed, librdkafka's queue fills and sending waits.
    public var deliveryReports: DeliveryReportSequence { DeliveryReportSequence(channel: reports) }

    /// How many messages were acknowledged and how many failed so far (for the ``enqueue(_:)`` path).
    public var deliveryCounts: (delivered: UInt64, failed: UInt64) {
        callbacks.state.withLock { ($0.delivered, $0.failedTotal) }
    }

    /// Messages handed to librdkafka and not yet acknowledged or failed.
    public var inFlightCount: Int { Int(rd_kafka_outq_len(client.pointer)) }

    /// Waits until every enqueued message is acknowledged or failed.
    /// - Parameter timeout: The longest time to wait.
    /// - Throws: ``KafkaError`` `timedOut` if messages are still in flight after `timeout`, or `deliveryFailed`
    ///   naming how many ``enqueue(_:)`` messages failed since the last flush (the first failure's reason included).
    public func flush(timeout: Duration = .seconds(30)) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while rd_kafka_outq_len(client.pointer) > 0 {
            guard clock.now < deadline else {
                throw KafkaError(
                    .timedOut,
                    "\(rd_kafka_outq_len(client.pointer)) messages still in flight after flushing for \(timeout)"
                )
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        let failures = callbacks.state.withLock { state in
            defer { state.failedSinceFlush = [] }
            return state.failedSinceFlush
        }
        if let first = failures.first, !configuration.publishesDeliveryReports {
            var error = first
            error.code = .deliveryFailed
            error.message = "\(failures.count) enqueued messages were not delivered; first: \(first.message)"
            throw error
        }
    }

    /// Flushes (up to `timeout`), then stops the producer. Messages still queued after the timeout are purged and
    /// reported as failed, never dropped silently.
    /// - Parameter timeout: How long to wait for in-flight messages.
    /// - Throws: The flush error, if delivery did not complete.
    public func close(timeout: Duration = .seconds(30)) async throws {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var flushError: (any Error)?
        do { try await flush(timeout: timeout) } catch { flushError = error }
        server.wake()
        await pollThread.stop()
        let client = self.client
        // Purging makes librdkafka fail what is left with _PURGE_QUEUE; serving the queue delivers those reports.
        _ = try? await Blocking.run {
            rd_kafka_purge(client.pointer, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)
            _ = rd_kafka_flush(client.pointer, 1000)
        }
        if callbacks.publishesReports {
            let rest = callbacks.takePendingReports()
            if !rest.isEmpty { reports.push(rest) }
        }
        reports.finish()
        queueSpace.wakeAll()
        if let flushError { throw flushError }
    }

    /// Runs until graceful shutdown, then flushes and closes (swift-service-lifecycle).
    public func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }

    /// Runs `initialize` once; concurrent and later callers share its outcome (a failure is retried next time).
    func transactionsInitializedOnce(_ initialize: @escaping @Sendable () async throws -> Void) async throws {
        guard configuration.transactionalID != nil else {
            throw KafkaError(.invalidState, "transactions need ProducerConfiguration.transactionalID")
        }
        let task = transactionInitialization.withLock { task in
            if let task { return task }
            let created = Task { try await initialize() }
            task = created
            return created
        }
        do {
            try await task.value
        } catch {
            transactionInitialization.withLock { $0 = nil }
            throw error
        }
    }

    // MARK: - Producing

    private func produce(_ message: ProducerMessage, opaque: UnsafeMutableRawPointer?) async throws {
        while try !produceIfRoom(message, opaque: opaque) {
            await waitForQueueSpace()
        }
    }

    /// One attempt: true if librdkafka took the message, false if its queue is full.
    /// - Throws: ``KafkaError`` if the producer is closed or librdkafka refused the message.
    private func produceIfRoom(_ message: ProducerMessage, opaque: UnsafeMutableRawPointer?) throws -> Bool {
        if closed.load(ordering: .relaxed) {
            throw KafkaError(.closed, "the producer is closed", topic: message.topic)
        }
        server.serveIfPending()
        var code = produceOnce(message, opaque: opaque)
        // Full: serve delivery reports here, as a C producer would, and retry once before waiting for room.
        if code == RD_KAFKA_RESP_ERR__QUEUE_FULL, server.serveFromProducer() {
            code = produceOnce(message, opaque: opaque)
        }
        if code == RD_KAFKA_RESP_ERR_NO_ERROR { return true }
        if code == RD_KAFKA_RESP_ERR__QUEUE_FULL { return false }
        throw KafkaError(
            responseCode: code,
            context: "could not send a message to topic '\(message.topic)'",
            topic: message.topic,
            partition: message.partition
        )
    }

    private func waitForQueueSpace() async {
        guard !closed.load(ordering: .acquiring) else { return }
        await queueSpace.wait { server.wakeIfEventsPending() }
    }

    /// One non-blocking `rd_kafka_produceva` call. Key, value and headers are copied by librdkafka.
    private func produceOnce(_ message: ProducerMessage, opaque: UnsafeMutableRawPointer?) -> rd_kafka_resp_err_t {
        var topic = rd_kafka_vu_t()
        if let handle = topicHandles.handle(named: message.topic, client: client.pointer) {
            topic.vtype = RD_KAFKA_VTYPE_RKT
            topic.u.rkt = handle
            return produceOnce(message, opaque: opaque, topic: topic)
        }
        return message.topic.withCString { name in
            topic.vtype = RD_KAFKA_VTYPE_TOPIC
            topic.u.cstr = name
            return produceOnce(message, opaque: opaque, topic: topic)
        }
    }

    /// `topic` names the topic by handle or by name (a C string valid for the call).
    @inline(__always)
    private func produceOnce(
        _ message: ProducerMessage,
        opaque: UnsafeMutableRawPointer?,
        topic: rd_kafka_vu_t
    ) -> rd_kafka_resp_err_t {
        var headers: OpaquePointer?
        if !message.headers.isEmpty {
            let list = rd_kafka_headers_new(message.headers.count)
            for header in message.headers {
                // The name's bytes in place with their length: handing librdkafka a `String` as a C string would
                // copy it into a new array per header. Cut at a NUL, as librdkafka's C-string names are.
                var name = header.name
                name.withUTF8 { nameBytes in
                    guard let nameBase = nameBytes.baseAddress else { return }
                    let cName = UnsafeRawPointer(nameBase).assumingMemoryBound(to: CChar.self)
                    let nameLength = nameBytes.firstIndex(of: 0) ?? nameBytes.count
                    if let value = header.value {
                        value.withUnsafeBytes { bytes in
                            if let base = bytes.baseAddress, bytes.count > 0 {
                                _ = rd_kafka_header_add(list, cName, nameLength, base, bytes.count)
                            } else {
                                // An empty value is not a null one: librdkafka sends a null header for a nil pointer.
                                withUnsafeBytes(of: UInt8(0)) { empty in
                                    _ = rd_kafka_header_add(list, cName, nameLength, empty.baseAddress, 0)
                                }
                            }
                        }
                    } else {
                        _ = rd_kafka_header_add(list, cName, nameLength, nil, 0)
                    }
                }
            }
            headers = list
        }
        let error: OpaquePointer? = withBytes(message.key) { key in
            withBytes(message.value) { value in
                withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 8) { arguments in
                    var count = 0
                    func add(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                        var argument = rd_kafka_vu_t()
                        argument.vtype = type
                        fill(&argument)
                        arguments[count] = argument
                        count += 1
                    }
                    add(topic.vtype) { $0 = topic }
                    add(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                    if let value {
                        add(RD_KAFKA_VTYPE_VALUE) {
                            $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
                            $0.u.mem.size = value.count
                        }
                    }
                    if let key {
                        add(RD_KAFKA_VTYPE_KEY) {
                            $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
                            $0.u.mem.size = key.count
                        }
                    }
                    if let partition = message.partition {
                        add(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition }
                    }
                    if let timestamp = message.timestampMilliseconds {
                        add(RD_KAFKA_VTYPE_TIMESTAMP) { $0.u.i64 = timestamp }
                    }
                    if let headers {
                        add(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers }
                    }
                    if let opaque {
                        add(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = opaque }
                    }
                    return rd_kafka_produceva(client.pointer, arguments.baseAddress, count)
                }
            }
        }
        guard let error else { return RD_KAFKA_RESP_ERR_NO_ERROR }
        let code = rd_kafka_error_code(error)
        rd_kafka_error_destroy(error)
        // librdkafka owns the headers only when the message was accepted.
        if let headers { rd_kafka_headers_destroy(headers) }
        return code
    }
}

/// Senders waiting for room in librdkafka's queue; the poll thread wakes them after serving delivery reports.
final class QueueSpace: Sendable {
    private let waiters = Mutex<[CheckedContinuation<Void, Never>]>([])
    private let waiting = Atomic<Int>(0)

    /// Suspends until ``wakeAll()``; `registered` runs once the caller is visible as a waiter.
    func wait(registered: () -> Void = {}) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            waiters.withLock { $0.append(continuation) }
            waiting.add(1, ordering: .releasing)
            registered()
        }
    }

    /// Whether a sender waits for room.
    var hasWaiters: Bool { waiting.load(ordering: .acquiring) > 0 }

    /// Cheap when nobody waits: one atomic load.
    func wakeAll() {
        guard waiting.load(ordering: .acquiring) > 0 else { return }
        let woken = waiters.withLock { waiters in
            defer { waiters = [] }
            return waiters
        }
        waiting.subtract(woken.count, ordering: .releasing)
        for waiter in woken { waiter.resume() }
    }
}

/// librdkafka topic handles by name, created on first use and destroyed with the producer.
///
/// Producing with a handle (`RD_KAFKA_VTYPE_RKT`) instead of a name skips librdkafka's by-name lookup, which takes
/// the client-wide write lock for every message. librdkafka keeps a topic object per topic produced to anyway, so
/// the cache holds nothing librdkafka would otherwise free.
final class TopicHandleCache: Sendable {
    /// One topic's handle. Entries live until ``destroyAll()``, so a published entry can be read without retaining it.
    private final class Entry: Sendable {
        let name: String
        let handle: UnsafeSendable<OpaquePointer>

        init(name: String, handle: OpaquePointer) {
            self.name = name
            self.handle = UnsafeSendable(handle)
        }
    }

    private let entries = Mutex<[String: Entry]>([:])
    /// The most recently used entry (an unretained `Entry` address, 0 for none): the lock-free path for producers
    /// that write to one topic at a time.
    private let last = Atomic<UInt>(0)

    /// The handle for a topic, or nil if librdkafka refuses to create one (then produce by name, which reports why).
    func handle(named name: String, client: OpaquePointer) -> OpaquePointer? {
        if let address = UnsafeRawPointer(bitPattern: last.load(ordering: .acquiring)) {
            let entry = Unmanaged<Entry>.fromOpaque(address)
            if let handle = entry._withUnsafeGuaranteedRef({ $0.name == name ? $0.handle.value : nil }) {
                return handle
            }
        }
        let entry = entries.withLock { entries -> Entry? in
            if let known = entries[name] { return known }
            guard let created = rd_kafka_topic_new(client, name, nil) else { return nil }
            let entry = Entry(name: name, handle: created)
            entries[name] = entry
            return entry
        }
        guard let entry else { return nil }
        // The dictionary keeps the entry alive; `last` only borrows it.
        last.store(UInt(bitPattern: Unmanaged.passUnretained(entry).toOpaque()), ordering: .releasing)
        return entry.handle.value
    }

    /// Releases every handle (librdkafka keeps what in-flight messages still need). Only when no producing call
    /// can run any more: from the producer's `deinit`.
    func destroyAll() {
        last.store(0, ordering: .releasing)
        entries.withLock { entries in
            for entry in entries.values { rd_kafka_topic_destroy(entry.handle.value) }
            entries = [:]
        }
    }
}

/// Calls `body` with the bytes of an optional array (nil stays nil, so tombstones and unkeyed messages work).
@inline(__always)
func withBytes<Result>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> Result) -> Result {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}

/// A message handed to the producer by ``KafkaProducer/submit(_:)`` whose acknowledgement has not been awaited.
public struct PendingDelivery: Sendable {
    let waiter: DeliveryWaiter

    /// Waits for the broker's acknowledgement (await it once).
    /// - Returns: The topic, partition and offset the message was written to.
    /// - Throws: ``KafkaError`` for a delivery failure (see ``KafkaProducer/send(_:)``).
    public func report() async throws -> DeliveryReport {
        try await waiter.value()
    }
}

/// The delivery reports of ``KafkaProducer/enqueue(_:)``, one at a time, served from batches.
public struct DeliveryReportSequence: AsyncSequence, Sendable {
    public typealias Element = DeliveryReport
    let channel: BatchChannel<DeliveryBatch>

    /// The iterator over delivery reports.
    public struct AsyncIterator: AsyncIteratorProtocol {
        @usableFromInline let channel: BatchChannel<DeliveryBatch>
        @usableFromInline var batch = DeliveryBatch()
        @usableFromInline var index = 0

        init(channel: BatchChannel<DeliveryBatch>) {
            self.channel = channel
        }

        /// The next report, or nil once the producer is closed and every report was read.
        @inlinable
        public mutating func next() async -> DeliveryReport? {
            // Inlined into the caller, a report from the current batch costs no async frame or executor hop.
            if index < batch.count {
                defer { index += 1 }
                return batch.report(at: index)
            }
            return await nextFromNextBatch()
        }

        @usableFromInline
        mutating func nextFromNextBatch() async -> DeliveryReport? {
            while index >= batch.count {
                guard let next = await channel.next() else { return nil }
                batch = next
                index = 0
            }
            defer { index += 1 }
            return batch.report(at: index)
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(channel: channel) }
}
