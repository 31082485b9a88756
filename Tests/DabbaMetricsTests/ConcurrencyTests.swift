import Testing

@testable import DabbaMetrics

@Suite("Concurrent updates")
struct ConcurrencyTests {
    static let tasks = 64
    static let iterations = 2_000

    @Test("many tasks incrementing one counter give the exact total")
    func counter() async {
        let registry = MetricsRegistry()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<Self.tasks {
                group.addTask {
                    // Looked up in every task, as call sites do: all must get the same counter.
                    let counter = registry.counter("dabba_total", help: "Total.", labels: ["k": "v"])
                    for _ in 0..<Self.iterations { counter.increment() }
                }
            }
        }
        let total = Self.tasks * Self.iterations
        #expect(registry.counter("dabba_total", help: "Total.", labels: ["k": "v"]).value == total)
        #expect(registry.prometheusText().contains("dabba_total{k=\"v\"} \(total)\n"))
    }

    @Test("concurrent gauge increments and decrements lose nothing")
    func gauge() async {
        let gauge = MetricsRegistry().gauge("g", help: "G.")
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<Self.tasks {
                group.addTask {
                    for _ in 0..<Self.iterations {
                        if task.isMultiple(of: 2) { gauge.increment(by: 2) } else { gauge.decrement() }
                    }
                }
            }
        }
        #expect(gauge.value == Double(Self.tasks / 2 * Self.iterations))
    }

    @Test("concurrent histogram observations are all counted, while scrapes stay consistent")
    func histogram() async {
        let registry = MetricsRegistry()
        let histogram = registry.histogram("h_seconds", help: "H.", buckets: [0.5])
        await withTaskGroup(of: Void.self) { group in
            for task in 0..<Self.tasks {
                group.addTask {
                    for _ in 0..<Self.iterations { histogram.observe(task.isMultiple(of: 2) ? 0.25 : 1) }
                }
            }
            group.addTask {
                for _ in 0..<50 {
                    let snapshot = histogram.snapshot()
                    #expect(snapshot.cumulativeCounts.last == snapshot.count)
                    _ = registry.prometheusText()
                }
            }
        }
        let snapshot = histogram.snapshot()
        let total = Self.tasks * Self.iterations
        #expect(snapshot.count == total)
        #expect(snapshot.cumulativeCounts == [total / 2, total])
        #expect(snapshot.sum == Double(total / 2) * 0.25 + Double(total / 2))
    }
}
