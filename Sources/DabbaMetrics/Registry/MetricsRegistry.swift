import Synchronization

/// Emits one sample from a collector: `emit(name, help, type, labels, value)`.
///
/// Only valid during the collector call it is passed to.
/// - Parameters:
///   - name: The metric name; sanitised like registered names.
///   - help: The `# HELP` text of the family.
///   - type: ``MetricType/counter``, ``MetricType/gauge`` or ``MetricType/untyped``.
///   - labels: The series' labels.
///   - value: The sample value.
public typealias MetricEmitter = (
    _ name: String, _ help: String, _ type: MetricType, _ labels: [String: String], _ value: Double
) -> Void

/// Identifies a collector added with ``MetricsRegistry/addCollector(_:)``, so it can be removed.
public struct MetricsCollectorID: Hashable, Sendable {
    let rawValue: UInt64
}

/// The metrics of a process: creates instruments, keeps them, and renders them in the Prometheus text format.
///
/// ```swift
/// let registry = MetricsRegistry()
/// let consumed = registry.counter("dabba_messages_consumed_total", help: "Messages consumed.",
///                                 labels: ["topic": "payments"])
/// let latency = registry.histogram("dabba_handler_duration_seconds", help: "Handler latency.")
/// consumed.increment()
/// latency.observe(.milliseconds(12))
/// print(registry.prometheusText())
/// ```
///
/// ## Identity and conflicts
/// A series is identified by its metric name and its labels (in any order). Asking again for the same name and
/// labels returns the same instrument, so instruments can be looked up where they are used instead of being passed
/// around. Registering a name again with a different type or help text is a programming error, which the registry
/// resolves without crashing and without logging:
/// - a different **help** text is ignored: the family keeps the help it was first registered with, and the existing
///   instrument is returned (or a new series is added to the family if the labels are new);
/// - a different **type** cannot return the existing instrument, so a *detached* instrument is returned: it works,
///   but is never exported. The first registration of a name fixes its type.
///
/// The same holds for histogram buckets (the first registration of a series fixes them) and for callback gauges (a
/// second callback for the same series is ignored).
///
/// A series is exported from its registration on, so registering the label sets you know of up front (discarding
/// the result) makes them appear as `0` before their first event. Registered series are never removed; for series
/// that come and go, use ``addCollector(_:)``.
///
/// ## Names
/// Names that are not valid Prometheus names are sanitised rather than rejected: characters outside
/// `[a-zA-Z0-9_:]` (`[a-zA-Z0-9_]` for label names) become `_`, and a leading digit gets a `_` in front. A label named
/// `le` on a histogram is dropped, since `le` holds the bucket bound.
///
/// ## Threads
/// All methods may be called from any thread or task. Instrument updates never take the registry's lock. Callback
/// gauges and collectors run on the thread that calls ``prometheusText()`` (the ``MetricsHTTPServer`` thread when
/// scraped over HTTP), outside the registry's lock, so they may themselves use the registry; they should be quick
/// and must not block on async work.
public final class MetricsRegistry: Sendable {
    /// The default histogram buckets, in seconds: 1 ms to 10 s.
    public static let defaultBuckets: [Double] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]

    private let state = Mutex(State())

    private struct State: Sendable {
        var families: [String: Family] = [:]
        var collectors: [(id: MetricsCollectorID, collect: Collector)] = []
        var nextCollectorID: UInt64 = 0
    }

    typealias Collector = @Sendable (_ emit: MetricEmitter) -> Void

    private struct Family: Sendable {
        let help: String
        let type: MetricType
        var series: [LabelSet: Instrument] = [:]
    }

    private enum Instrument: Sendable {
        case counter(Counter)
        case gauge(Gauge)
        case gaugeCallback(@Sendable () -> Double)
        case histogram(Histogram)
    }

    /// Creates an empty registry.
    public init() {}

    // MARK: - Instruments

    /// Returns the counter for `name` and `labels`, creating it on first use.
    /// - Parameters:
    ///   - name: The metric name, conventionally ending in `_total`.
    ///   - help: What the counter counts; written on the `# HELP` line.
    ///   - labels: The series' labels.
    /// - Returns: The counter registered for `name` and `labels`, or a detached counter (not exported) if `name` is
    ///   already registered with another type.
    @discardableResult
    public func counter(_ name: String, help: String, labels: [String: String] = [:]) -> Counter {
        register(
            name,
            help: help,
            type: .counter,
            labels: LabelSet(labels),
            make: { .counter(Counter()) },
            existing: { if case .counter(let counter) = $0 { counter } else { nil } },
            detached: { Counter() }
        )
    }

    /// Returns the gauge for `name` and `labels`, creating it on first use.
    /// - Parameters:
    ///   - name: The metric name.
    ///   - help: What the gauge measures; written on the `# HELP` line.
    ///   - labels: The series' labels.
    /// - Returns: The gauge registered for `name` and `labels`, or a detached gauge (not exported) if `name` is
    ///   already registered with another type or the series is a callback gauge.
    @discardableResult
    public func gauge(_ name: String, help: String, labels: [String: String] = [:]) -> Gauge {
        register(
            name,
            help: help,
            type: .gauge,
            labels: LabelSet(labels),
            make: { .gauge(Gauge()) },
            existing: { if case .gauge(let gauge) = $0 { gauge } else { nil } },
            detached: { Gauge() }
        )
    }

    /// Registers a gauge whose value is read from `value` each time the registry is rendered.
    ///
    /// Use it for values that are cheaper to read at scrape time than to keep up to date (queue depths, pool
    /// sizes). The callback is kept for the registry's lifetime; for series that come and go, such as consumer lag
    /// per assigned partition, use ``addCollector(_:)`` instead.
    /// - Parameters:
    ///   - name: The metric name.
    ///   - help: What the gauge measures; written on the `# HELP` line.
    ///   - labels: The series' labels.
    ///   - value: Called at scrape time, outside the registry's lock, on the scraping thread. It must be quick.
    ///     Ignored if the series already exists or `name` is registered with another type.
    public func gauge(
        _ name: String,
        help: String,
        labels: [String: String] = [:],
        _ value: @escaping @Sendable () -> Double
    ) {
        register(
            name,
            help: help,
            type: .gauge,
            labels: LabelSet(labels),
            make: { .gaugeCallback(value) },
            existing: { _ in () },
            detached: { () }
        )
    }

    /// Returns the histogram for `name` and `labels`, creating it on first use.
    /// - Parameters:
    ///   - name: The metric name, conventionally ending in `_seconds` for durations.
    ///   - help: What the histogram observes; written on the `# HELP` line.
    ///   - labels: The series' labels; a label named `le` is dropped.
    ///   - buckets: The buckets' upper bounds, in seconds for durations; order does not matter, duplicates and
    ///     non-finite values are dropped, and the `+Inf` bucket is always added. Only used when the series is
    ///     created.
    /// - Returns: The histogram registered for `name` and `labels`, or a detached histogram (not exported) if `name`
    ///   is already registered with another type.
    @discardableResult
    public func histogram(
        _ name: String,
        help: String,
        labels: [String: String] = [:],
        buckets: [Double] = MetricsRegistry.defaultBuckets
    ) -> Histogram {
        register(
            name,
            help: help,
            type: .histogram,
            labels: LabelSet(labels, reserved: ["le"]),
            make: { .histogram(Histogram(buckets: buckets)) },
            existing: { if case .histogram(let histogram) = $0 { histogram } else { nil } },
            detached: { Histogram(buckets: buckets) }
        )
    }

    /// The shared registration logic; see the type's documentation for the conflict rules.
    private func register<Result>(
        _ rawName: String,
        help: String,
        type: MetricType,
        labels: LabelSet,
        make: () -> Instrument,
        existing: (Instrument) -> Result?,
        detached: () -> Result
    ) -> Result {
        let name = MetricName.sanitizedMetricName(rawName)
        return state.withLock { state in
            // Reads through optional chaining and writes through the in-place `default:` subscript, so a family's
            // series are never copied.
            if let registeredType = state.families[name]?.type, registeredType != type {
                return detached()
            }
            if let instrument = state.families[name]?.series[labels] {
                return existing(instrument) ?? detached()
            }
            let instrument = make()
            state.families[name, default: Family(help: help, type: type)].series[labels] = instrument
            return existing(instrument) ?? detached()
        }
    }

    // MARK: - Collectors

    /// Adds a callback that emits samples at scrape time, for series whose label sets change at run time.
    ///
    /// ```swift
    /// registry.addCollector { emit in
    ///     for (partition, lag) in consumer.currentLag() {
    ///         emit("dabba_consumer_lag", "Messages behind the log end.", .gauge,
    ///              ["topic": partition.topic, "partition": String(partition.id)], Double(lag))
    ///     }
    /// }
    /// ```
    ///
    /// Emitted samples join the registered families of the same name when type and help match; samples that
    /// conflict with an already rendered family (another type or help text) or repeat an already rendered series are
    /// dropped. Collectors run in the order they were added, after the registered instruments.
    /// - Parameter collect: Called at scrape time, outside the registry's lock, on the scraping thread, with an
    ///   `emit` function valid only during the call. It must be quick.
    /// - Returns: An identifier for ``removeCollector(_:)``.
    @discardableResult
    public func addCollector(_ collect: @escaping @Sendable (_ emit: MetricEmitter) -> Void) -> MetricsCollectorID {
        state.withLock { state in
            let id = MetricsCollectorID(rawValue: state.nextCollectorID)
            state.nextCollectorID += 1
            state.collectors.append((id, collect))
            return id
        }
    }

    /// Removes a collector, so it is no longer called (a scrape already in progress may still call it once).
    /// - Parameter id: The identifier ``addCollector(_:)`` returned. Unknown identifiers are ignored.
    public func removeCollector(_ id: MetricsCollectorID) {
        state.withLock { state in
            state.collectors.removeAll { $0.id == id }
        }
    }

    // MARK: - Exposition

    /// Renders every metric in the Prometheus text exposition format, version 0.0.4.
    ///
    /// Families are sorted by name and series by labels, so the output is stable. Each family has a `# HELP` and a
    /// `# TYPE` line; label values are escaped (`\\`, `\"`, `\n`) and numbers are written the way Prometheus's Go
    /// client writes them (`1`, `0.005`, `1e-05`, `1.5e+06`, `+Inf`, `NaN`). Serve it with the content type
    /// `text/plain; version=0.0.4; charset=utf-8`, as ``MetricsHTTPServer`` does.
    /// - Returns: The exposition text; empty when there are no metrics.
    public func prometheusText() -> String {
        PrometheusTextEncoder.encode(collectFamilies())
    }

    /// Reads every instrument, calls the callbacks and collectors, and merges their samples into families.
    func collectFamilies() -> [ExposedFamily] {
        let (families, collectors) = state.withLock { state in
            (state.families, state.collectors.map(\.collect))
        }

        var exposed: [String: ExposedFamily] = [:]
        for (name, family) in families {
            var samples: [LabelSet: ExposedFamily.Sample] = [:]
            samples.reserveCapacity(family.series.count)
            for (labels, instrument) in family.series {
                switch instrument {
                case .counter(let counter): samples[labels] = .integer(counter.value)
                case .gauge(let gauge): samples[labels] = .double(gauge.value)
                case .gaugeCallback(let read): samples[labels] = .double(read())
                case .histogram(let histogram): samples[labels] = .histogram(histogram.snapshot())
                }
            }
            exposed[name] = ExposedFamily(name: name, help: family.help, type: family.type, samples: samples)
        }

        for collect in collectors {
            collect { rawName, help, type, rawLabels, value in
                guard type != .histogram else { return }
                let name = MetricName.sanitizedMetricName(rawName)
                let labels = LabelSet(rawLabels)
                // Reads through optional chaining and the in-place `default:` subscript, so the family's samples are
                // never copied.
                if exposed[name] != nil {
                    guard exposed[name]?.type == type, exposed[name]?.help == help,
                        exposed[name]?.samples[labels] == nil
                    else { return }
                }
                exposed[name, default: ExposedFamily(name: name, help: help, type: type, samples: [:])]
                    .samples[labels] = .double(value)
            }
        }

        return exposed.values.sorted { $0.name < $1.name }
    }
}
