import DabbaEvents
import DabbaKafka
import DabbaPipeline
import DabbaSchema
import Foundation
import Synchronization
import Testing

@Suite("Retries and dead letters", .timeLimit(.minutes(3)))
struct RetryAndDeadLetterTests {
    @Test("a handler failing twice then succeeding: handled once via the retry tiers, attempt headers right, no DLQ record")
    func failTwiceThenSucceed() async throws {
        let fixture = try await PipelineFixture()
        let calls = Calls()
        let successes = Mutex(0)
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { _, context in
            calls.record(context)
            if calls.count <= 2 { throw HandlerFailure("payment service rejected the call") }
            successes.withLock { $0 += 1 }
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), logger: quietLogger
        )
        let events = try fixture.eventProducer()
        let report = try await events.send(OrderPlaced(orderID: "o-1", amount: 10), metadata: EventMetadata(id: "evt-1"))
        try await withRunning(runner) {
            try await eventually("the event is handled") { successes.withLock { $0 } == 1 }
        }
        #expect(calls.attempts == [1, 2, 3])
        #expect(successes.withLock { $0 } == 1)
        #expect(runner.metrics.retried.value == 2)
        #expect(runner.metrics.deadLettered.value == 0)
        let tier1 = try await fixture.records(on: fixture.topology.retryTiers[fixture.topic]![0].topic, count: 1)
        let tier2 = try await fixture.records(on: fixture.topology.retryTiers[fixture.topic]![1].topic, count: 1)
        #expect(tier1.count == 1 && tier2.count == 1)
        #expect(tier1.first?.header("dabba-attempt") == "2")
        #expect(tier2.first?.header("dabba-attempt") == "3")
        for record in tier1 + tier2 {
            #expect(record.key == "o-1")
            #expect(record.header("ce_id") == "evt-1")
            #expect(record.header("dabba-original-topic") == fixture.topic)
            #expect(record.header("dabba-original-partition") == String(report.partition))
            #expect(record.header("dabba-original-offset") == String(report.offset))
            #expect(record.header("dabba-error-message") == "payment service rejected the call")
        }
        let deadLetters = try await fixture.records(on: fixture.deadLetterTopic, count: 0, quietPeriod: .seconds(2))
        #expect(deadLetters.isEmpty)
        try await events.producer.close()
    }

    @Test("an always-failing handler goes through every tier with its delay, then one DLQ record with every header")
    func alwaysFailing() async throws {
        let fixture = try await PipelineFixture(delays: [.milliseconds(400), .milliseconds(800)])
        let calls = Calls()
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { _, context in
            calls.record(context)
            throw HandlerFailure("restaurant is closed")
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), logger: quietLogger
        )
        let events = try fixture.eventProducer()
        let report = try await events.send(
            OrderPlaced(orderID: "o-9", amount: 5), metadata: EventMetadata(id: "evt-9")
        )
        try await withRunning(runner) {
            try await eventually("the event is dead-lettered") { runner.metrics.deadLettered.value == 1 }
        }
        #expect(calls.attempts == [1, 2, 3])
        let times = calls.times
        let firstDelay = times[1] - times[0]
        let secondDelay = times[2] - times[1]
        #expect(firstDelay >= .milliseconds(350) && firstDelay < .seconds(5), "tier 1 delay \(firstDelay)")
        #expect(secondDelay >= .milliseconds(750) && secondDelay < .seconds(5), "tier 2 delay \(secondDelay)")

        let deadLetters = try await fixture.records(on: fixture.deadLetterTopic, count: 1)
        try #require(deadLetters.count == 1)
        let record = deadLetters[0]
        #expect(record.key == "o-9")
        #expect(record.valueString == #"{"amount":5,"orderID":"o-9"}"#)
        #expect(record.header("ce_id") == "evt-9")
        #expect(record.header("ce_type") == OrderPlaced.eventType)
        // Spring for Apache Kafka's names and encodings.
        #expect(record.header("kafka_dlt-original-topic") == fixture.topic)
        #expect(record.headers.bytes(named: "kafka_dlt-original-partition")?.count == 4)
        #expect(SpringDeadLetterHeaders.decodeInteger(record.headers.bytes(named: "kafka_dlt-original-partition")) == Int64(report.partition))
        #expect(record.headers.bytes(named: "kafka_dlt-original-offset")?.count == 8)
        #expect(SpringDeadLetterHeaders.decodeInteger(record.headers.bytes(named: "kafka_dlt-original-offset")) == report.offset)
        #expect(SpringDeadLetterHeaders.decodeInteger(record.headers.bytes(named: "kafka_dlt-original-timestamp")).map { $0 > 0 } == true)
        #expect(record.header("kafka_dlt-original-timestamp-type") == "CreateTime")
        #expect(record.header("kafka_dlt-original-consumer-group") == fixture.group)
        #expect(record.header("kafka_dlt-exception-fqcn") == "DabbaPipeline.HandlerFailure")
        #expect(record.header("kafka_dlt-exception-message") == "restaurant is closed")
        #expect(record.header("kafka_dlt-exception-stacktrace") == "DabbaPipeline.HandlerFailure: restaurant is closed")
        // Dabba's own diagnostics.
        #expect(record.header("dabba-attempt") == "3")
        #expect(record.header("dabba-consumer-group") == fixture.group)
        #expect(record.header("dabba-failed-at").flatMap { RFC3339.parse($0) } != nil)
        #expect(record.header("dabba-retry-due-at") == nil)
        try await events.producer.close()
    }

    @Test("poison messages (invalid JSON, unknown type, schema violation) go straight to the DLQ; the partition keeps flowing")
    func poisonMessages() async throws {
        let fixture = try await PipelineFixture(partitions: 1)
        let handled = Mutex<[String]>([])
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, _ in handled.withLock { $0.append(event.orderID) } }
        let schema = try JSONSchema(
            ["type": "object", "required": ["orderID", "amount"], "properties": ["amount": ["type": "integer", "minimum": 1]]]
        )
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(),
            schemas: [OrderPlaced.eventType: schema], logger: quietLogger
        )
        let events = try fixture.eventProducer()
        let producer = events.producer
        func envelope(_ type: String, _ id: String) -> [KafkaHeader] {
            var envelope = EventEnvelope(id: id, source: "/test", type: type)
            envelope.dataContentType = "application/json"
            return envelope.binaryHeaders
        }
        try await producer.send(ProducerMessage(topic: fixture.topic, key: Array("k".utf8), value: Array("{oops".utf8), headers: envelope(OrderPlaced.eventType, "bad-json")))
        try await producer.send(ProducerMessage(topic: fixture.topic, key: Array("k".utf8), value: Array("{}".utf8), headers: envelope("test.order.unknown", "bad-type")))
        try await events.send(OrderPlaced(orderID: "k", amount: 0), metadata: EventMetadata(id: "bad-schema"))
        try await events.send(OrderPlaced(orderID: "k", amount: 7), metadata: EventMetadata(id: "good"))
        try await withRunning(runner) {
            try await eventually("the good event is handled") { handled.withLock { $0 } == ["k"] }
        }
        #expect(runner.metrics.retried.value == 0)
        let deadLetters = try await fixture.records(on: fixture.deadLetterTopic, count: 3)
        #expect(deadLetters.map { $0.header("ce_id") } == ["bad-json", "bad-type", "bad-schema"])
        #expect(deadLetters.map { $0.header("kafka_dlt-exception-fqcn") } == [
            "DabbaEvents.EventDecodingError.invalidPayload",
            "DabbaEvents.EventDecodingError.unknownEventType",
            "DabbaEvents.EventDecodingError.schemaViolation",
        ])
        #expect(deadLetters[2].header("kafka_dlt-exception-message")?.contains("/amount") == true)
        #expect(deadLetters.allSatisfy { $0.header("dabba-attempt") == "1" })
        try await producer.close()
    }

    @Test("a permanent error skips the retry tiers; a transient error is retried in place first")
    func classification() async throws {
        let fixture = try await PipelineFixture(partitions: 1)
        let calls = Calls()
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            calls.record(context)
            if event.orderID == "permanent" { throw PermanentError(HandlerFailure("invalid order")) }
            if calls.count == 2 { throw TransientError(HandlerFailure("database busy")) }
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await events.send(OrderPlaced(orderID: "permanent", amount: 1))
        try await events.send(OrderPlaced(orderID: "transient", amount: 1))
        try await withRunning(runner) {
            try await eventually("both are done") {
                runner.metrics.deadLettered.value == 1 && runner.metrics.handled.value == 1
            }
        }
        #expect(runner.metrics.retried.value == 0)
        #expect(runner.metrics.retriedInPlace.value == 1)
        #expect(calls.attempts == [1, 1, 1])
        try await events.producer.close()
    }
}
