import DabbaKafka
import Testing

@Suite("Produce and consume round trip", .timeLimit(.minutes(2)))
struct RoundTripTests {
    @Test("keys, values, headers and timestamps round-trip; same key lands on the Java partitioner's partition")
    func roundTrip() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 6)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        var sent: [String: DeliveryReport] = [:]
        for index in 0..<30 {
            let key = "customer-\(index % 10)"
            let report = try await producer.send(
                ProducerMessage(
                    topic: topic,
                    key: Array(key.utf8),
                    value: Array("order-\(index)".utf8),
                    headers: [
                        KafkaHeader(name: "trace", string: "t\(index)"), KafkaHeader(name: "null", value: nil),
                        KafkaHeader(name: "empty", value: []),
                    ],
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
            let value = try #require(message.valueString)
            let report = try #require(sent[value])
            let index = Int64(try #require(value.split(separator: "-").last.flatMap { Int($0) }))
            #expect(message.partition == report.partition)
            #expect(message.offset == report.offset)
            #expect(message.key == "customer-\(index % 10)")
            // A null header value and an empty one stay apart.
            #expect(
                message.headers == [
                    KafkaHeader(name: "trace", string: "t\(index)"), KafkaHeader(name: "null", value: nil),
                    KafkaHeader(name: "empty", value: []),
                ]
            )
            #expect(message.timestampMilliseconds == 1_700_000_000_000 + index)
        }
        // Per-key order: within each key, values arrive in the order they were sent.
        let byKey = Dictionary(grouping: received, by: { $0.key ?? "" })
        for (_, messages) in byKey {
            let indices = messages.compactMap { $0.valueString?.split(separator: "-").last.flatMap { Int($0) } }
            #expect(indices == indices.sorted())
        }
        try await consumer.close()
        try await producer.close()
    }
}

@Suite("Explicit partitions and rebalance events", .timeLimit(.minutes(2)))
struct PartitionAndEventTests {
    @Test("an explicit partition overrides the key's partition")
    func explicitPartition() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 4)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        let keyed = Murmur2Partitioner.partition(forKey: "k", partitionCount: 4)
        let chosen: Int32 = (keyed + 1) % 4
        let report = try await producer.send(ProducerMessage(topic: topic, key: "k", value: "v", partition: chosen))
        #expect(report.partition == chosen)
        await #expect(throws: KafkaError.self) {
            try await producer.send(ProducerMessage(topic: topic, key: "k", value: "v", partition: 9))
        }
        try await producer.close()
    }

    @Test("rebalances are observable: assignment on join, revocation on close")
    func rebalanceEvents() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 3)
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(broker, group: "g-\(topic)"), logger: quietLogger
        )
        try consumer.subscribe(topics: [topic])
        let events = Task {
            var seen: [ConsumerEvent] = []
            for await event in consumer.events { seen.append(event) }
            return seen
        }
        let drain = Task { for try await message in consumer.messages { consumer.markProcessed(message) } }
        try await waitUntil("assigned") { consumer.assignment.count == 3 }
        try await consumer.close()
        drain.cancel()
        let seen = await events.value
        let assigned = seen.compactMap { if case .assigned(let partitions, _) = $0 { partitions } else { nil } }
        let revoked = seen.compactMap { if case .revoked(let partitions) = $0 { partitions } else { nil } }
        #expect(Set(assigned.flatMap { $0 }) == Set((0..<3).map { TopicPartition(topic: topic, partition: $0) }))
        #expect(Set(revoked.flatMap { $0 }) == Set((0..<3).map { TopicPartition(topic: topic, partition: $0) }))
    }
}
