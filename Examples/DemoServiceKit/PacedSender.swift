import DabbaEvents
import DabbaKafka

/// Sends a demo's load at a steady rate through one producer, in order (so one key's events stay in order on its
/// partition), and waits until the broker acknowledged every record.
public struct PacedSender: Sendable {
    /// The typed producer.
    public let events: EventProducer

    /// Creates a sender.
    public init(events: EventProducer) { self.events = events }

    /// Sends `count` events at `rate` per second, then waits until the broker acknowledged them all (a failed
    /// delivery throws then).
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
        for index in 0..<count {
            if rate > 0 {
                let due = start.advanced(by: .microseconds(Int64(Double(index) / rate * 1_000_000)))
                if due > clock.now { try await Task.sleep(until: due, clock: clock) }
            }
            let (value, metadata) = try event(index)
            // The high-volume path: no waiter per record; a failed delivery makes the flush below throw.
            try await events.enqueue(value, metadata: metadata)
        }
        try await events.producer.flush(timeout: .seconds(120))
        return count
    }

    /// Sends records built beforehand at `rate` per second (a burst whose encoding must not slow it down), then
    /// waits until the broker acknowledged them all.
    /// - Parameters:
    ///   - messages: The records (``EventProducer/message(for:metadata:)``).
    ///   - rate: Records per second (0: as fast as possible).
    /// - Throws: ``KafkaError`` when producing fails.
    public func send(messages: [ProducerMessage], rate: Double) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        for (index, message) in messages.enumerated() {
            if rate > 0 {
                let due = start.advanced(by: .microseconds(Int64(Double(index) / rate * 1_000_000)))
                if due > clock.now { try await Task.sleep(until: due, clock: clock) }
            }
            try await events.producer.enqueue(message)
        }
        try await events.producer.flush(timeout: .seconds(120))
    }
}
