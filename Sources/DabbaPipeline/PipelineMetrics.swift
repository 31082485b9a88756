import DabbaKafka
import DabbaMetrics

/// A pipeline's Prometheus metrics: events consumed, handled, failed, retried, dead-lettered, duplicates skipped,
/// handler latency, and consumer lag per partition.
public final class PipelineMetrics: Sendable {
    /// The registry the metrics live in (serve it with `MetricsHTTPServer`).
    public let registry: MetricsRegistry
    /// Records consumed (excluding retry records not yet due).
    public let consumed: Counter
    /// Events whose handler succeeded.
    public let handled: Counter
    /// Events whose handling failed (before being retried or dead-lettered), including poison records.
    public let failed: Counter
    /// Events parked in a retry tier.
    public let retried: Counter
    /// Handler calls repeated in place after a ``TransientError``.
    public let retriedInPlace: Counter
    /// Events written to a dead-letter topic.
    public let deadLettered: Counter
    /// Events skipped because the inbox had already recorded them.
    public let duplicates: Counter
    /// Events of explicitly ignored (or unhandled) types.
    public let ignored: Counter
    /// Events parked behind an earlier event of their key by the key order guard.
    public let held: Counter
    /// Partitions read again from a batch's first record because an event its handlers emitted was not
    /// acknowledged.
    public let batchesRewound: Counter
    /// Exactly-once transactions committed.
    public let transactionsCommitted: Counter
    /// Exactly-once transactions aborted.
    public let transactionsAborted: Counter
    /// Handler latency in seconds.
    public let handlerLatency: Histogram
    /// Events waiting in the transactional outbox (outbox mode).
    public let outboxDepth: Gauge
    /// Age in seconds of the oldest event waiting in the outbox (0 when empty).
    public let outboxOldestAge: Gauge
    /// Outbox rows the relay published (acknowledged by the broker).
    public let outboxPublished: Counter
    /// Durable timers fired (their events handled and recorded).
    public let timersFired: Counter

    /// Creates the metrics in a registry.
    /// - Parameters:
    ///   - registry: The registry (a new one by default).
    ///   - labels: Labels added to every metric (e.g. the service name).
    public init(registry: MetricsRegistry = MetricsRegistry(), labels: [String: String] = [:]) {
        self.registry = registry
        func counter(_ name: String, _ help: String) -> Counter {
            registry.counter("dabba_events_\(name)_total", help: help, labels: labels)
        }
        consumed = counter("consumed", "Records consumed.")
        handled = counter("handled", "Events handled successfully.")
        failed = counter("failed", "Events whose handling failed, including poison records.")
        retried = counter("retried", "Events parked in a retry tier.")
        retriedInPlace = counter("retried_in_place", "Handler calls repeated in place after a transient error.")
        deadLettered = counter("dead_lettered", "Events written to a dead-letter topic.")
        duplicates = counter("duplicates_skipped", "Events skipped because the inbox had recorded them.")
        ignored = counter("ignored", "Events of ignored or unhandled types.")
        held = counter("held", "Events parked behind an earlier event of their key by the key order guard.")
        timersFired = registry.counter("dabba_timers_fired_total", help: "Durable timers fired.", labels: labels)
        batchesRewound = registry.counter(
            "dabba_batches_rewound_total", help: "Partitions read again because an emitted event was not acknowledged.",
            labels: labels
        )
        transactionsCommitted = registry.counter(
            "dabba_transactions_committed_total", help: "Exactly-once transactions committed.", labels: labels
        )
        transactionsAborted = registry.counter(
            "dabba_transactions_aborted_total", help: "Exactly-once transactions aborted.", labels: labels
        )
        handlerLatency = registry.histogram(
            "dabba_handler_duration_seconds", help: "Handler latency.", labels: labels
        )
        outboxDepth = registry.gauge("dabba_outbox_depth", help: "Events waiting in the outbox.", labels: labels)
        outboxOldestAge = registry.gauge(
            "dabba_outbox_oldest_age_seconds", help: "Age of the oldest event waiting in the outbox.", labels: labels
        )
        outboxPublished = registry.counter(
            "dabba_outbox_published_total", help: "Outbox events published and acknowledged.", labels: labels
        )
        self.labels = labels
    }

    let labels: [String: String]

    /// One counter per value of a label (a table's or a window's name), each with this pipeline's labels too.
    func counters(
        _ name: String, help: String, label: String, values: some Sequence<String>
    ) -> [String: Counter] {
        Dictionary(uniqueKeysWithValues: values.map { value in
            var labels = self.labels
            labels[label] = value
            return (value, registry.counter(name, help: help, labels: labels))
        })
    }

    /// Reports `dabba_pipeline_paused{reason=…}` (1 while the reason pauses the whole instance) at scrape time.
    func registerPaused(_ reasons: @escaping @Sendable () -> [PauseReason: Bool]) {
        let labels = self.labels
        registry.addCollector { emit in
            for (reason, paused) in reasons().sorted(by: { $0.key.description < $1.key.description }) {
                var reasonLabels = labels
                reasonLabels["reason"] = reason.description
                emit(
                    "dabba_pipeline_paused", "Whether the instance is paused as a whole, by reason (operator, throttle).",
                    .gauge, reasonLabels, paused ? 1 : 0
                )
            }
        }
    }

    /// Reports consumer lag per assigned partition at scrape time.
    func registerLag(_ lag: @escaping @Sendable () -> [TopicPartition: Int64]) {
        let labels = self.labels
        registry.addCollector { emit in
            for (partition, value) in lag() {
                var partitionLabels = labels
                partitionLabels["topic"] = partition.topic
                partitionLabels["partition"] = String(partition.partition)
                emit("dabba_consumer_lag", "Messages behind the high watermark.", .gauge, partitionLabels, Double(value))
            }
        }
    }
}
