import Testing

@testable import DabbaMetrics

@Suite("Prometheus text exposition")
struct ExpositionTests {
    @Test("an empty registry renders nothing")
    func emptyRegistry() {
        #expect(MetricsRegistry().prometheusText() == "")
    }

    @Test("a counter with labels: sorted series, sorted labels")
    func counterWithLabels() {
        let registry = MetricsRegistry()
        registry.counter(
            "dabba_messages_consumed_total",
            help: "Messages consumed.",
            labels: ["topic": "payments", "partition": "1"]
        ).increment(by: 3)
        registry.counter(
            "dabba_messages_consumed_total",
            help: "Messages consumed.",
            labels: ["topic": "payments", "partition": "0"]
        ).increment()
        registry.counter(
            "dabba_messages_consumed_total",
            help: "Messages consumed.",
            labels: ["topic": "orders", "partition": "0"]
        )

        #expect(
            registry.prometheusText() == """
                # HELP dabba_messages_consumed_total Messages consumed.
                # TYPE dabba_messages_consumed_total counter
                dabba_messages_consumed_total{partition="0",topic="orders"} 0
                dabba_messages_consumed_total{partition="0",topic="payments"} 1
                dabba_messages_consumed_total{partition="1",topic="payments"} 3

                """
        )
    }

    @Test("gauges without labels, integral and fractional values")
    func gauges() {
        let registry = MetricsRegistry()
        let inFlight = registry.gauge("dabba_in_flight", help: "Messages being handled.")
        inFlight.set(42)
        let temperature = registry.gauge("dabba_batch_fill_ratio", help: "How full the last batch was.")
        temperature.set(0.75)
        temperature.decrement(by: 1)

        #expect(
            registry.prometheusText() == """
                # HELP dabba_batch_fill_ratio How full the last batch was.
                # TYPE dabba_batch_fill_ratio gauge
                dabba_batch_fill_ratio -0.25
                # HELP dabba_in_flight Messages being handled.
                # TYPE dabba_in_flight gauge
                dabba_in_flight 42

                """
        )
    }

    @Test("a histogram: cumulative buckets with le last, +Inf, sum and count")
    func histogram() {
        let registry = MetricsRegistry()
        let latency = registry.histogram(
            "dabba_handler_duration_seconds",
            help: "Time spent in the handler.",
            labels: ["stage": "decode"],
            buckets: [1, 0.125, 0.5]
        )
        latency.observe(0.0625)
        latency.observe(0.125)  // On a bound: counted in that bucket (le = less than or equal).
        latency.observe(.milliseconds(250))
        latency.observe(2)  // Above every bound: only in +Inf.

        #expect(
            registry.prometheusText() == """
                # HELP dabba_handler_duration_seconds Time spent in the handler.
                # TYPE dabba_handler_duration_seconds histogram
                dabba_handler_duration_seconds_bucket{stage="decode",le="0.125"} 2
                dabba_handler_duration_seconds_bucket{stage="decode",le="0.5"} 3
                dabba_handler_duration_seconds_bucket{stage="decode",le="1"} 3
                dabba_handler_duration_seconds_bucket{stage="decode",le="+Inf"} 4
                dabba_handler_duration_seconds_sum{stage="decode"} 2.4375
                dabba_handler_duration_seconds_count{stage="decode"} 4

                """
        )
    }

    @Test("an unobserved histogram with the default buckets")
    func defaultBuckets() {
        let registry = MetricsRegistry()
        _ = registry.histogram("dabba_commit_seconds", help: "Commit latency.")
        let lines = registry.prometheusText().split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "# HELP dabba_commit_seconds Commit latency.",
                "# TYPE dabba_commit_seconds histogram",
                #"dabba_commit_seconds_bucket{le="0.001"} 0"#,
                #"dabba_commit_seconds_bucket{le="0.005"} 0"#,
                #"dabba_commit_seconds_bucket{le="0.01"} 0"#,
                #"dabba_commit_seconds_bucket{le="0.025"} 0"#,
                #"dabba_commit_seconds_bucket{le="0.05"} 0"#,
                #"dabba_commit_seconds_bucket{le="0.1"} 0"#,
                #"dabba_commit_seconds_bucket{le="0.25"} 0"#,
                #"dabba_commit_seconds_bucket{le="0.5"} 0"#,
                #"dabba_commit_seconds_bucket{le="1"} 0"#,
                #"dabba_commit_seconds_bucket{le="2.5"} 0"#,
                #"dabba_commit_seconds_bucket{le="5"} 0"#,
                #"dabba_commit_seconds_bucket{le="10"} 0"#,
                #"dabba_commit_seconds_bucket{le="+Inf"} 0"#,
                "dabba_commit_seconds_sum 0",
                "dabba_commit_seconds_count 0",
            ]
        )
    }

    @Test("label values escape backslash, quote and line feed; help escapes backslash and line feed only")
    func escaping() {
        let registry = MetricsRegistry()
        registry.counter(
            "dabba_errors_total",
            help: #"Errors by "kind", e.g. C:\temp"# + "\nsecond line",
            labels: ["message": #"path C:\dir "quoted""# + "\nnext"]
        ).increment()

        #expect(
            registry.prometheusText() == #"""
                # HELP dabba_errors_total Errors by "kind", e.g. C:\\temp\nsecond line
                # TYPE dabba_errors_total counter
                dabba_errors_total{message="path C:\\dir \"quoted\"\nnext"} 1

                """#
        )
    }

    @Test("non-ASCII label values are written as UTF-8, unescaped")
    func unicodeLabelValues() {
        let registry = MetricsRegistry()
        registry.gauge("dabba_info", help: "Info.", labels: ["city": "Zürich ☕"]).set(1)
        #expect(registry.prometheusText().contains(#"dabba_info{city="Zürich ☕"} 1"#))
    }

    @Test("families are sorted by name whatever the registration order")
    func familiesSorted() {
        let registry = MetricsRegistry()
        registry.counter("b_total", help: "B.").increment()
        registry.gauge("a", help: "A.").set(1)
        registry.counter("c_total", help: "C.").increment()
        let typeLines = registry.prometheusText().split(separator: "\n").filter { $0.hasPrefix("# TYPE") }
        #expect(typeLines == ["# TYPE a gauge", "# TYPE b_total counter", "# TYPE c_total counter"])
        #expect(registry.prometheusText() == registry.prometheusText())
    }
}

@Suite("Float formatting (Go's strconv.FormatFloat 'g', -1)")
struct PrometheusFloatTests {
    @Test(
        "formats like Prometheus's Go client",
        arguments: [
            (0.0, "0"), (-0.0, "-0"), (1, "1"), (-1.5, "-1.5"), (2.5, "2.5"), (100, "100"), (999_999, "999999"),
            (123_456, "123456"), (1e6, "1e+06"), (1_234_567, "1.234567e+06"), (1e21, "1e+21"), (1e100, "1e+100"),
            (0.001, "0.001"), (0.0001, "0.0001"), (0.00001, "1e-05"), (0.000123, "0.000123"), (0.0000123, "1.23e-05"),
            (123.456, "123.456"), (0.1 + 0.2, "0.30000000000000004"), (.leastNonzeroMagnitude, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"), (9_007_199_254_740_992, "9.007199254740992e+15"),
            (.infinity, "+Inf"), (-.infinity, "-Inf"), (.nan, "NaN"),
        ] as [(Double, String)]
    )
    func format(value: Double, expected: String) {
        #expect(PrometheusFloat.format(value) == expected)
    }

    @Test("every formatted value reads back as the same Double")
    func roundTrips() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<10_000 {
            let value = Double(bitPattern: generator.next())
            guard value.isFinite else { continue }
            let text = PrometheusFloat.format(value)
            #expect(Double(text) == value, "\(value) → \(text)")
        }
    }
}
