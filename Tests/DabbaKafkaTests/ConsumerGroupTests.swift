import DabbaKafka
import DabbaTesting
import Foundation
import Synchronization
import Testing

/// Records which values each consumer processed, and how often.
final class ProcessedLog: Sendable {
    private let entries = Mutex<[(consumer: String, value: String, key: String?, partition: Int32)]>([])

    func record(_ consumer: String, _ message: KafkaMessage) {
        let value = message.valueString ?? ""
        let key = message.keyString
        let partition = message.partition
        entries.withLock { $0.append((consumer, value, key, partition)) }
    }

    var values: [String] { entries.withLock { $0.map(\.value) } }
    func values(of consumer: String) -> [String] { entries.withLock { $0.filter { $0.consumer == consumer }.map(\.value) } }
    func partitions(of consumer: String) -> Set<Int32> {
        entries.withLock { Set($0.filter { $0.consumer == consumer }.map(\.partition)) }
    }
    var count: Int { entries.withLock { $0.count } }
}

@Suite("Consumer groups", .timeLimit(.minutes(3)))
struct ConsumerGroupTests {
    @Test("two members split the partitions; when one closes mid-stream the other takes over and nothing is lost")
    func splitAndTakeOver() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 4)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        let group = "g-\(topic)"
        let first = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group), logger: quietLogger)
        let second = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group), logger: quietLogger)
        try first.subscribe(topics: [topic])
        try second.subscribe(topics: [topic])
        let log = ProcessedLog()

        func run(_ consumer: KafkaConsumer, _ name: String) -> Task<Void, any Error> {
            Task {
                for try await message in consumer.messages {
                    log.record(name, message)
                    try await Task.sleep(for: .milliseconds(2))
                    consumer.markProcessed(message)
                }
            }
        }
        let firstTask = run(first, "first")
        let secondTask = run(second, "second")

        // Wait until both members own partitions.
        try await waitUntil("both members are assigned") {
            !first.assignment.isEmpty && !second.assignment.isEmpty
        }
        #expect(first.assignment.isDisjoint(with: second.assignment))
        #expect(first.assignment.union(second.assignment).count == 4)

        for index in 0..<200 {
            try await producer.enqueue(ProducerMessage(topic: topic, key: "k\(index % 20)", value: "m\(index)"))
        }
        try await producer.flush()
        try await waitUntil("both members processed messages") {
            !log.values(of: "first").isEmpty && !log.values(of: "second").isEmpty
        }
        // Close the first member mid-stream: the second must take over its partitions.
        try await first.close()
        try await firstTask.value
        for index in 200..<400 {
            try await producer.enqueue(ProducerMessage(topic: topic, key: "k\(index % 20)", value: "m\(index)"))
        }
        try await producer.flush()
        try await waitUntil("every message is processed") {
            Set(log.values).count == 400
        }
        #expect(second.assignment.count == 4)
        // At least once: every message processed; anything processed twice was in flight during the handover.
        #expect(Set(log.values) == Set((0..<400).map { "m\($0)" }))
        try await second.close()
        try await secondTask.value
        try await producer.close()
    }

    @Test("a restarted member resumes from the committed offsets")
    func resumeFromCommitted() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 3)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        for index in 0..<90 {
            try await producer.enqueue(ProducerMessage(topic: topic, key: "k\(index % 9)", value: "m\(index)"))
        }
        try await producer.flush()
        let group = "g-\(topic)"
        let before = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group), logger: quietLogger)
        try before.subscribe(topics: [topic])
        let firstHalf = try await collect(before, count: 45)
        try await before.close()

        let after = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group), logger: quietLogger)
        try after.subscribe(topics: [topic])
        let secondHalf = try await collect(after, count: 45)
        // Exactly the rest: the close committed what was processed, and nothing processed is read again.
        #expect(Set(firstHalf.map(\.valueString)).isDisjoint(with: Set(secondHalf.map(\.valueString))))
        #expect(Set((firstHalf + secondHalf).compactMap(\.valueString)) == Set((0..<90).map { "m\($0)" }))
        let committed = try await after.committedOffsets(
            for: (0..<3).map { TopicPartition(topic: topic, partition: $0) }
        )
        try await after.close()
        let reread = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group), logger: quietLogger)
        let finalCommitted = try await reread.committedOffsets(
            for: (0..<3).map { TopicPartition(topic: topic, partition: $0) }
        )
        #expect(finalCommitted.map(\.offset).reduce(0, +) == 90)
        #expect(committed.count == 3)
        try await reread.close()
        try await producer.close()
    }

    @Test("unprocessed messages are not committed: they are redelivered after a restart")
    func unmarkedMessagesAreRedelivered() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        for index in 0..<10 {
            try await producer.send(ProducerMessage(topic: topic, key: nil, value: "m\(index)"))
        }
        let group = "g-\(topic)"
        let consumer = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group), logger: quietLogger)
        try consumer.subscribe(topics: [topic])
        var seen = 0
        for try await message in consumer.messages {
            // Process only the first 4; the 5th is "in flight" when we stop.
            seen += 1
            if seen <= 4 { consumer.markProcessed(message) } else { break }
        }
        try await consumer.close(timeout: .milliseconds(100))
        let restarted = try KafkaConsumer(configuration: consumerConfiguration(broker, group: group), logger: quietLogger)
        try restarted.subscribe(topics: [topic])
        let rest = try await collect(restarted, count: 6)
        #expect(rest.map(\.valueString) == (4..<10).map { "m\($0)" })
        try await restarted.close()
        try await producer.close()
    }

    @Test("pause stops a partition, resume continues it; seek re-reads from an offset")
    func pauseResumeSeek() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        for index in 0..<5 {
            try await producer.send(ProducerMessage(topic: topic, key: nil, value: "m\(index)"))
        }
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(broker, group: "g-\(topic)"), logger: quietLogger
        )
        try consumer.subscribe(topics: [topic])
        let firstFive = try await collect(consumer, count: 5)
        #expect(firstFive.map(\.valueString) == (0..<5).map { "m\($0)" })

        let partition = TopicPartition(topic: topic, partition: 0)
        try consumer.pause([partition])
        try await producer.send(ProducerMessage(topic: topic, key: nil, value: "m5"))
        let whilePaused = try await collectFor(consumer, duration: .seconds(1))
        #expect(whilePaused.isEmpty)
        try consumer.resume([partition])
        let afterResume = try await collect(consumer, count: 1)
        #expect(afterResume.map(\.valueString) == ["m5"])

        try await consumer.seek(TopicPartitionOffset(topic: topic, partition: 0, offset: 2))
        let reread = try await collect(consumer, count: 4)
        #expect(reread.map(\.valueString) == ["m2", "m3", "m4", "m5"])
        try await consumer.close()
        try await producer.close()
    }
}

/// Polls `condition` until it holds, failing the test after `timeout`.
func waitUntil(
    _ what: String,
    timeout: Duration = .seconds(60),
    _ condition: () async throws -> Bool
) async throws {
    do {
        try await TestHelpers.eventually(what, timeout: timeout, pollInterval: .milliseconds(50), condition)
    } catch let timeout as WaitTimeout {
        Issue.record("\(timeout)")
        throw CancellationError()
    }
}

/// Collects whatever arrives within `duration`.
func collectFor(_ consumer: KafkaConsumer, duration: Duration) async throws -> [TestRecord] {
    let box = Mutex<[TestRecord]>([])
    let task = Task {
        for try await message in consumer.messages {
            box.withLock { $0.append(TestRecord(message)) }
            consumer.markProcessed(message)
        }
    }
    try await Task.sleep(for: duration)
    task.cancel()
    _ = try? await task.value
    return box.withLock { $0 }
}
