import DabbaEvents
import DabbaKafka
import DemoServiceKit
import Foundation
import PaymentsDomain

/// Sends a load's requests at a steady rate, the way payers' apps would: each initiation stamped with the moment it
/// is sent, in order (one producer, so one payer's requests stay in order on its partition).
public struct PaymentSender: Sendable {
    /// The typed producer.
    public let events: EventProducer

    /// Creates a sender.
    public init(events: EventProducer) { self.events = events }

    /// Sends requests at `rate` per second (0: as fast as possible), each stamped with the moment it is sent, and
    /// waits until the broker acknowledged all of them (see ``PacedSender``).
    /// - Returns: How many were sent.
    /// - Throws: ``KafkaError`` when producing fails.
    @discardableResult
    public func send(_ requests: some Collection<PaymentRequest>, rate: Double) async throws -> Int {
        let requests = Array(requests)
        return try await PacedSender(events: events).send(count: requests.count, rate: rate) { index in
            (requests[index].event(at: Date()), EventMetadata(id: requests[index].eventID))
        }
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
