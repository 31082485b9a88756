import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import Foundation
import Synchronization
import Testing

@Suite("Per-key order guard", .timeLimit(.minutes(3)))
struct KeyOrderGuardTests {
    @Test("while an event of a key is in the retry tiers, later events of the key wait behind it; other keys flow")
    func laterEventsWait() async throws {
        let fixture = try await PipelineFixture(partitions: 2, delays: [.milliseconds(300), .milliseconds(300)])
        let inbox = try SQLiteInbox(path: ":memory:")
        let handled = Mutex<[String: [Int]]>([:])
        let failuresLeft = Mutex(2)
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, _ in
            if event.orderID == "blocked", event.amount == 1 {
                let fail = failuresLeft.withLock { left -> Bool in
                    defer { left -= 1 }
                    return left > 0
                }
                if fail { throw HandlerFailure("kitchen printer offline") }
            }
            handled.withLock { $0[event.orderID, default: []].append(event.amount) }
        }
        var configuration = fixture.configuration()
        configuration.keyOrderGuard = true
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: configuration, inbox: inbox,
            logger: quietLogger
        )
        let events = try fixture.eventProducer()
        for amount in 1...3 {
            try await events.send(OrderPlaced(orderID: "blocked", amount: amount), metadata: EventMetadata(id: "b\(amount)"))
            try await events.send(OrderPlaced(orderID: "free", amount: amount), metadata: EventMetadata(id: "f\(amount)"))
        }
        try await withRunning(runner) {
            try await eventually("every event is handled", timeout: .seconds(60)) {
                handled.withLock { ($0["blocked"]?.count ?? 0) == 3 && ($0["free"]?.count ?? 0) == 3 }
            }
        }
        #expect(handled.withLock { $0["blocked"] } == [1, 2, 3])
        #expect(handled.withLock { $0["free"] } == [1, 2, 3])
        #expect(runner.metrics.held.value >= 2)
        #expect(runner.metrics.retried.value == 2)
        #expect(runner.metrics.deadLettered.value == 0)
        let guardTable = try await inbox.withConnection { try $0.query("SELECT COUNT(*) FROM dabba_key_guard") }
        #expect(guardTable.first?.first?.integerValue == 0, "every queued event is resolved")
        try await events.producer.close()
    }

    @Test("the guard needs an inbox")
    func needsInbox() async throws {
        let fixture = try await PipelineFixture(partitions: 1)
        var configuration = fixture.configuration()
        configuration.keyOrderGuard = true
        #expect(throws: PipelineError.self) {
            _ = try PipelineRunner(
                pipeline: Pipeline(service: "x", groupID: fixture.group), topology: fixture.topology,
                configuration: configuration, logger: quietLogger
            )
        }
    }
}
