import DabbaEvents
import DabbaKafka
import Foundation
import PaymentsDomain

/// Sends a load's requests at a steady rate, the way payers' apps would: each initiation stamped with the moment it
/// is sent, in order (one producer, so one payer's requests stay in order on its partition).
public struct PaymentSender: Sendable {
    /// The typed producer.
    public let events: EventProducer

    /// Creates a sender.
    public init(events: EventProducer) { self.events = events }

    /// Sends requests at `rate` per second and waits until the broker acknowledged all of them.
    /// - Parameters:
    ///   - requests: The requests.
    ///   - rate: Requests per second (0: as fast as possible).
    ///   - shouldStop: Checked between requests; sending stops early when it returns true.
    /// - Returns: How many were sent.
    /// - Throws: ``KafkaError`` when producing fails.
    @discardableResult
    public func send(
        _ requests: some Collection<PaymentRequest>, rate: Double, shouldStop: @Sendable () -> Bool = { false }
    ) async throws -> Int {
        let clock = ContinuousClock()
        let start = clock.now
        var pending: [PendingDelivery] = []
        var sent = 0
        for request in requests {
            if shouldStop() { break }
            if rate > 0 {
                let due = start.advanced(by: .milliseconds(Int64(Double(sent) / rate * 1000)))
                if due > clock.now { try await Task.sleep(until: due, clock: clock) }
            }
            pending.append(try await events.submit(request.event(at: Date()), metadata: EventMetadata(id: request.eventID)))
            sent += 1
            if pending.count >= 512 {
                for delivery in pending { _ = try await delivery.report() }
                pending.removeAll()
            }
        }
        for delivery in pending { _ = try await delivery.report() }
        return sent
    }

    /// Asks for refunds of settled payments, one request per transaction.
    /// - Parameter payments: Transaction ids with their payers.
    /// - Throws: ``KafkaError`` when producing fails.
    public func requestRefunds(_ payments: [(transactionId: String, payerVpa: String)]) async throws {
        var pending: [PendingDelivery] = []
        for payment in payments {
            pending.append(
                try await events.submit(
                    RefundRequested(transactionId: payment.transactionId, payerVpa: payment.payerVpa, requestedAt: Date()),
                    metadata: EventMetadata(id: "\(payment.transactionId)/refund-requested")))
        }
        for delivery in pending { _ = try await delivery.report() }
    }
}
