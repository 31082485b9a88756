/// The Prometheus type of a metric family, written on its `# TYPE` line.
///
/// A struct rather than an enum so that types can be added (for example summaries) without breaking code that
/// switches over them. Collectors (``MetricsRegistry/addCollector(_:)``) emit single values, so they can use
/// ``counter``, ``gauge`` and ``untyped``; histograms come only from
/// ``MetricsRegistry/histogram(_:help:labels:buckets:)``.
public struct MetricType: Hashable, Sendable, CustomStringConvertible {
    private let name: String
    private init(_ name: String) { self.name = name }

    /// A cumulative count that only goes up (it resets to zero when the process restarts).
    public static let counter = MetricType("counter")
    /// A value that can go up and down.
    public static let gauge = MetricType("gauge")
    /// A value whose type is unknown.
    public static let untyped = MetricType("untyped")
    /// Bucketed observations with `_bucket`, `_sum` and `_count` series.
    static let histogram = MetricType("histogram")

    /// The name written on the `# TYPE` line: `counter`, `gauge`, `untyped` or `histogram`.
    public var description: String { name }
}
