@testable import DabbaKafka
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@Suite("Lifecycle, bounded memory and handle ownership", .timeLimit(.minutes(3)))
struct LifecycleTests {
    @Test("graceful shutdown of a ServiceGroup commits what was processed and leaves the group")
    func gracefulShutdown() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 2)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        for index in 0..<20 { try await producer.send(ProducerMessage(topic: topic, key: "k\(index % 4)", value: "\(index)")) }
        let group = "g-\(topic)"
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group), logger: quietLogger)
        try consumer.subscribe(topics: [topic])
        let processed = Mutex<Int>(0)
        try await testGracefulShutdown { trigger in
            let serviceGroup = ServiceGroup(
                configuration: .init(services: [.init(service: consumer), .init(service: producer)], logger: quietLogger)
            )
            async let running: Void = serviceGroup.run()
            for try await message in consumer.messages {
                consumer.markProcessed(message)
                if processed.withLock({ $0 += 1; return $0 }) == 20 { trigger.triggerGracefulShutdown() }
            }
            try await running
        }
        #expect(processed.withLock { $0 } == 20)
        let checker = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group), logger: quietLogger)
        let committed = try await checker.committedOffsets(for: [0, 1].map { TopicPartition(topic: topic, partition: $0) })
        #expect(committed.map(\.offset).reduce(0, +) == 20)
        try await checker.close()
    }

    @Test("a slow handler slows fetching: the buffer stays bounded")
    func boundedBuffer() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        for index in 0..<5000 { try await producer.enqueue(ProducerMessage(topic: topic, key: nil, value: "\(index)")) }
        try await producer.flush()
        var configuration = consumerConfiguration(broker, group: "g-\(topic)")
        configuration.batchSize = 10
        configuration.maxBufferedBatches = 3
        let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
        try consumer.subscribe(topics: [topic])
        var handled = 0
        var maxBuffered = 0
        for try await message in consumer.messages {
            handled += 1
            maxBuffered = max(maxBuffered, consumer.bufferedBatchCount)
            consumer.markProcessed(message)
            if handled == 200 { break }
            if handled % 20 == 0 { try await Task.sleep(for: .milliseconds(20)) }
        }
        #expect(maxBuffered <= 3)
        try await consumer.close()
        try await producer.close()
    }

    @Test("every librdkafka handle is destroyed once its owners are gone")
    func noLeakedHandles() async throws {
        var created: Set<UInt64> = []
        do {
            let broker = try EmbeddedBroker()
            let topic = uniqueTopic()
            try await broker.createTopic(topic, partitions: 1)
            let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
            try await producer.send(ProducerMessage(topic: topic, key: "k", value: "v"))
            let consumer = try KafkaConsumer(
                configuration: consumerConfiguration(broker, group: "g-\(topic)"), logger: quietLogger
            )
            try consumer.subscribe(topics: [topic])
            let received = try await collect(consumer, count: 1)
            #expect(received.count == 1)
            try await consumer.close()
            try await producer.close()
            created = [producer.client.serial, consumer.client.serial]
            #expect(RDKafkaClient.liveHandles.withLock { created.isSubset(of: $0) })
        }
        // Other tests run in parallel, so check only the handles this test created.
        try await waitUntil("this test's handles are destroyed", timeout: .seconds(30)) {
            RDKafkaClient.liveHandles.withLock { $0.isDisjoint(with: created) }
        }
    }
}
