import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import Foundation
import MetricsTestKit
import Synchronization
import Testing

/// A dependency the tests switch off and on.
final class FakeDependency: Sendable {
    private let down: Atomic<Bool>
    let calls = Atomic<Int>(0)

    init(down: Bool) { self.down = Atomic(down) }

    func call() throws {
        calls.add(1, ordering: .relaxed)
        if down.load(ordering: .acquiring) { throw TransientError(HandlerFailure("the bank is down")) }
    }

    func recover() { down.store(false, ordering: .releasing) }
}

/// Every successful handling: event id, key, partition, offset, in the order they happened.
final class HandledLog: Sendable {
    struct Entry: Sendable {
        var id: String
        var key: String
        var partition: Int32
        var offset: Int64
    }

    private let entries = Mutex<[Entry]>([])

    func record(_ context: EventContext) {
        let entry = Entry(
            id: context.envelope.id, key: context.key ?? "", partition: context.partition, offset: context.offset
        )
        entries.withLock { $0.append(entry) }
    }

    var all: [Entry] { entries.withLock { $0 } }
    var count: Int { entries.withLock { $0.count } }
    var distinctIDs: Set<String> { Set(all.map(\.id)) }
}

/// How events reach the handlers: each processing path must hold an event whose dependency is down.
enum BreakerPath: String, CaseIterable, Sendable {
    case partition, consumerScope, perKey, inbox, keyOrderGuard, exactlyOnce
}

@Suite("Circuit breakers hold events instead of failing them", .serialized, .timeLimit(.minutes(6)))
struct BreakerPipelineTests {
    static let eventCount = 60

    static func produce(_ events: EventProducer, count: Int) async throws {
        for index in 0..<count {
            try await events.enqueue(
                OrderPlaced(orderID: "order-\(index % 7)", amount: index), metadata: EventMetadata(id: "evt-\(index)")
            )
        }
        try await events.producer.flush()
    }

