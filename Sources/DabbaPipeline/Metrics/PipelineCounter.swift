import CoreMetrics
import Synchronization

/// A count a pipeline records through swift-metrics and also keeps itself, so that the process can read it without
/// a metrics backend (the runner's own decisions, tests, a demo's checks).
public final class PipelineCounter: Sendable {
    private let counter: CoreMetrics.Counter
    private let total = Atomic<Int>(0)

    init(_ name: String, dimensions: [(String, String)], factory: any MetricsFactory) {
        counter = CoreMetrics.Counter(label: name, dimensions: dimensions, factory: factory)
    }

    /// Adds to the count (nothing for zero or less).
    /// - Parameter amount: How much.
    public func increment(by amount: Int = 1) {
        guard amount > 0 else { return }
        total.wrappingAdd(amount, ordering: .relaxed)
        counter.increment(by: amount)
    }

    /// The count so far in this process.
    public var value: Int { total.load(ordering: .relaxed) }
}

/// A level a pipeline records through swift-metrics (a `Meter`: a Prometheus gauge) and also keeps itself.
public final class PipelineGauge: Sendable {
    private let meter: Meter
    private let bits = Atomic<UInt64>(Double(0).bitPattern)

    init(_ name: String, dimensions: [(String, String)], factory: any MetricsFactory) {
        meter = Meter(label: name, dimensions: dimensions, factory: factory)
    }

    /// Sets the level.
    /// - Parameter value: The new level.
    public func set(_ value: Double) {
        bits.store(value.bitPattern, ordering: .relaxed)
        meter.set(value)
    }

    /// Sets the level.
    /// - Parameter value: The new level.
    public func set(_ value: Int) { set(Double(value)) }

    /// The level last set in this process.
    public var value: Double { Double(bitPattern: bits.load(ordering: .relaxed)) }
}
