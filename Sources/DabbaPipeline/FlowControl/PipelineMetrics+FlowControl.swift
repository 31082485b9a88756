import DabbaKafka
import DabbaMetrics

extension PipelineMetrics {
    /// Reports the paused partitions at scrape time: `dabba_paused_partitions{reason}`, one series per reason a
    /// partition is paused for (`retry-delay`, `breaker:<name>`, `throttle`, `operator`; a partition paused for two
    /// reasons counts under both).
    func registerPausedPartitions(_ pauses: PartitionPauses) {
        let labels = self.labels
        registry.addCollector { emit in
            var counts: [String: Int] = [:]
            for reasons in pauses.snapshot.values {
                for reason in reasons { counts["\(reason)", default: 0] += 1 }
            }
            for (reason, count) in counts.sorted(by: { $0.key < $1.key }) {
                var reasonLabels = labels
                reasonLabels["reason"] = reason
                emit("dabba_paused_partitions", "Partitions paused, by reason.", .gauge, reasonLabels, Double(count))
            }
        }
    }

    /// Reports each circuit breaker at scrape time: `dabba_breaker_state{dependency}` (0 closed, 1 half-open,
    /// 2 open) and `dabba_breaker_open_seconds_total{dependency}` (time spent open or half-open).
    func registerBreakers(_ breakers: CircuitBreakers) {
        let labels = self.labels
        registry.addCollector { emit in
            for entry in breakers.snapshot {
                var breakerLabels = labels
                breakerLabels["dependency"] = entry.name
                emit(
                    "dabba_breaker_state", "Circuit breaker state: 0 closed, 1 half-open, 2 open.", .gauge,
                    breakerLabels, Double(entry.state.rawValue)
                )
                emit(
                    "dabba_breaker_open_seconds_total", "Time the circuit breaker spent open or half-open.", .counter,
                    breakerLabels, Double(entry.timeNotClosed.totalMilliseconds) / 1000
                )
            }
        }
    }

    /// Counts a breaker's transition: `dabba_breaker_transitions_total{dependency,from,to}`.
    func breakerTransitioned(_ name: String, from: CircuitBreaker.State, to: CircuitBreaker.State) {
        var transitionLabels = labels
        transitionLabels["dependency"] = name
        transitionLabels["from"] = "\(from)"
        transitionLabels["to"] = "\(to)"
        registry.counter(
            "dabba_breaker_transitions_total", help: "Circuit breaker state changes.", labels: transitionLabels
        ).increment()
    }

    /// Counts an event held because its dependency was unavailable: `dabba_breaker_held_events_total{dependency}`.
    func breakerHeld(_ name: String) {
        var heldLabels = labels
        heldLabels["dependency"] = name
        registry.counter(
            "dabba_breaker_held_events_total",
            help: "Events held (to be handled again after the dependency recovers) because a circuit breaker was open.",
            labels: heldLabels
        ).increment()
    }
}
