import DabbaEvents
import DabbaKafka
import DabbaPipeline
import Foundation
import Testing

/// Retry records carry their attempt number in a header, which any producer can write: the runner must count on
/// from whatever it reads without trapping (found by the dead-letters fuzz target: `dabba-attempt` at Int.max made
/// `attempt + 1` overflow when the handler failed).
@Suite("Retry headers from outside", .timeLimit(.minutes(3)))
struct UntrustedRetryHeadersTests {
    @Test("a retry record claiming attempt Int.max is handled as attempt Int32.max and retried as the next, no trap")
    func attemptAtIntMax() async throws {
        let fixture = try await PipelineFixture()
        let calls = Calls()
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { _, context in
            calls.record(context)
            throw HandlerFailure("still failing")
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), logger: quietLogger
        )
        let tiers = try #require(fixture.topology.retryTiers[fixture.topic])
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: fixture.broker.bootstrapServers), logger: quietLogger
        )
        let envelope = EventEnvelope(id: "evt-max", source: "/elsewhere", type: OrderPlaced.eventType)
        _ = try await producer.send(
            ProducerMessage(
                topic: tiers[0].topic, key: Array("o-max".utf8),
                value: try JSONEventCodec().encode(OrderPlaced(orderID: "o-max", amount: 1)),
                headers: envelope.binaryHeaders + [
                    KafkaHeader(name: RetryHeaders.attempt, string: String(Int.max)),
                    KafkaHeader(name: RetryHeaders.dueAt, string: "0"),
                ]
            )
        )
        try await withRunning(runner) {
            try await eventually("the record reaches the second tier") { runner.metrics.retried.value >= 1 }
        }
        #expect(calls.attempts.first == Int(Int32.max))
        let next = try await fixture.records(on: tiers[1].topic, count: 1)
        #expect(next.count == 1)
        #expect(next.first?.header(RetryHeaders.attempt) == String(Int(Int32.max) + 1))
        #expect(next.first?.header("ce_id") == "evt-max")
        try await producer.close()
    }
}
