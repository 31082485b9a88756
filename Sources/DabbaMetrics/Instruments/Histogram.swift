import Synchronization

/// A distribution of observed values, typically durations in seconds, counted into fixed buckets.
///
/// Get one from ``MetricsRegistry/histogram(_:help:labels:buckets:)``. It is exported as cumulative
/// `<name>_bucket{le="…"}` series (ending with `le="+Inf"`), `<name>_sum` and `<name>_count`.
///
/// An observation finds its bucket by binary search outside any lock, then takes a short `Mutex` to update the
/// bucket, the sum and the count together, so a scrape always sees `_count` equal to the `+Inf` bucket.
public final class Histogram: Sendable {
    /// The finite upper bounds, strictly increasing; the `+Inf` bucket is implicit.
    let upperBounds: [Double]
    private let state: Mutex<State>

    struct State: Sendable {
        /// Per-bucket (not cumulative) counts; the last element is the `+Inf` bucket.
        var bucketCounts: [Int]
        var sum: Double = 0
        var count: Int = 0
    }

    /// A consistent copy of a histogram's state, with cumulative bucket counts.
    struct Snapshot: Sendable, Equatable {
        /// The finite upper bounds.
        var upperBounds: [Double]
        /// Cumulative counts for each finite bound, followed by the `+Inf` count.
        var cumulativeCounts: [Int]
        var sum: Double
        var count: Int
    }

    /// - Parameter buckets: Upper bounds in any order; non-finite values and duplicates are dropped.
    init(buckets: [Double]) {
        let bounds = Array(Set(buckets.filter { $0.isFinite })).sorted()
        self.upperBounds = bounds
        self.state = Mutex(State(bucketCounts: Array(repeating: 0, count: bounds.count + 1)))
    }

    /// Records one observation.
    ///
    /// The value is counted in the first bucket whose upper bound is greater than or equal to it (Prometheus's
    /// `le` semantics), and added to the sum. `NaN` is ignored, since it would make the sum meaningless.
    /// - Parameter seconds: The observed value, in seconds for duration histograms.
    public func observe(_ seconds: Double) {
        guard !seconds.isNaN else { return }
        let index = bucketIndex(for: seconds)
        state.withLock { state in
            state.bucketCounts[index] += 1
            state.sum += seconds
            state.count += 1
        }
    }

    /// Records one duration, converted to seconds.
    /// - Parameter duration: The observed duration.
    public func observe(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        // Dividing (rather than multiplying by 1e-18, which is inexact) keeps e.g. 30 ms at exactly 0.03.
        observe(Double(seconds) + Double(attoseconds) / 1e18)
    }

    /// The number of observations so far.
    public var count: Int {
        state.withLock { $0.count }
    }

    /// The sum of the observations so far.
    public var sum: Double {
        state.withLock { $0.sum }
    }

    /// A consistent copy of the current counts, with buckets made cumulative.
    func snapshot() -> Snapshot {
        let state = self.state.withLock { $0 }
        var running = 0
        let cumulative = state.bucketCounts.map { count in
            running += count
            return running
        }
        return Snapshot(upperBounds: upperBounds, cumulativeCounts: cumulative, sum: state.sum, count: state.count)
    }

    /// The index of the first bound `>= value`, or `upperBounds.count` (the `+Inf` bucket).
    private func bucketIndex(for value: Double) -> Int {
        var low = 0
        var high = upperBounds.count
        while low < high {
            let middle = (low + high) / 2
            if upperBounds[middle] < value {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}
