import DabbaKafka
import Synchronization

/// The events handlers emitted while one batch was processed, acknowledged together before the batch's input
/// offsets (and inbox transaction) commit.
///
/// Waiting for the broker per emitted event would cost each event a round trip (and the producer's linger), so a
/// partition would move a few hundred events per second. Instead an emit only hands the event to the producer; the
/// batch commits after every one of its emits is acknowledged, and a batch with a failed emit is not committed but
/// read again (its partition is rewound), so an emitted event is never lost. The producer keeps emitted events in
/// order per partition, so emits stay in the order their handlers made them.
final class BatchDeliveries: Sendable {
    /// The batch being processed by the current task (and the tasks it starts); nil outside a batch and in
    /// exactly-once mode, where the transaction plays this part.
    @TaskLocal static var current: BatchDeliveries?

    private struct Pending {
        var source: TopicPartition
        var delivery: PendingDelivery
    }

    private let pending = Mutex<[Pending]>([])

    /// Records an emit of an event caused by a record of `source`.
    func add(_ delivery: PendingDelivery, from source: TopicPartition) {
        pending.withLock { $0.append(Pending(source: source, delivery: delivery)) }
    }

    /// Waits for every recorded delivery; returns the first failure per source partition (empty when all were
    /// acknowledged). Deliveries recorded meanwhile are waited for too.
    func settle() async -> [TopicPartition: any Error] {
        var failures: [TopicPartition: any Error] = [:]
        while true {
            let batch = pending.withLock { pending in
                defer { pending.removeAll() }
                return pending
            }
            if batch.isEmpty { return failures }
            for item in batch {
                do { _ = try await item.delivery.report() } catch {
                    if failures[item.source] == nil { failures[item.source] = error }
                }
            }
        }
    }

    /// Waits for every recorded delivery and throws ``EmitNotAcknowledged`` if one failed: the gate an inbox
    /// transaction passes just before its commit.
    func requireAcknowledged() async throws {
        let failures = await settle()
        if let (partition, error) = failures.first {
            throw EmitNotAcknowledged(partitions: Set(failures.keys), firstPartition: partition, underlying: error)
        }
    }
}

/// An event a handler emitted was not acknowledged by the broker, so the batch that emitted it was not committed.
struct EmitNotAcknowledged: Error, CustomStringConvertible {
    /// The source partitions whose records emitted an unacknowledged event.
    var partitions: Set<TopicPartition>
    var firstPartition: TopicPartition
    var underlying: any Error

    var description: String {
        "an event emitted while handling \(firstPartition.topic)[\(firstPartition.partition)] was not acknowledged: "
            + "\(underlying)"
    }
}
