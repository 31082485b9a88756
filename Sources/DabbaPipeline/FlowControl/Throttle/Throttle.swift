import DabbaKafka
import Synchronization

/// A pipeline instance's rate limits at work: what each batch took is debited from the instance's bucket and from
/// its partitions' buckets, and a bucket in debt pauses what it limits until the debt is repaid.
package final class Throttle: Sendable {
    /// The limits.
    package let configuration: ThrottleConfiguration
    private let state: Mutex<State>

    private struct State {
        var pipeline: TokenBucket?
        var partitions: [TopicPartition: TokenBucket] = [:]
    }

    /// What a debit asks to pause, and until when.
    package struct Pauses: Sendable, Equatable {
        /// Every partition, until then (the instance's bucket is in debt).
        package var everything: ContinuousClock.Instant?
        /// These partitions, each until its bucket is repaid.
        package var partitions: [TopicPartition: ContinuousClock.Instant] = [:]
    }

    /// Creates the buckets, full.
    /// - Parameters:
    ///   - configuration: The limits (at least one set).
    ///   - now: The current time.
    package init(configuration: ThrottleConfiguration, now: ContinuousClock.Instant = .now) {
        self.configuration = configuration
        let pipeline = configuration.eventsPerSecond.map {
            TokenBucket(rate: $0, burst: configuration.burst(for: $0), now: now)
        }
        state = Mutex(State(pipeline: pipeline))
    }

    /// Debits events taken, per partition, and says what must pause.
    /// - Parameters:
    ///   - counts: Events taken per partition.
    ///   - now: The current time.
    /// - Returns: The pauses the debts call for.
    package func debit(_ counts: [TopicPartition: Int], now: ContinuousClock.Instant = .now) -> Pauses {
        let configuration = self.configuration
        return state.withLock { state in
            var pauses = Pauses()
            if state.pipeline != nil {
                state.pipeline?.take(counts.values.reduce(0, +), at: now)
                pauses.everything = state.pipeline?.repaid(after: now)
            }
            guard let rate = configuration.eventsPerSecondPerPartition else { return pauses }
            for (partition, count) in counts where count > 0 {
                var bucket = state.partitions[partition]
                    ?? TokenBucket(rate: rate, burst: configuration.burst(for: rate), now: now)
                bucket.take(count, at: now)
                if let until = bucket.repaid(after: now) { pauses.partitions[partition] = until }
                state.partitions[partition] = bucket
            }
            return pauses
        }
    }

    /// Whether the instance's bucket is in debt now.
    package func isPipelineInDebt(now: ContinuousClock.Instant = .now) -> Bool {
        state.withLock { $0.pipeline?.repaid(after: now) != nil }
    }
}
