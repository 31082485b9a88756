import DabbaKafka
import Testing

@Suite("Produce and consume round trip", .timeLimit(.minutes(2)))
struct RoundTripTests {
    @Test("keys, values, headers and timestamps round-trip; same key lands on the Java partitioner's partition")
    func roundTrip() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try broker.createTopic(topic, partitions: 6)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        var sent: [String: DeliveryReport] = [:]
        for index in 0..<30 {
            let key = "customer-\(index % 10)"
            let report = try await producer.send(
                ProducerMessage(
                    topic: topic,
                    key: Array(key.utf8),
                    value: Array("order-\(index)".utf8),
                    headers: [KafkaHeader(name: "trace", string: "t\(index)"), KafkaHeader(name: "empty", value: nil)],
                    timestampMilliseconds: 1_700_000_000_000 + Int64(index)
                )
            )
            #expect(report.topic == topic)
            #expect(report.partition == Murmur2Partitioner.partition(forKey: key, partitionCount: 6))
            sent["order-\(index)"] = report
        }
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(broker, group: "g-\(topic)"), logger: quietLogger
        )
        try consumer.subscribe(topics: [topic])
        let received = try await collect(consumer, count: 30)
        #expect(received.count == 30)
        for message in received {
            let value = try #require(message.value)
            let report = try #require(sent[value])
            let index = Int64(try #require(value.split(separator: "-").last.flatMap { Int($0) }))
            #expect(message.partition == report.partition)
            #expect(message.offset == report.offset)
            #expect(message.key == "customer-\(index % 10)")
            #expect(message.headers == [KafkaHeader(name: "trace", string: "t\(index)"), KafkaHeader(name: "empty", value: nil)])
            #expect(message.timestamp == 1_700_000_000_000 + index)
        }
        // Per-key order: within each key, values arrive in the order they were sent.
        let byKey = Dictionary(grouping: received, by: { $0.key ?? "" })
        for (_, messages) in byKey {
            let indices = messages.compactMap { $0.value?.split(separator: "-").last.flatMap { Int($0) } }
            #expect(indices == indices.sorted())
        }
        try await consumer.close()
        try await producer.close()
    }
}
