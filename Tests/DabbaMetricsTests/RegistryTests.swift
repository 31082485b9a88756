import Synchronization
import Testing

@testable import DabbaMetrics

@Suite("MetricsRegistry")
struct RegistryTests {
    @Test("the same name and labels (in any order) return the same instrument")
    func identity() {
        let registry = MetricsRegistry()
        let first = registry.counter("dabba_total", help: "Total.", labels: ["a": "1", "b": "2"])
        let second = registry.counter("dabba_total", help: "Total.", labels: ["b": "2", "a": "1"])
        let other = registry.counter("dabba_total", help: "Total.", labels: ["a": "1", "b": "3"])
        #expect(first === second)
        #expect(first !== other)
        #expect(registry.gauge("g", help: "G.") === registry.gauge("g", help: "G."))
        #expect(registry.histogram("h", help: "H.") === registry.histogram("h", help: "H.", buckets: [1]))
    }

    @Test("another help text returns the existing instrument and keeps the first help")
    func conflictingHelp() {
        let registry = MetricsRegistry()
        let first = registry.counter("dabba_total", help: "First.")
        let second = registry.counter("dabba_total", help: "Second.")
        let newSeries = registry.counter("dabba_total", help: "Third.", labels: ["k": "v"])
        #expect(first === second)
        second.increment()
        newSeries.increment(by: 2)
        #expect(
            registry.prometheusText() == """
                # HELP dabba_total First.
                # TYPE dabba_total counter
                dabba_total 1
                dabba_total{k="v"} 2

                """
        )
    }

    @Test("another type returns a working but detached instrument that is never exported")
    func conflictingType() {
        let registry = MetricsRegistry()
        registry.counter("dabba_thing", help: "A counter.").increment(by: 5)
        let gauge = registry.gauge("dabba_thing", help: "A counter.")
        gauge.set(99)
        #expect(gauge.value == 99)
        let histogram = registry.histogram("dabba_thing", help: "A counter.")
        histogram.observe(1)
        registry.gauge("dabba_thing", help: "A counter.") { 7 }
        #expect(
            registry.prometheusText() == """
                # HELP dabba_thing A counter.
                # TYPE dabba_thing counter
                dabba_thing 5

                """
        )
    }

    @Test("a plain gauge asked for on a callback gauge's series is detached")
    func plainGaugeOverCallback() {
        let registry = MetricsRegistry()
        registry.gauge("dabba_depth", help: "Depth.") { 3 }
        registry.gauge("dabba_depth", help: "Depth.") { 4 }  // Ignored: the series exists.
        registry.gauge("dabba_depth", help: "Depth.").set(10)
        #expect(registry.prometheusText().hasSuffix("dabba_depth 3\n"))
    }

    @Test("callback gauges are read at scrape time")
    func callbackGauge() {
        let registry = MetricsRegistry()
        let depth = Atomic<Int>(1)
        registry.gauge("dabba_queue_depth", help: "Queued messages.", labels: ["queue": "retry"]) {
            Double(depth.load(ordering: .relaxed))
        }
        #expect(registry.prometheusText().hasSuffix("dabba_queue_depth{queue=\"retry\"} 1\n"))
        depth.store(12, ordering: .relaxed)
        #expect(registry.prometheusText().hasSuffix("dabba_queue_depth{queue=\"retry\"} 12\n"))
    }

    @Test("a callback may use the registry without deadlocking")
    func reentrantCallback() {
        let registry = MetricsRegistry()
        registry.gauge("dabba_scrapes", help: "Scrapes.") {
            registry.counter("dabba_scrape_calls_total", help: "Calls.").increment()
            return 1
        }
        _ = registry.prometheusText()
        #expect(registry.counter("dabba_scrape_calls_total", help: "Calls.").value == 1)
    }

    @Test("collectors emit dynamic label sets, merged with registered families, and can be removed")
    func collectors() {
        let registry = MetricsRegistry()
        let assignment = Mutex<[Int: Double]>([0: 5, 1: 0])
        let lagHelp = "Messages behind the log end."
        registry.gauge("dabba_consumer_lag", help: lagHelp, labels: ["topic": "orders", "partition": "9"]).set(1)
        let id = registry.addCollector { emit in
            for (partition, lag) in assignment.withLock({ $0 }) {
                emit("dabba_consumer_lag", lagHelp, .gauge, ["topic": "orders", "partition": String(partition)], lag)
            }
            emit("dabba_consumer_lag", "Other help.", .gauge, ["topic": "x", "partition": "0"], 1)  // Conflict: dropped.
            emit("dabba_consumer_lag", lagHelp, .counter, ["topic": "y", "partition": "0"], 1)  // Conflict: dropped.
            emit("dabba_consumer_lag", lagHelp, .gauge, ["topic": "orders", "partition": "9"], 100)  // Taken: dropped.
            emit("dabba_rebalances_total", "Rebalances.", .counter, [:], 3)
        }

        #expect(
            registry.prometheusText() == """
                # HELP dabba_consumer_lag Messages behind the log end.
                # TYPE dabba_consumer_lag gauge
                dabba_consumer_lag{partition="0",topic="orders"} 5
                dabba_consumer_lag{partition="1",topic="orders"} 0
                dabba_consumer_lag{partition="9",topic="orders"} 1
                # HELP dabba_rebalances_total Rebalances.
                # TYPE dabba_rebalances_total counter
                dabba_rebalances_total 3

                """
        )

        assignment.withLock { $0 = [2: 1.5] }
        #expect(registry.prometheusText().contains("dabba_consumer_lag{partition=\"2\",topic=\"orders\"} 1.5\n"))
        #expect(!registry.prometheusText().contains("partition=\"0\""))

        registry.removeCollector(id)
        #expect(
            registry.prometheusText() == """
                # HELP dabba_consumer_lag Messages behind the log end.
                # TYPE dabba_consumer_lag gauge
                dabba_consumer_lag{partition="9",topic="orders"} 1

                """
        )
    }

    @Test("invalid metric and label names are sanitised; le is dropped from histogram labels")
    func sanitisation() {
        let registry = MetricsRegistry()
        let counter = registry.counter(
            "dabba.consumer-errors",
            help: "Errors.",
            labels: ["error kind": "x", "9x": "y"]
        )
        #expect(
            counter
                === registry.counter("dabba_consumer_errors", help: "Errors.", labels: ["error_kind": "x", "_9x": "y"])
        )
        registry.gauge("1st:gauge", help: "G.").set(1)
        registry.histogram("dabba_h", help: "H.", labels: ["le": "oops", "stage": "s"], buckets: [1]).observe(0.5)
        #expect(
            registry.prometheusText() == """
                # HELP _1st:gauge G.
                # TYPE _1st:gauge gauge
                _1st:gauge 1
                # HELP dabba_consumer_errors Errors.
                # TYPE dabba_consumer_errors counter
                dabba_consumer_errors{_9x="y",error_kind="x"} 0
                # HELP dabba_h H.
                # TYPE dabba_h histogram
                dabba_h_bucket{stage="s",le="1"} 1
                dabba_h_bucket{stage="s",le="+Inf"} 1
                dabba_h_sum{stage="s"} 0.5
                dabba_h_count{stage="s"} 1

                """
        )
    }

    @Test("counters ignore negative increments")
    func counterIsMonotonic() {
        let counter = MetricsRegistry().counter("c_total", help: "C.")
        counter.increment(by: 4)
        counter.increment(by: -10)
        counter.increment(by: 0)
        #expect(counter.value == 4)
    }

    @Test("histograms sort and deduplicate bounds, drop non-finite ones, and ignore NaN observations")
    func histogramBuckets() {
        let histogram = MetricsRegistry().histogram("h", help: "H.", buckets: [5, 1, .infinity, 1, .nan, -1])
        #expect(histogram.upperBounds == [-1, 1, 5])
        histogram.observe(.nan)
        histogram.observe(-3)
        histogram.observe(.seconds(1))
        histogram.observe(.infinity)
        let snapshot = histogram.snapshot()
        #expect(snapshot.cumulativeCounts == [1, 2, 2, 3])
        #expect(snapshot.count == 3)
        #expect(histogram.sum == .infinity)
    }

    @Test("Duration observations are converted to seconds")
    func durations() {
        let histogram = MetricsRegistry().histogram("h", help: "H.")
        histogram.observe(.milliseconds(1500))
        histogram.observe(.nanoseconds(500))
        #expect(histogram.sum == 1.5000005)
        #expect(histogram.count == 2)

        let other = MetricsRegistry().histogram("h", help: "H.")
        other.observe(.milliseconds(30))
        #expect(other.sum == 0.03)
    }
}
