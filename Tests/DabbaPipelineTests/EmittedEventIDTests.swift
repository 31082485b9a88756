import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import DabbaTesting
import Foundation
import Synchronization
import Testing

@Suite("Emitted events carry ids derived from their cause", .timeLimit(.minutes(4)))
struct EmittedEventIDTests {
    @Test("ids follow the documented rule: group, causing id, type, ordinal or discriminator; an explicit id wins")
    func rule() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let output = TestHelpers.uniqueName("shipped")
        try await fixture.broker.createTopic(output, partitions: 1)
        var pipeline = Pipeline(service: "shipping", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            try await context.emit(OrderShipped(orderID: event.orderID))
            try await context.emit(OrderShipped(orderID: event.orderID), discriminator: "courier")
            try await context.emit(OrderShipped(orderID: event.orderID))
            try await context.emit(OrderShipped(orderID: event.orderID), metadata: EventMetadata(id: "chosen-\(event.amount)"))
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(),
            routes: EventRoutes([OrderShipped.eventType: output]), logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await events.send(OrderPlaced(orderID: "o-1", amount: 1), metadata: EventMetadata(id: "cause-1"))
        try await withRunning(runner) {
            try await eventually("handled") { runner.metrics.handled.value == 1 }
        }
        let records = try await fixture.records(on: output, count: 4)
        func derived(_ emission: String) -> String {
            EventContext.derivedEventID(
                groupID: fixture.group, causingEventID: "cause-1", eventType: OrderShipped.eventType, emission: emission
            )
        }
        #expect(records.map(\.eventID) == [derived("#1"), derived("courier"), derived("#3"), "chosen-1"])
        #expect(records.allSatisfy { $0.header("ce_causationid") == "cause-1" })
        try await events.producer.close()
    }

    @Test("an in-place retry re-emits the first attempt's events under the same ids")
    func inPlaceRetryRepeatsIDs() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let output = TestHelpers.uniqueName("shipped")
        try await fixture.broker.createTopic(output, partitions: 1)
        let attempts = Atomic<Int>(0)
        var pipeline = Pipeline(service: "shipping", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            try await context.emit(OrderShipped(orderID: event.orderID))
            try await context.emit(OrderShipped(orderID: event.orderID))
            if attempts.add(1, ordering: .relaxed).newValue == 1 { throw TransientError(HandlerFailure("flaky downstream")) }
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(),
            routes: EventRoutes([OrderShipped.eventType: output]), logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await events.send(OrderPlaced(orderID: "o-1", amount: 1), metadata: EventMetadata(id: "cause-2"))
        try await withRunning(runner) {
            try await eventually("handled") { runner.metrics.handled.value == 1 }
        }
        let records = try await fixture.records(on: output, count: 4)
        let ids = records.compactMap(\.eventID)
        #expect(ids.count == 4, "both attempts emitted twice: \(ids)")
        #expect(Array(ids.prefix(2)) == Array(ids.suffix(2)), "the second attempt emitted other ids: \(ids)")
        #expect(Set(ids).count == 2)
        try await events.producer.close()
    }

    @Test(
        "SIGKILL after the emits were acknowledged and before the inbox committed, then restart: downstream applies each emitted event once",
        .timeLimit(.minutes(6))
    )
    func crashBetweenAcknowledgedEmitAndInboxCommit() async throws {
        let fixture = try await PipelineFixture(partitions: 3, delays: [])
        let output = TestHelpers.uniqueName("copies")
        try await fixture.broker.createTopic(output, partitions: 3)
        let events = try fixture.eventProducer()
        try await ProcessTests.produce(events, ids: 0..<300)
        let upstream = ProcessTests.temporaryDatabase()
        let arguments = [
            "--bootstrap", fixture.broker.bootstrapServers, "--topic", fixture.topic, "--group", fixture.group,
            "--inbox", upstream, "--emit-to", output,
        ]
        let crashing = try FixtureProcess(arguments: arguments + ["--kill-before-commit-after", "50"])
        _ = try await crashing.waitForExit(timeout: .seconds(180))
        #expect(crashing.lines.contains("killing before the inbox commit"), "\(crashing.lines.suffix(5))")
        let redone = Set(crashing.handledIDs).subtracting(try await ProcessTests.effects(in: upstream).ids)
        #expect(!redone.isEmpty, "the crash left no handled-but-uncommitted event: the window was not exercised")

        let restarted = try FixtureProcess(arguments: arguments)
        try await eventually("every input has its effect upstream", timeout: .seconds(150)) {
            try await ProcessTests.effects(in: upstream).ids.count == 300
        }
        restarted.send(SIGTERM)
        #expect(try await restarted.waitForExit() == 0)

        // The log holds the events emitted before the crash twice, under the same ids.
        let expected = Set((0..<300).map { index in
            EventContext.derivedEventID(
                groupID: fixture.group, causingEventID: "evt-\(index)", eventType: OrderPlaced.eventType, emission: "#1"
            )
        })
        let copies = try await fixture.records(on: output, count: 300 + redone.count)
        #expect(Set(copies.compactMap(\.eventID)) == expected)
        #expect(copies.count >= 300 + redone.count, "the re-run did not emit again: \(copies.count)")

        // Downstream, an inbox applies each emitted event once.
        let downstream = ProcessTests.temporaryDatabase()
        let consumer = try FixtureProcess(arguments: [
            "--bootstrap", fixture.broker.bootstrapServers, "--topic", output, "--group", "downstream-\(fixture.group)",
            "--inbox", downstream,
        ])
        // Every copy is either handled or skipped as a duplicate (the fixture prints a line for each).
        try await eventually("downstream consumed every copy", timeout: .seconds(150)) {
            consumer.handledIDs.count + consumer.lines.filter { $0.hasPrefix("duplicate ") }.count >= copies.count
        }
        consumer.send(SIGTERM)
        #expect(try await consumer.waitForExit() == 0)
        let applied = try await ProcessTests.effects(in: downstream)
        #expect(applied.ids == expected)
        #expect(applied.rows == 300, "an emitted event's effect was applied twice downstream")
        try await events.producer.close()
    }
}
