internal import CRDKafka
import Logging
import Synchronization

/// Delivery-report handling for one producer. Runs on whichever thread serves librdkafka's queue (the poll thread,
/// or a thread inside flush/commit_transaction), so its mutable state sits behind a mutex.
final class ProducerCallbacks: ClientCallbacks, @unchecked Sendable {
    struct DeliveryState {
        var topicNames: [UInt: String] = [:]
        var pendingReports: [DeliveryReport] = []
        var delivered: UInt64 = 0
        var failedSinceFlush: [KafkaError] = []
        var failedTotal: UInt64 = 0
    }

    let publishesReports: Bool
    let state = Mutex<DeliveryState>(DeliveryState())

    init(logger: Logger, publishesReports: Bool) {
        self.publishesReports = publishesReports
        super.init(logger: logger)
    }

    /// Called for every delivery report.
    func delivered(_ message: UnsafePointer<rd_kafka_message_t>) {
        let record = message.pointee
        let failure: KafkaError? =
            record.err == RD_KAFKA_RESP_ERR_NO_ERROR
            ? nil
            : KafkaError(
                responseCode: record.err,
                context: "delivery failed",
                topic: RDKafkaClient.topicName(record.rkt),
                partition: record.partition,
                offset: record.offset
            )
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
        let topicKey = UInt(bitPattern: record.rkt)
        let topicHandle = UnsafeSendable(record.rkt)
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
            let topic: String
            if let cached = state.topicNames[topicKey] {
                topic = cached
            } else {
                topic = RDKafkaClient.topicName(topicHandle.value)
                state.topicNames[topicKey] = topic
            }
            var report = DeliveryReport(
                messageID: messageID, topic: topic, partition: partition, offset: offset, error: failure
            )
            report.failedKey = failedKey
            report.failedValue = failedValue
            state.pendingReports.append(report)
        }
        if let failure, !publishesReports {
            logger.error(
                "message \(messageID) was not delivered",
                metadata: ["error": "\(failure)", "topic": "\(failure.topic ?? "")"]
            )
        }
    }

    func takePendingReports() -> [DeliveryReport] {
        state.withLock { state in
            let reports = state.pendingReports
            state.pendingReports = []
            state.pendingReports.reserveCapacity(reports.count)
            return reports
        }
    }

    private static func copyBytes(_ pointer: UnsafeMutableRawPointer?, _ length: Int) -> [UInt8]? {
        guard let pointer else { return nil }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
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
    Unmanaged<ProducerCallbacks>.fromOpaque(opaque).takeUnretainedValue().delivered(message)
}
