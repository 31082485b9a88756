import CoreMetrics
import DabbaKafka
import Synchronization

/// The levels a pipeline reports by looking, once a second (``refreshInterval``), rather than as events happen:
/// - `dabba_consumer_lag{topic,partition}`: records behind the high watermark;
/// - `dabba_consumer_lag_seconds{topic,partition}`: how old, at most, the oldest record not yet handled is
///   (``ConsumerLag/seconds``; no series until known);
/// - `dabba_pipeline_paused{reason}`: 1 while the instance is paused as a whole for the reason (`operator`,
///   `throttle`);
/// - `dabba_paused_partitions{reason}`: partitions paused, by reason (`retry-delay`, `breaker:<name>`, `throttle`,
///   `operator`; a partition paused for two reasons counts under both);
/// - `dabba_breaker_state{dependency}`: 0 closed, 1 half-open, 2 open;
/// - `dabba_breaker_open_seconds_total{dependency}`: time the breaker spent open or half-open.
///
/// A revoked partition's series are removed (`destroy`), so a scrape shows only what this instance owns.
final class PipelineGauges: Sendable {
    /// How often the levels are looked at.
    static let refreshInterval = Duration.seconds(1)

    private struct PartitionSeries {
        let messages: Meter
        var seconds: Meter?
    }

    private struct State {
        var partitions: [TopicPartition: PartitionSeries] = [:]
        var pausedPartitionReasons: Set<String> = []
        var breakerOpenMilliseconds: [String: Int64] = [:]
    }

    private let metrics: PipelineMetrics
    private let state = Mutex(State())

    init(_ metrics: PipelineMetrics) {
        self.metrics = metrics
    }

    /// Records the consumer's lag per assigned partition.
    func recordLag(_ report: [TopicPartition: ConsumerLag]) {
        let factory = metrics.factory
        state.withLock { state in
            for (partition, series) in state.partitions where report[partition] == nil {
                series.messages.destroy()
                series.seconds?.destroy()
                state.partitions[partition] = nil
            }
            for (partition, lag) in report {
                let labels = metrics.dimensions(("topic", partition.topic), ("partition", String(partition.partition)))
                var series = state.partitions[partition]
                    ?? PartitionSeries(
                        messages: Meter(label: "dabba_consumer_lag", dimensions: labels, factory: factory), seconds: nil
                    )
                series.messages.set(lag.messages)
                if let seconds = lag.seconds {
                    if series.seconds == nil {
                        series.seconds = Meter(label: "dabba_consumer_lag_seconds", dimensions: labels, factory: factory)
                    }
                    series.seconds?.set(seconds)
                }
                state.partitions[partition] = series
            }
        }
    }

    /// Records why the instance is paused as a whole.
    func recordPaused(_ reasons: [PauseReason: Bool]) {
        for (reason, paused) in reasons {
            meter("dabba_pipeline_paused", ("reason", reason.description)).set(paused ? 1 : 0)
        }
    }

    /// Records the paused partitions by reason; a reason no partition is paused for any more reads 0.
    func recordPausedPartitions(_ pauses: [TopicPartition: Set<PauseReason>]) {
        var counts: [String: Int] = [:]
        for reasons in pauses.values {
            for reason in reasons { counts["\(reason)", default: 0] += 1 }
        }
        let gone = state.withLock { state in
            defer { state.pausedPartitionReasons = Set(counts.keys) }
            return state.pausedPartitionReasons.subtracting(counts.keys)
        }
        for reason in gone { meter("dabba_paused_partitions", ("reason", reason)).set(0) }
        for (reason, count) in counts { meter("dabba_paused_partitions", ("reason", reason)).set(count) }
    }

    /// Records each circuit breaker's state and the time it spent not closed (counted by what is new since the last
    /// look).
    func recordBreakers(_ breakers: CircuitBreakers) {
        for entry in breakers.snapshot {
            meter("dabba_breaker_state", ("dependency", entry.name)).set(entry.state.rawValue)
            let total = entry.timeNotClosed.totalMilliseconds
            let new = state.withLock { state in
                defer { state.breakerOpenMilliseconds[entry.name] = total }
                return max(0, total - (state.breakerOpenMilliseconds[entry.name] ?? 0))
            }
            guard new > 0 else { continue }
            FloatingPointCounter(
                label: "dabba_breaker_open_seconds_total", dimensions: metrics.dimensions(("dependency", entry.name)),
                factory: metrics.factory
            ).increment(by: Double(new) / 1000)
        }
    }

    private func meter(_ name: String, _ label: (String, String)) -> Meter {
        Meter(label: name, dimensions: metrics.dimensions(label), factory: metrics.factory)
    }
}

extension PipelineRunner {
    /// Looks at the lag, pauses and breakers every ``PipelineGauges/refreshInterval`` until the runner stops, and
    /// once more then: the last levels are the final ones.
    func refreshGaugesUntilStopped() async {
        let clock = ContinuousClock()
        var next = clock.now
        while !stopped.load(ordering: .acquiring) {
            if clock.now >= next {
                refreshGauges()
                // Readiness is false while the brokers are down: ask them again once per refresh.
                if !consumer.brokersReachable { _ = await consumer.recheckBrokers() }
                next = clock.now.advanced(by: PipelineGauges.refreshInterval)
            }
            // Short naps: the runner's shutdown waits for this task to see `stopped`.
            try? await Task.sleep(for: .milliseconds(100))
        }
        refreshGauges()
    }

    /// Records the levels once (the C calls read librdkafka's cached state: no broker round trip, no wait).
    func refreshGauges() {
        gauges.recordLag(consumer.lagReport())
        gauges.recordPaused(admission.pausedReasons)
        gauges.recordPausedPartitions(pauses.snapshot)
        gauges.recordBreakers(breakers)
    }
}
