import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import DabbaTesting
import Foundation
import Synchronization
import Testing

/// Events handlers emit are acknowledged per batch, before the batch commits; a batch whose emit fails is read again.
@Suite("Emitted events are acknowledged before the batch commits", .timeLimit(.minutes(3)))
struct EmitAcknowledgementTests {
    static let count = 20

    /// A fixture with an output topic for `OrderShipped`, and the input events already written.
    static func prepared() async throws -> (fixture: PipelineFixture, output: String, routes: EventRoutes) {
        let fixture = try await PipelineFixture(partitions: 2, delays: [])
        let output = "\(fixture.topic).shipped"
        try await fixture.broker.createTopic(output, partitions: 2)
        let events = try fixture.eventProducer()
        for index in 0..<count {
            try await events.send(
                OrderPlaced(orderID: "o-\(index)", amount: index), metadata: EventMetadata(id: "evt-\(index)")
            )
        }
        try await events.producer.close()
        return (fixture, output, EventRoutes([OrderShipped.eventType: output]))
    }

    /// Emits `OrderShipped` with an id derived from the input's, so a re-emitted event is recognisable.
    static func emitShipped(_ event: OrderPlaced, _ context: EventContext) async throws {
        try await context.emit(
            OrderShipped(orderID: event.orderID), metadata: EventMetadata(id: "shipped-\(context.envelope.id)")
        )
    }

    static var expectedOutputIDs: Set<String> { Set((0..<count).map { "shipped-evt-\($0)" }) }

    @Test("with the inbox: a failed emit rolls the batch back and it is read again; every emit arrives, every effect once")
    func failedEmitWithInbox() async throws {
        let (fixture, output, routes) = try await Self.prepared()
        let inbox = try SQLiteInbox(path: ":memory:")
        try await inbox.withDatabase { try $0.execute("CREATE TABLE effects (event_id TEXT)") }
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            try context.database?.execute("INSERT INTO effects VALUES (?)", [.text(context.envelope.id)])
            try await Self.emitShipped(event, context)
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), routes: routes,
            inbox: inbox, logger: quietLogger
        )
        // The pipeline's first produce request (its first emits) is refused for good.
        try await fixture.broker.injectErrors(.produce, [.messageTooLarge])
        try await withRunning(runner) {
            try await eventually("every event is handled") { runner.metrics.handled.value == Self.count }
        }
        let effects = try await inbox.withDatabase {
            try $0.query("SELECT COUNT(*), COUNT(DISTINCT event_id) FROM effects")
        }
        #expect(effects == [[.integer(Int64(Self.count)), .integer(Int64(Self.count))]])
        #expect(runner.metrics.batchesRewound.value >= 1)
        let shipped = try await fixture.records(on: output, count: Self.count)
        #expect(Set(shipped.compactMap { $0.eventID }) == Self.expectedOutputIDs)
    }

    @Test("without an inbox: the partition whose emit failed is read again, and every emitted event arrives")
    func failedEmitWithoutInbox() async throws {
        let (fixture, output, routes) = try await Self.prepared()
        let handled = Mutex<[String: Int]>([:])
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            handled.withLock { $0[context.envelope.id, default: 0] += 1 }
            try await Self.emitShipped(event, context)
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), routes: routes,
            logger: quietLogger
        )
        try await fixture.broker.injectErrors(.produce, [.messageTooLarge])
        // Read while the pipeline runs: a rewound partition may be read again in more than one batch, and only once
        // the last of them ran has every emit arrived. Stopping earlier would leave the rest to the next run.
        let shipped = try await withRunning(runner) {
            try await fixture.records(on: output) { records in
                Self.expectedOutputIDs.isSubset(of: Set(records.compactMap { $0.eventID }))
            }
        }
        #expect(Set(shipped.compactMap { $0.eventID }) == Self.expectedOutputIDs)
        #expect(runner.metrics.batchesRewound.value >= 1)
        // At least once: a rewound event's handler ran again, no event was skipped.
        #expect(handled.withLock { $0.count } == Self.count)
        #expect(handled.withLock { $0.values.contains { $0 >= 2 } })
    }

    @Test("emits of many events are all delivered, in order per key, when the batch commits")
    func emitsArriveInOrder() async throws {
        let (fixture, output, routes) = try await Self.prepared()
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            // Two emits per event for the same key: the second must follow the first.
            try await context.emit(OrderShipped(orderID: "k"), metadata: EventMetadata(id: "a-\(event.amount)"))
            try await context.emit(OrderShipped(orderID: "k"), metadata: EventMetadata(id: "b-\(event.amount)"))
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), routes: routes,
            logger: quietLogger
        )
        try await withRunning(runner) {
            try await eventually("every event is handled") { runner.metrics.handled.value == Self.count }
        }
        let shipped = try await fixture.records(on: output, count: 2 * Self.count)
        let ids = shipped.compactMap { $0.eventID }
        #expect(ids.count == 2 * Self.count)
        for index in 0..<Self.count {
            let first = try #require(ids.firstIndex(of: "a-\(index)"))
            let second = try #require(ids.firstIndex(of: "b-\(index)"))
            #expect(first < second)
        }
        #expect(runner.metrics.batchesRewound.value == 0)
    }
}
