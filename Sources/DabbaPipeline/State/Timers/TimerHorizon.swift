import DabbaKafka
import Synchronization

/// What the runner knows of its next pending timer, so that a pipeline with no timer due does not ask the database
/// every poll interval: after a look, the database is asked again only when the earliest known due time passes, a
/// handler of this process schedules a timer, the assignment changes, or ``recheckMilliseconds`` passed.
///
/// Timers of a partition are scheduled only by the instance owning it (by its events' handlers), so between
/// rebalances this process sees every schedule of its partitions. The periodic re-check covers rows written
/// otherwise (a schedule of the previous owner committed as the partition moved, a row inserted by hand).
final class TimerHorizon: Sendable {
    /// How long a known horizon is trusted without asking the database: one minute.
    static let recheckMilliseconds: Int64 = 60_000

    private struct Knowledge {
        /// The partitions the knowledge is about.
        var partitions: Set<TopicPartition>
        /// The earliest pending due time, or nil: none pending.
        var nextDue: Int64?
        /// When the database was asked.
        var learnedAt: Int64
    }

    /// Nil: unknown, ask at the next look.
    private let knowledge = Mutex<Knowledge?>(nil)

    /// Whether a timer of these partitions may be due at `now`: the database must be asked.
    func mayBeDue(at now: Int64, owning partitions: Set<TopicPartition>) -> Bool {
        knowledge.withLock { knowledge in
            guard let known = knowledge, known.partitions == partitions,
                now - known.learnedAt < Self.recheckMilliseconds
            else { return true }
            return known.nextDue.map { now >= $0 } ?? false
        }
    }

    /// Records what the database said: the earliest pending timer of these partitions not yet due at `now`.
    func learned(nextDue: Int64?, owning partitions: Set<TopicPartition>, at now: Int64) {
        knowledge.withLock { knowledge in
            knowledge = Knowledge(partitions: partitions, nextDue: nextDue, learnedAt: now)
        }
    }

    /// A handler scheduled a timer (its transaction may still roll back: then the next look finds nothing, which is
    /// merely one query).
    func scheduled(dueMilliseconds: Int64) {
        knowledge.withLock { knowledge in
            let earliest = min(knowledge?.nextDue ?? dueMilliseconds, dueMilliseconds)
            knowledge?.nextDue = earliest
        }
    }

    /// Forgets what was known: the next look asks the database.
    func forget() { knowledge.withLock { $0 = nil } }
}
