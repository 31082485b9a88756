import DabbaEvents
import DabbaKafka

/// Sends a demo's load at a steady rate through one producer, in order (so one key's events stay in order on its
/// partition), and waits until the broker acknowledged every record.
public struct PacedSender: Sendable {
    /// The typed producer.
    public let events: EventProducer

    /// Creates a sender.
    public init(events: EventProducer) { self.events = events }

    /// Sends `count` events at `rate` per second.
    /// - Parameters:
    ///   - count: How many.
    ///   - rate: Events per second (0: as fast as possible).
    ///   - event: The `index`th event and its metadata, made when it is due (so it can be stamped with the time).
    /// - Returns: How many were sent.
    /// - Throws: ``KafkaError`` when producing fails.
    @discardableResult
    public func send<E: Event>(
        count: Int, rate: Double, event: (Int) throws -> (E, EventMetadata)
    ) async throws -> Int {
        let clock = ContinuousClock()
        let start = clock.now
        var pending: [PendingDelivery] = []
        for index in 0..<count {
            if rate > 0 {
                let due = start.advanced(by: .microseconds(Int64(Double(index) / rate * 1_000_000)))
                if due > clock.now { try await Task.sleep(until: due, clock: clock) }
            }
            let (value, metadata) = try event(index)
            pending.append(try await events.submit(value, metadata: metadata))
            // Acknowledgements are collected in large rounds, so a loaded broker's round trips do not pace the load.
            if pending.count >= 16_384 {
                for delivery in pending { _ = try await delivery.report() }
                pending.removeAll()
            }
        }
        for delivery in pending { _ = try await delivery.report() }
        return count
    }
}
