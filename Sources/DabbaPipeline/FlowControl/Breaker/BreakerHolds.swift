import DabbaKafka
import Synchronization

/// The events one batch holds because a dependency was unavailable, by partition.
///
/// A held event is not handled, not marked, not retried and not dead-lettered; the events after it in its partition
/// are skipped (order). When the batch finishes, its partitions are marked only up to the held event, and each
/// held partition is rewound to its held event (the runner does both; a partition held is already paused by then).
/// Reached by the batch's tasks through ``current``, like ``BatchDeliveries``.
final class BreakerHolds: Sendable {
    /// The batch being processed by the current task (and the tasks it starts); nil outside a batch.
    @TaskLocal static var current: BreakerHolds?

    /// A held event.
    struct Hold: Sendable, Equatable {
        /// Its offset: the partition is marked up to the one before and rewound to this one.
        var offset: Int64
        /// The dependency it waits for.
        var dependency: String
    }

    private struct State {
        var holds: [TopicPartition: Hold] = [:]
        /// Events whose last failure a breaker counted while closed: held instead of retried if it opens meanwhile.
        var countedFailures: [TopicPartition: [Int64: String]] = [:]
    }

    private let state = Mutex(State())
    /// Whether any event is held: the check every event makes stays one atomic load while nothing is.
    private let holding = Atomic<Bool>(false)

    /// Holds an event; returns whether it is the earliest hold of its partition (a later one is simply skipped).
    @discardableResult
    func hold(_ message: KafkaMessage, for dependency: String) -> Bool {
        let partition = message.topicPartition
        let earliest = state.withLock { state in
            if let existing = state.holds[partition], existing.offset <= message.offset { return false }
            state.holds[partition] = Hold(offset: message.offset, dependency: dependency)
            return true
        }
        holding.store(true, ordering: .releasing)
        return earliest
    }

    /// Whether an event must not be processed in this batch: it is held, or comes after a held event of its
    /// partition.
    func skips(_ message: KafkaMessage) -> Bool {
        guard holding.load(ordering: .acquiring) else { return false }
        return state.withLock { state in
            state.holds[message.topicPartition].map { $0.offset <= message.offset } ?? false
        }
    }

    /// The held event of a partition, if any.
    func hold(of partition: TopicPartition) -> Hold? {
        guard holding.load(ordering: .acquiring) else { return nil }
        return state.withLock { $0.holds[partition] }
    }

    /// Every hold, by partition.
    var holds: [TopicPartition: Hold] {
        state.withLock { $0.holds }
    }

    /// Records that a breaker counted the failure of this event's call while it stayed closed.
    func noteFailure(of message: KafkaMessage, through dependency: String) {
        state.withLock { $0.countedFailures[message.topicPartition, default: [:]][message.offset] = dependency }
    }

    /// The breaker that counted this event's last failure, if one did.
    func countedFailure(of message: KafkaMessage) -> String? {
        state.withLock { $0.countedFailures[message.topicPartition]?[message.offset] }
    }

    /// The messages of one partition's run that may be marked: those before its held event (all without one).
    func markable(_ messages: [KafkaMessage], of partition: TopicPartition) -> ArraySlice<KafkaMessage> {
        guard let hold = hold(of: partition) else { return messages[...] }
        return messages.prefix { $0.offset < hold.offset }
    }
}

/// The error an event skipped behind a held event throws inside an inbox transaction, so the inbox neither records
/// it nor lets it abort the other events of the transaction.
struct SkippedBehindHold: Error, CustomStringConvertible {
    var description: String { "skipped: an earlier event of its partition waits for a dependency" }
}