    @Test("a dependency down for a while: nothing retried or dead-lettered, all handled once after recovery, in order",
          arguments: BreakerPath.allCases)
    func outage(path: BreakerPath) async throws {
        let fixture = try await PipelineFixture(partitions: 3, delays: [.milliseconds(300)])
        var configuration = fixture.configuration()
        var inbox: (any InboxStore)?
        switch path {
        case .perKey: configuration.concurrency = .perKey(maxInFlight: 4)
        case .inbox: inbox = try SQLiteInbox(path: ProcessTests.temporaryDatabase())
        case .keyOrderGuard:
            inbox = try SQLiteInbox(path: ProcessTests.temporaryDatabase())
            configuration.keyOrderGuard = true
        case .exactlyOnce:
            configuration.exactlyOnce = true
            configuration.instanceID = "breaker-1"
        case .partition, .consumerScope: break
        }
        let bank = FakeDependency(down: true)
        let handled = HandledLog()
        var pipeline = Pipeline(service: "breaker-test", groupID: fixture.group)
        // Two consecutive failures open it: the in-place attempts (2) of the first event are enough.
        pipeline.breaker(
            "bank",
            CircuitBreakerConfiguration(
                consecutiveFailures: 2, failureRate: nil, openDuration: .milliseconds(500),
                maxOpenDuration: .seconds(1), jitter: 0, scope: path == .consumerScope ? .consumer : .partition
            )
        )
        pipeline.on(OrderPlaced.self) { _, context in
            try await context.breaker("bank").run { try bank.call() }
            handled.record(context)
        }
        let metrics = TestMetrics()
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: configuration, inbox: inbox,
            metrics: PipelineMetrics(service: "breaker-test", factory: metrics), logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await Self.produce(events, count: Self.eventCount)
        let revocations = Atomic<Int>(0)
        let watcher = Task {
            for await event in runner.consumer.events {
                if case .revoked = event { revocations.add(1, ordering: .relaxed) }
            }
        }
        defer { watcher.cancel() }
        // Leaving the group at shutdown revokes too: only revocations before it count.
        let revokedWhileRunning = try await withRunning(runner) {
            try await eventually("the breaker opens", timeout: .seconds(60)) {
                runner.breakers.state(of: "bank") != .closed
            }
            #expect(runner.readiness.ready)
            #expect(runner.readiness.reason.hasPrefix("degraded: circuit breaker bank"))
            // Several open periods and failed probes.
            try await Task.sleep(for: .seconds(3))
            #expect(handled.count == 0)
            let held = metrics.counterTotal(
                label: "dabba_breaker_held_events_total", dimensions: [("service", "breaker-test"), ("dependency", "bank")]
            )
            #expect(held > 0, "nothing was held")
            bank.recover()
            try await eventually("every event is handled", timeout: .seconds(90)) {
                handled.distinctIDs.count == Self.eventCount
            }
            try await eventually("the pipeline is no longer degraded") { runner.readiness.reason == "ok" }
            return revocations.load(ordering: .relaxed)
        }
        let all = handled.all
        #expect(handled.distinctIDs == Set((0..<Self.eventCount).map { "evt-\($0)" }))
        if path == .perKey {
            // Other keys' events after a held one may have run before the hold: they run again (at least once).
            var firstSeen: [String: Int64] = [:]
            var firstOrder: [String: [Int64]] = [:]
            for entry in all where firstSeen[entry.id] == nil {
                firstSeen[entry.id] = entry.offset
                firstOrder["\(entry.partition)/\(entry.key)", default: []].append(entry.offset)
            }
            for (key, offsets) in firstOrder { #expect(offsets == offsets.sorted(), "order of key \(key)") }
        } else {
            #expect(all.count == Self.eventCount, "an event was handled twice")
            for partition in Set(all.map(\.partition)) {
                let offsets = all.filter { $0.partition == partition }.map(\.offset)
                #expect(offsets == offsets.sorted(), "order of partition \(partition)")
            }
        }
        #expect(revokedWhileRunning == 0, "the member left the group")
        let retried = try await fixture.records(on: "\(fixture.topic).\(fixture.group).retry.1", count: 0)
        let deadLettered = try await fixture.records(on: fixture.deadLetterTopic, count: 0)
        #expect(retried.isEmpty && deadLettered.isEmpty)
        let service = ("service", "breaker-test")
        #expect(
            metrics.counterTotal(
                label: "dabba_breaker_transitions_total",
                dimensions: [service, ("dependency", "bank"), ("from", "closed"), ("to", "open")]
            ) == 1
        )
        let state = try metrics.expectMeter("dabba_breaker_state", [service, ("dependency", "bank")])
        #expect(state.lastValue == 0)
        #expect(state.values.contains(2), "the breaker was never seen open")
        #expect(metrics.counterTotal(label: "dabba_events_dead_lettered_total", dimensions: [service]) == 0)
        try await events.producer.close()
    }

    @Test("a permanent error while the breaker is closed still dead-letters, and does not count against it")
    func permanentErrorDeadLetters() async throws {
        let fixture = try await PipelineFixture(partitions: 2, delays: [.milliseconds(300)])
        let handled = HandledLog()
        var pipeline = Pipeline(service: "breaker-test", groupID: fixture.group)
        pipeline.breaker("bank", CircuitBreakerConfiguration(consecutiveFailures: 1, failureRate: nil))
        pipeline.on(OrderPlaced.self) { event, context in
            try await context.breaker("bank").run {
                if event.amount == 7 { throw PermanentError(HandlerFailure("account closed")) }
            }
            handled.record(context)
        }
        let metrics = TestMetrics()
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(),
            metrics: PipelineMetrics(service: "breaker-test", factory: metrics), logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await Self.produce(events, count: 20)
        try await withRunning(runner) {
            try await eventually("the other events are handled", timeout: .seconds(60)) { handled.count == 19 }
        }
        let deadLettered = try await fixture.records(on: fixture.deadLetterTopic, count: 1)
        #expect(deadLettered.count == 1)
        #expect(deadLettered.first?.header(SpringDeadLetterHeaders.exceptionMessage) == "account closed")
        #expect(runner.breakers.state(of: "bank") == .closed)
        #expect(metrics.counters(label: "dabba_breaker_transitions_total").isEmpty)
        try await events.producer.close()
    }
}
