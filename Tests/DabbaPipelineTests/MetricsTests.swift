import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import MetricsTestKit
import Synchronization
import Testing

@Suite("Metrics through swift-metrics", .serialized, .timeLimit(.minutes(3)))
struct MetricsTests {
    static let service = ("service", "metrics-test")

    /// One event handled, one failing twice (parked in the retry tier, then dead-lettered), one redelivered
    /// duplicate: each count reaches the injected factory with the service label, and every handler call is timed.
    @Test("consumed, handled, failed, retried, dead-lettered, duplicates and handler latency are recorded")
    func counts() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [.milliseconds(200)])
        let metrics = TestMetrics()
        var pipeline = Pipeline(service: "metrics-test", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, _ in
            if event.amount == 13 { throw TransientError(HandlerFailure("unlucky")) }
        }
        var configuration = fixture.configuration()
        configuration.retry.inPlaceAttempts = 1
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: configuration,
            inbox: try SQLiteInbox(path: ":memory:"),
            metrics: PipelineMetrics(service: "metrics-test", factory: metrics), logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await events.send(OrderPlaced(orderID: "o-1", amount: 5), metadata: EventMetadata(id: "evt-1"))
        try await events.send(OrderPlaced(orderID: "o-2", amount: 13), metadata: EventMetadata(id: "evt-2"))
        try await events.send(OrderPlaced(orderID: "o-1", amount: 5), metadata: EventMetadata(id: "evt-1"))
        try await events.producer.close()
        func total(_ name: String) -> Int64 { metrics.counterTotal(label: name, dimensions: [Self.service]) }
        try await withRunning(runner) {
            try await eventually("every event is settled", timeout: .seconds(60)) {
                total("dabba_events_dead_lettered_total") == 1 && total("dabba_events_handled_total") == 1
                    && total("dabba_events_duplicates_skipped_total") == 1
            }
        }
        #expect(total("dabba_events_consumed_total") == 4, "three records and one retry record")
        #expect(total("dabba_events_handled_total") == 1)
        #expect(total("dabba_events_failed_total") == 2)
        #expect(total("dabba_events_retried_total") == 1)
        #expect(total("dabba_events_dead_lettered_total") == 1)
        #expect(total("dabba_events_duplicates_skipped_total") == 1)
        #expect(runner.metrics.handled.value == 1, "the count kept in process agrees")
        let latency = try metrics.expectTimer("dabba_handler_duration_seconds", [Self.service])
        #expect(latency.values.count == 3, "one observation per handler call")
        #expect(latency.values.allSatisfy { $0 > 0 })
    }

    /// While a handler is stuck, its record and those produced after it are behind (fetched ahead or not): the lag
    /// in messages counts them and the lag in seconds grows from the moment the partition was last caught up; once
    /// the handler returns, both fall to 0.
    @Test("consumer lag per partition in messages and in seconds")
    func lag() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let metrics = TestMetrics()
        let gate = Gate()
        var pipeline = Pipeline(service: "metrics-test", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, _ in
            if event.orderID == "stuck" { await gate.wait() }
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(),
            metrics: PipelineMetrics(service: "metrics-test", factory: metrics), logger: quietLogger
        )
        let partition = [Self.service, ("topic", fixture.topic), ("partition", "0")]
        func gauge(_ name: String) -> Double? {
            (try? metrics.expectMeter(name, partition))?.lastValue
        }
        let events = try fixture.eventProducer()
        try await withRunning(runner) {
            try await events.send(OrderPlaced(orderID: "first", amount: 1))
            try await eventually("the first record is handled and the partition seen caught up", timeout: .seconds(60)) {
                gauge("dabba_consumer_lag") == 0 && gauge("dabba_consumer_lag_seconds") == 0
            }
            try await events.send(OrderPlaced(orderID: "stuck", amount: 1))
            try await eventually("the handler is stuck") { gate.isWaiting }
            for index in 0..<5 { try await events.send(OrderPlaced(orderID: "o-\(index)", amount: 1)) }
            try await eventually("six records are behind, for a second or more", timeout: .seconds(60)) {
                gauge("dabba_consumer_lag") == 6 && (gauge("dabba_consumer_lag_seconds") ?? 0) >= 1
            }
            gate.open()
            try await eventually("the consumer caught up again", timeout: .seconds(60)) {
                gauge("dabba_consumer_lag") == 0 && gauge("dabba_consumer_lag_seconds") == 0
            }
        }
        try await events.producer.close()
    }
}

/// Holds handlers until opened.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiting: Bool)>((false, false))

    var isWaiting: Bool { state.withLock { $0.waiting } }

    func open() { state.withLock { $0.open = true } }

    func wait() async {
        state.withLock { $0.waiting = true }
        while !state.withLock({ $0.open }) { try? await Task.sleep(for: .milliseconds(10)) }
    }
}
