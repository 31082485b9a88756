import DabbaKafka
import Synchronization
import Testing

@Suite("Producer reliability", .timeLimit(.minutes(3)))
struct ProducerReliabilityTests {
    @Test("idempotent producer through request errors and a broker outage: each message once, in order per key")
    func idempotenceUnderFaults() async throws {
        let broker = try EmbeddedBroker(brokers: 3)
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 6, replicationFactor: 3)
        var configuration = producerConfiguration(broker)
        configuration.publishesDeliveryReports = true
        configuration.client.properties["retry.backoff.ms"] = "20"
        configuration.client.properties["request.timeout.ms"] = "1500"
        // The embedded broker (librdkafka 2.0.2's mock) checks sequence numbers only for transactional producers: it
        // accepts a batch that follows one it refused, and the idempotent producer then counts the refused batch
        // as written (its "implicit ack", right against a real broker, which refuses such a gap). With one request
        // in flight, a refused batch is retried before anything after it is sent, so what is checked here is the
        // client's retries and order, not that mock gap.
        configuration.client.properties["max.in.flight.requests.per.connection"] = "1"
        let producer = try KafkaProducer(configuration: configuration, logger: quietLogger)
        let failures = Mutex<[DeliveryReport]>([])
        let delivered = Mutex<Int>(0)
        let reportsTask = Task {
            for await report in producer.deliveryReports {
                if report.isDelivered {
                    delivered.withLock { $0 += 1 }
                } else {
                    failures.withLock { $0.append(report) }
                }
            }
        }
        let total = 3000
        for index in 0..<total {
            if index == 500 {
                try await broker.injectErrors(
                    .produce,
                    [.notLeaderForPartition, .requestTimedOut, .notEnoughReplicas, .notEnoughReplicasAfterAppend,
                     .leaderNotAvailable]
                )
            }
            if index == 1000 { try await broker.setRoundTripTime(broker: 1, .milliseconds(2000)) }
            if index == 1500 {
                try await broker.setRoundTripTime(broker: 1, .zero)
                try await broker.setBrokerDown(2)
            }
            if index == 2200 { try await broker.setBrokerUp(2) }
            try await producer.enqueue(ProducerMessage(topic: topic, key: "key-\(index % 30)", value: "\(index)"))
            if index % 100 == 0 { try await Task.sleep(for: .milliseconds(5)) }
        }
        try await producer.flush(timeout: .seconds(60))
        try await producer.close()
        await reportsTask.value
        #expect(failures.withLock { $0.isEmpty }, "failed deliveries: \(failures.withLock { $0.prefix(3) })")
        #expect(delivered.withLock { $0 } == total)

        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(broker, group: "g-\(topic)"), logger: quietLogger
        )
        try consumer.subscribe(topics: [topic])
        let received = try await collect(consumer, count: total)
        // Give duplicates, if any, a chance to show up before judging.
        let extra = try await collectFor(consumer, duration: .seconds(1))
        let values = (received + extra).compactMap { $0.valueString.flatMap { Int($0) } }
        #expect(values.count == total, "duplicates or losses: \(values.count) records for \(total) messages")
        #expect(Set(values) == Set(0..<total))
        for (key, messages) in Dictionary(grouping: received, by: { $0.key ?? "" }) {
            let order = messages.sorted { $0.offset < $1.offset }.compactMap { $0.valueString.flatMap { Int($0) } }
            #expect(order == order.sorted(), "key \(key) out of order")
        }
        try await consumer.close()
    }

    @Test("a full local queue makes sending wait, not fail")
    func backpressure() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 2)
        try await broker.setRoundTripTime(broker: 1, .milliseconds(20))
        var configuration = producerConfiguration(broker)
        configuration.maxQueuedMessages = 50
        let producer = try KafkaProducer(configuration: configuration, logger: quietLogger)
        for index in 0..<2000 {
            try await producer.enqueue(ProducerMessage(topic: topic, key: "k\(index % 7)", value: "\(index)"))
            #expect(producer.inFlightCount <= 60)
        }
        try await producer.flush()
        #expect(producer.deliveryCounts.delivered == 2000)
        #expect(producer.deliveryCounts.failed == 0)
        try await producer.close()
    }

    @Test("undeliverable messages are reported, never dropped silently")
    func failuresAreReported() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 1)
        try await broker.setBrokerDown(1)
        var configuration = producerConfiguration(broker)
        configuration.messageTimeout = .milliseconds(800)
        let producer = try KafkaProducer(configuration: configuration, logger: quietLogger)
        // Awaited send: throws the delivery failure.
        await #expect(throws: KafkaError.self) {
            try await producer.send(ProducerMessage(topic: topic, key: "k", value: "lost?"))
        }
        // Fast path without a report stream: flush throws, naming how many failed.
        for index in 0..<5 { try await producer.enqueue(ProducerMessage(topic: topic, key: "k", value: "\(index)")) }
        do {
            try await producer.flush(timeout: .seconds(10))
            Issue.record("flush should report the failed deliveries")
        } catch let error as KafkaError {
            #expect(error.code == .deliveryFailed)
            #expect(error.message.contains("5 enqueued messages were not delivered"))
        }
        #expect(producer.deliveryCounts.failed == 5)
        try await producer.close()
    }

    @Test("a message larger than message.max.bytes fails with messageTooLarge")
    func messageTooLarge() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 1)
        var configuration = producerConfiguration(broker)
        configuration.maxMessageBytes = 10_000
        let producer = try KafkaProducer(configuration: configuration, logger: quietLogger)
        do {
            try await producer.send(ProducerMessage(topic: topic, value: [UInt8](repeating: 1, count: 20_000)))
            Issue.record("expected messageTooLarge")
        } catch let error as KafkaError {
            #expect(error.code == .messageTooLarge)
            #expect(error.topic == topic)
        }
        try await producer.close()
    }

    @Test("an invalid librdkafka property fails client creation and names the key")
    func invalidProperty() throws {
        var configuration = ProducerConfiguration(bootstrap: "127.0.0.1:1")
        configuration.client.properties["no.such.property"] = "1"
        #expect {
            _ = try KafkaProducer(configuration: configuration, logger: quietLogger)
        } throws: { error in
            guard let error = error as? KafkaError else { return false }
            return error.code == .invalidConfiguration && error.message.contains("'no.such.property'")
        }
        var consumerConfiguration = ConsumerConfiguration(bootstrap: "127.0.0.1:1", groupID: "g")
        consumerConfiguration.properties["session.timeout.ms"] = "not-a-number"
        #expect {
            _ = try KafkaConsumer(configuration: consumerConfiguration, logger: quietLogger)
        } throws: { error in
            (error as? KafkaError)?.message.contains("'session.timeout.ms'") == true
        }
    }
}
