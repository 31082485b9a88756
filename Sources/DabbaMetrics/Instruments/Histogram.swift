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

    /// Records observations gathered without a lock (see ``HistogramSample``), under one lock: for hot paths that
    /// observe many values per unit of work, where a lock per value would cost more than the observation.
    /// - Parameter sample: The observations.
    public func record(_ sample: HistogramSample) {
        guard sample.count > 0, sample.bucketCounts.count == upperBounds.count + 1 else { return }
        state.withLock { state in
            for (index, count) in sample.bucketCounts.enumerated() where count > 0 {
                state.bucketCounts[index] += count
            }
            state.sum += sample.sum
            state.count += sample.count
        }
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
    func bucketIndex(for value: Double) -> Int {
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

/// Observations of one ``Histogram`` gathered locally, recorded into it at once with ``Histogram/record(_:)``.
///
/// A value type owned by one task: observing takes no lock. Scrapes see the observations once recorded.
public struct HistogramSample: Sendable {
    private let histogram: Histogram
    fileprivate(set) var bucketCounts: [Int]
    fileprivate(set) var sum: Double = 0
    /// The number of observations gathered.
    public private(set) var count = 0

    /// An empty sample for a histogram.
    /// - Parameter histogram: The histogram it will be recorded into.
    public init(for histogram: Histogram) {
        self.histogram = histogram
        bucketCounts = Array(repeating: 0, count: histogram.upperBounds.count + 1)
    }

    /// Gathers one observation (`NaN` is ignored, as by ``Histogram/observe(_:)-(Double)``).
    /// - Parameter seconds: The observed value.
    public mutating func observe(_ seconds: Double) {
        guard !seconds.isNaN else { return }
        bucketCounts[histogram.bucketIndex(for: seconds)] += 1
        sum += seconds
        count += 1
    }

    /// Gathers one duration, converted to seconds.
    /// - Parameter duration: The observed duration.
    public mutating func observe(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        observe(Double(seconds) + Double(attoseconds) / 1e18)
    }
}
