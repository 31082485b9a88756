import Synchronization

/// A monotonically increasing count, such as messages consumed or records failed.
///
/// Get one from ``MetricsRegistry/counter(_:help:labels:)``; the registry keeps it and exports it on every scrape.
/// ``increment(by:)`` is a single lock-free atomic add, cheap enough for per-message hot paths.
public final class Counter: Sendable {
    private let storage = Atomic<Int>(0)

    init() {}

    /// Adds `amount` to the counter.
    ///
    /// A counter only goes up: a negative `amount` is ignored. The count wraps around on overflow instead of
    /// trapping, which Prometheus treats as a counter reset.
    /// - Parameter amount: How much to add; `1` by default.
    public func increment(by amount: Int = 1) {
        guard amount > 0 else { return }
        storage.wrappingAdd(amount, ordering: .relaxed)
    }

    /// The current count.
    public var value: Int {
        storage.load(ordering: .relaxed)
    }
}
