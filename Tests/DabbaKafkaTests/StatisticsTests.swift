import DabbaKafka
import DabbaTesting
import MetricsTestKit
import Testing

@Suite("librdkafka statistics as metrics", .timeLimit(.minutes(2)))
struct StatisticsTests {
    /// A producer and a group consumer with statistics every 100 ms: their queues, the broker's round trips, the
    /// consumer's assignment and rebalance reach the injected metrics factory, labelled with the client's name.
    @Test("broker round trips, queues, the assignment and rebalances are recorded through swift-metrics")
    func recorded() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 3)
        let metrics = TestMetrics()
        let statistics = KafkaStatisticsConfiguration(
            interval: .milliseconds(100), factory: metrics, labels: ["service": "stats-test"]
        )
        var producerSettings = producerConfiguration(broker)
        producerSettings.client.statistics = statistics
        let producer = try KafkaProducer(configuration: producerSettings, logger: quietLogger)
        for index in 0..<10 {
            _ = try await producer.send(ProducerMessage(topic: topic, key: Array("k\(index)".utf8), value: [1]))
        }
        var consumerSettings = consumerConfiguration(broker, group: "g-\(topic)")
        consumerSettings.client.statistics = statistics
        let consumer = try KafkaConsumer(configuration: consumerSettings, logger: quietLogger)
        try consumer.subscribe(topics: [topic])
        _ = try await collect(consumer, count: 10)

        func meters(_ label: String) -> [TestMeter] { metrics.meters(label: label) }
        try await TestHelpers.eventually("the consumer's statistics report its assignment and rebalance") {
            meters("dabba_kafka_assigned_partitions").contains { $0.lastValue == 3 }
                && metrics.counterTotal(label: "dabba_kafka_rebalances_total") >= 1
        }
        try await TestHelpers.eventually("both clients report the broker's round trips") {
            Set(meters("dabba_kafka_broker_rtt_seconds").compactMap { meter in
                meter.dimensions.first { $0.0 == "client" }?.1
            }).count == 2
        }
        for meter in meters("dabba_kafka_broker_rtt_seconds") {
            #expect(meter.dimensions.contains { $0 == ("service", "stats-test") })
            #expect(meter.dimensions.contains { $0.0 == "broker" })
            #expect((meter.lastValue ?? -1) >= 0)
        }
        let queued = meters("dabba_kafka_producer_queue_messages")
        #expect(queued.count == 1, "the producer's queue, and only the producer's")
        #expect(queued.first?.lastValue == 0, "every message was acknowledged")
        #expect(!meters("dabba_kafka_queue_operations").isEmpty)
        try await consumer.close()
        try await producer.close()
    }
}
