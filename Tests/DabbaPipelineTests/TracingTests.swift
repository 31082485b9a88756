import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import InMemoryTracing
import Synchronization
import Tracing
import Testing

@Suite("Tracing: producer and consumer spans across services", .serialized, .timeLimit(.minutes(3)))
struct TracingTests {
    /// An event sent by a client, handled by one service that emits another, handled by a second service: one trace,
    /// each consumer span the child of the producer span of the record it handled, each emit the child of the
    /// consumer span that made it.
    @Test("a trace through two services: parents, kinds and the OpenTelemetry messaging attributes")
    func traceThroughTwoServices() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let shipped = "\(fixture.topic).shipped"
        try await fixture.broker.createTopic(shipped, partitions: 1)
        let tracer = InMemoryTracer()

        var orders = Pipeline(service: "orders", groupID: fixture.group)
        orders.on(OrderPlaced.self) { placed, context in
            try await context.emit(OrderShipped(orderID: placed.orderID))
        }
        var configuration = fixture.configuration()
        configuration.tracer = tracer
        let ordersRunner = try PipelineRunner(
            pipeline: orders, topology: fixture.topology, configuration: configuration,
            routes: EventRoutes([OrderShipped.eventType: shipped]), logger: quietLogger
        )
        let handledShipped = Counted()
        var shipping = Pipeline(service: "shipping", groupID: "\(fixture.group)-shipping")
        shipping.on(OrderShipped.self) { _, _ in handledShipped.increment() }
        let shippingRunner = try PipelineRunner(
            pipeline: shipping, topology: PipelineTopology(mainTopics: [shipped]), configuration: configuration,
            logger: quietLogger
        )

        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: fixture.broker.bootstrapServers), logger: quietLogger
        )
        let client = EventProducer(
            producer: producer, source: "/client", routes: EventRoutes([OrderPlaced.eventType: fixture.topic]),
            tracer: tracer
        )
        try await client.send(OrderPlaced(orderID: "o-1", amount: 5), metadata: EventMetadata(id: "evt-1"))
        try await producer.close()

        try await withRunning(ordersRunner) {
            try await withRunning(shippingRunner) {
                try await eventually("the shipped event is handled", timeout: .seconds(60)) {
                    handledShipped.value == 1
                }
            }
        }
        let spans = tracer.finishedSpans
        let sendOrder = try #require(spans.first { $0.operationName == "send \(fixture.topic)" })
        let processOrder = try #require(spans.first { $0.operationName == "process \(fixture.topic)" })
        let sendShipped = try #require(spans.first { $0.operationName == "send \(shipped)" })
        let processShipped = try #require(spans.first { $0.operationName == "process \(shipped)" })
        #expect(sendOrder.kind == .producer && sendShipped.kind == .producer)
        #expect(processOrder.kind == .consumer && processShipped.kind == .consumer)
        #expect(Set([sendOrder, processOrder, sendShipped, processShipped].map(\.traceID)).count == 1)
        #expect(processOrder.parentSpanID == sendOrder.spanID)
        #expect(sendShipped.parentSpanID == processOrder.spanID)
        #expect(processShipped.parentSpanID == sendShipped.spanID)

        let attributes = processOrder.attributes
        #expect(attributes["messaging.system"]?.toSpanAttribute() == .string("kafka"))
        #expect(attributes["messaging.operation.type"]?.toSpanAttribute() == .string("process"))
        #expect(attributes["messaging.destination.name"]?.toSpanAttribute() == .string(fixture.topic))
        #expect(attributes["messaging.destination.partition.id"]?.toSpanAttribute() == .string("0"))
        #expect(attributes["messaging.consumer.group.name"]?.toSpanAttribute() == .string(fixture.group))
        #expect(attributes["messaging.kafka.message.key"]?.toSpanAttribute() == .string("o-1"))
        #expect(attributes["messaging.message.id"]?.toSpanAttribute() == .string("evt-1"))
        #expect(attributes["messaging.message.conversation_id"]?.toSpanAttribute() == .string("evt-1"))
        #expect(attributes["messaging.kafka.offset"]?.toSpanAttribute() == .int64(0))
    }

    /// A transient failure parks the event in the retry tier, the second failure dead-letters it: each consumer span
    /// records the error and, as a span event, where the event went. With an inbox the failure is routed after the
    /// inbox transaction, which the span must outlive.
    @Test("a failing handler's span records the error, its type, and the retry or dead letter", arguments: [false, true])
    func failureRecorded(withInbox: Bool) async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [.milliseconds(200)])
        let tracer = InMemoryTracer()
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { _, _ in throw TransientError(HandlerFailure("no such customer")) }
        var configuration = fixture.configuration()
        configuration.tracer = tracer
        configuration.retry.inPlaceAttempts = 1
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: configuration,
            inbox: withInbox ? try SQLiteInbox(path: ":memory:") : nil, logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await events.send(OrderPlaced(orderID: "o-2", amount: 1))
        try await events.producer.close()
        try await withRunning(runner) {
            try await eventually("the event is dead-lettered", timeout: .seconds(60)) {
                runner.metrics.deadLettered.value == 1
            }
        }
        let spans = tracer.finishedSpans.filter { $0.kind == .consumer }
        #expect(spans.map(\.operationName) == ["process \(fixture.topic)", "process \(fixture.topic).\(fixture.group).retry.1"])
        for span in spans {
            #expect(span.errors.count == 1)
            #expect(span.status?.code == .error)
            #expect(span.attributes["error.type"]?.toSpanAttribute() == .string("DabbaPipeline.TransientError"))
        }
        let outcomes = spans.map { $0.events.map(\.name) }
        #expect(outcomes == [["dabba.retry_scheduled"], ["dabba.dead_lettered"]])
        #expect(
            spans.last?.events.first?.attributes["messaging.destination.name"]?.toSpanAttribute()
                == .string(fixture.deadLetterTopic)
        )
    }
}

/// A thread-safe count.
final class Counted: Sendable {
    private let count = Mutex<Int>(0)
    func increment() { count.withLock { $0 += 1 } }
    var value: Int { count.withLock { $0 } }
}
