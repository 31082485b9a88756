import CoreMetrics

/// A pipeline's metrics, recorded through swift-metrics: events consumed, handled, failed, retried, dead-lettered,
/// duplicates skipped, handler latency, and (see ``PipelineGauges``) consumer lag, pauses and circuit breakers.
///
/// Dabba never bootstraps a backend here: the factory is the one given, by default the one bootstrapped in
/// `MetricsSystem` (the standard service runner bootstraps swift-prometheus unless the application chose another).
/// Every series carries the labels given (the standard runner's: `service`). Docs/observability.md lists every metric
/// with its meaning.
///
/// Counts are also kept in process (``PipelineCounter/value``): tests and the runner read them whatever the backend.
public final class PipelineMetrics: Sendable {
    /// Where the metrics are recorded.
    public let factory: any MetricsFactory
    /// The labels every series carries, sorted by name.
    public let dimensions: [(String, String)]
    /// `dabba_events_consumed_total`: records consumed (excluding retry records not yet due).
    public let consumed: PipelineCounter
    /// `dabba_events_handled_total`: events whose handler succeeded.
    public let handled: PipelineCounter
    /// `dabba_events_failed_total`: events whose handling failed (before being retried or dead-lettered), including
    /// poison records.
    public let failed: PipelineCounter
    /// `dabba_events_retried_total`: events parked in a retry tier.
    public let retried: PipelineCounter
    /// `dabba_events_retried_in_place_total`: handler calls repeated in place after a ``TransientError``.
    public let retriedInPlace: PipelineCounter
    /// `dabba_events_dead_lettered_total`: events written to a dead-letter topic.
    public let deadLettered: PipelineCounter
    /// `dabba_events_duplicates_skipped_total`: events skipped because the inbox had already recorded them.
    public let duplicates: PipelineCounter
    /// `dabba_events_ignored_total`: events of explicitly ignored (or unhandled) types.
    public let ignored: PipelineCounter
    /// `dabba_events_held_total`: events parked behind an earlier event of their key by the key order guard.
    public let held: PipelineCounter
    /// `dabba_batches_rewound_total`: partitions read again from a batch's first record because an event its
    /// handlers emitted was not acknowledged.
    public let batchesRewound: PipelineCounter
    /// `dabba_transactions_committed_total`: exactly-once transactions committed.
    public let transactionsCommitted: PipelineCounter
    /// `dabba_transactions_aborted_total`: exactly-once transactions aborted.
    public let transactionsAborted: PipelineCounter
    /// `dabba_handler_duration_seconds`: each handler call's duration (a timer: a histogram in Prometheus).
    public let handlerLatency: Timer
    /// `dabba_outbox_depth`: events waiting in the transactional outbox (outbox mode).
    public let outboxDepth: PipelineGauge
    /// `dabba_outbox_oldest_age_seconds`: age of the oldest event waiting in the outbox (0 when empty).
    public let outboxOldestAge: PipelineGauge
    /// `dabba_outbox_published_total`: outbox rows the relay published (acknowledged by the broker).
    public let outboxPublished: PipelineCounter
    /// `dabba_timers_fired_total`: durable timers fired (their events handled and recorded).
    public let timersFired: PipelineCounter

    /// Creates the metrics.
    /// - Parameters:
    ///   - service: The service's name, the `service` label of every series.
    ///   - factory: Where they are recorded: the bootstrapped `MetricsSystem` backend by default.
    ///   - labels: More labels for every series. Keep one set of label names per process: some backends
    ///     (swift-prometheus) refuse a metric whose label names differ from its first series'.
    public init(
        service: String, factory: any MetricsFactory = MetricsSystem.factory, labels: [String: String] = [:]
    ) {
        self.factory = factory
        var labels = labels
        labels["service"] = service
        let dimensions = labels.sorted { $0.key < $1.key }
        self.dimensions = dimensions
        func counter(_ name: String) -> PipelineCounter {
            PipelineCounter(name, dimensions: dimensions, factory: factory)
        }
        consumed = counter("dabba_events_consumed_total")
        handled = counter("dabba_events_handled_total")
        failed = counter("dabba_events_failed_total")
        retried = counter("dabba_events_retried_total")
        retriedInPlace = counter("dabba_events_retried_in_place_total")
        deadLettered = counter("dabba_events_dead_lettered_total")
        duplicates = counter("dabba_events_duplicates_skipped_total")
        ignored = counter("dabba_events_ignored_total")
        held = counter("dabba_events_held_total")
        timersFired = counter("dabba_timers_fired_total")
        batchesRewound = counter("dabba_batches_rewound_total")
        transactionsCommitted = counter("dabba_transactions_committed_total")
        transactionsAborted = counter("dabba_transactions_aborted_total")
        handlerLatency = Timer(label: "dabba_handler_duration_seconds", dimensions: dimensions, factory: factory)
        outboxDepth = PipelineGauge("dabba_outbox_depth", dimensions: dimensions, factory: factory)
        outboxOldestAge = PipelineGauge("dabba_outbox_oldest_age_seconds", dimensions: dimensions, factory: factory)
        outboxPublished = counter("dabba_outbox_published_total")
    }

    /// Records one handler call's duration.
    func recordHandlerDuration(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        handlerLatency.recordNanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }

    /// The dimensions of a series with more labels than the pipeline's (a table's name, a partition).
    func dimensions(_ more: (String, String)...) -> [(String, String)] {
        dimensions + more
    }

    /// One counter per value of a label (a table's or a window's name), each with this pipeline's labels too.
    func counters(_ name: String, label: String, values: some Sequence<String>) -> [String: PipelineCounter] {
        Dictionary(uniqueKeysWithValues: values.map { value in
            (value, PipelineCounter(name, dimensions: dimensions((label, value)), factory: factory))
        })
    }

    /// Counts a breaker's transition: `dabba_breaker_transitions_total{dependency,from,to}`, and sets
    /// `dabba_breaker_state{dependency}` at once (the periodic refresh would show it up to a second late).
    func breakerTransitioned(_ name: String, from: CircuitBreaker.State, to: CircuitBreaker.State) {
        Meter(label: "dabba_breaker_state", dimensions: dimensions(("dependency", name)), factory: factory)
            .set(to.rawValue)
        Counter(
            label: "dabba_breaker_transitions_total",
            dimensions: dimensions(("dependency", name), ("from", "\(from)"), ("to", "\(to)")), factory: factory
        ).increment()
    }

    /// Counts an event held because its dependency was unavailable: `dabba_breaker_held_events_total{dependency}`.
    func breakerHeld(_ name: String) {
        Counter(label: "dabba_breaker_held_events_total", dimensions: dimensions(("dependency", name)), factory: factory)
            .increment()
    }
}
