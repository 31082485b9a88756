import Synchronization

/// A value that goes up and down, such as in-flight messages or the size of a batch.
///
/// Get one from ``MetricsRegistry/gauge(_:help:labels:)``. Updates are lock-free: `set(_:)` is an
/// atomic store and ``increment(by:)`` / ``decrement(by:)`` are compare-and-swap loops on the value's bits.
///
/// For a value that is cheaper to read when scraped than to keep up to date, register a callback instead with
/// ``MetricsRegistry/gauge(_:help:labels:_:)``.
public final class Gauge: Sendable {
    /// The `Double`'s bit pattern, since `Atomic` has no floating-point specialisation.
    private let bits = Atomic<UInt64>(Double(0).bitPattern)

    init() {}

    /// Replaces the gauge's value.
    /// - Parameter value: The new value.
    public func set(_ value: Double) {
        bits.store(value.bitPattern, ordering: .relaxed)
    }

    /// Replaces the gauge's value with an integer (converted to `Double`).
    /// - Parameter value: The new value.
    public func set(_ value: Int) {
        set(Double(value))
    }

    /// Adds `amount` to the gauge.
    /// - Parameter amount: How much to add; `1` by default. May be negative.
    public func increment(by amount: Double = 1) {
        var current = bits.load(ordering: .relaxed)
        while true {
            let desired = (Double(bitPattern: current) + amount).bitPattern
            let (exchanged, original) = bits.compareExchange(
                expected: current,
                desired: desired,
                ordering: .relaxed
            )
            if exchanged { return }
            current = original
        }
    }

    /// Subtracts `amount` from the gauge.
    /// - Parameter amount: How much to subtract; `1` by default. May be negative.
    public func decrement(by amount: Double = 1) {
        increment(by: -amount)
    }

    /// The current value.
    public var value: Double {
        Double(bitPattern: bits.load(ordering: .relaxed))
    }
}
