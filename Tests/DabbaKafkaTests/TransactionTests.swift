import DabbaKafka
import Testing

/// Transactions against a broker that implements them faithfully (the embedded broker only simulates the call
/// flow: aborted records stay visible there and transactional offsets are not stored).
@Suite(
    "Transactions on a persistent broker",
    .enabled(if: PersistentBroker.isAvailable, PersistentBroker.skipReason),
    .timeLimit(.minutes(3))
)
struct TransactionTests {
    @Test("a read_committed consumer sees a committed transaction's messages and never an aborted one's")
    func committedVisibleAbortedNot() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let topic = uniqueTopic()
            try await admin.createTopics([NewTopic(name: topic, partitions: 1, replicationFactor: 1)])
            let producer = try KafkaProducer(
                configuration: broker.producerConfiguration(transactionalID: "tx-\(topic)"), logger: quietLogger
            )
            try await producer.beginTransaction()
            for index in 0..<5 {
                try await producer.send(ProducerMessage(topic: topic, value: Array("aborted-\(index)".utf8)))
            }
            try await producer.abortTransaction()
            try await producer.beginTransaction()
            for index in 0..<5 {
                try await producer.send(ProducerMessage(topic: topic, value: Array("committed-\(index)".utf8)))
            }
            try await producer.commitTransaction()
            try await producer.close()

            let committedValues = (0..<5).map { "committed-\($0)" }
            let abortedValues = (0..<5).map { "aborted-\($0)" }

            // The default isolation level is read_committed.
            let reader = try KafkaConsumer(
                configuration: broker.consumerConfiguration(group: "g-committed-\(topic)"), logger: quietLogger
            )
            try reader.subscribe(topics: [topic])
            // Ask for more than can come: it returns after 2 s without a new message.
            let seen = try await receive(reader, count: 10, quietPeriod: .seconds(2))
            try await reader.close()
            #expect(seen.map(\.valueString) == committedValues)

            // The aborted records are in the log all the same: a read_uncommitted consumer sees both batches.
            var uncommittedConfiguration = broker.consumerConfiguration(group: "g-uncommitted-\(topic)")
            uncommittedConfiguration.isolationLevel = .readUncommitted
            let rawReader = try KafkaConsumer(configuration: uncommittedConfiguration, logger: quietLogger)
            try rawReader.subscribe(topics: [topic])
            let raw = try await receive(rawReader, count: 10)
            try await rawReader.close()
            #expect(raw.map(\.valueString) == abortedValues + committedValues)

            // 10 records and two transaction markers (abort, commit).
            #expect(try await admin.watermarks(topic: topic, partition: 0).high == 12)
        }
    }

    @Test("offsets sent to a committed transaction become the group's committed offsets; an abort leaves them")
    func sendOffsetsToTransaction() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let input = uniqueTopic("input")
            let output = uniqueTopic("output")
            let group = "g-\(input)"
            try await admin.createTopics([
                NewTopic(name: input, partitions: 1, replicationFactor: 1),
                NewTopic(name: output, partitions: 1, replicationFactor: 1),
            ])
            let plain = try KafkaProducer(configuration: broker.producerConfiguration(), logger: quietLogger)
            for index in 0..<10 {
                try await plain.send(ProducerMessage(topic: input, value: Array("in-\(index)".utf8)))
            }
            try await plain.close()

            let consumer = try KafkaConsumer(
                configuration: broker.consumerConfiguration(group: group), logger: quietLogger
            )
            try consumer.subscribe(topics: [input])
            // Read without marking anything processed: the only commits are the transaction's.
            let read = try await receive(consumer, count: 10)
            #expect(read.map(\.offset) == Array(0..<10))
            let inputPartition = TopicPartition(topic: input, partition: 0)

            let producer = try KafkaProducer(
                configuration: broker.producerConfiguration(transactionalID: "tx-\(input)"), logger: quietLogger
            )
            // Transaction 1: outputs for input offsets 0...3, and input position 4. Committed.
            try await producer.beginTransaction()
            for message in read.prefix(4) {
                try await producer.send(ProducerMessage(topic: output, value: Array("out-\(message.offset)".utf8)))
            }
            try await producer.sendOffsetsToTransaction(
                [TopicPartitionOffset(topic: input, partition: 0, offset: 4)], group: try consumer.groupMetadata()
            )
            try await producer.commitTransaction()

            let expected = [TopicPartitionOffset(topic: input, partition: 0, offset: 4)]
            #expect(try await admin.committedOffsets(group: group, topics: [input]) == expected)
            #expect(try await consumer.committedOffsets(for: [inputPartition]) == expected)

            // Transaction 2: the rest, position 10. Aborted: the committed offset stays 4.
            try await producer.beginTransaction()
            for message in read.dropFirst(4) {
                try await producer.send(ProducerMessage(topic: output, value: Array("out-\(message.offset)".utf8)))
            }
            try await producer.sendOffsetsToTransaction(
                [TopicPartitionOffset(topic: input, partition: 0, offset: 10)], group: try consumer.groupMetadata()
            )
            try await producer.abortTransaction()
            try await producer.close()

            #expect(try await admin.committedOffsets(group: group, topics: [input]) == expected)
            #expect(try await consumer.committedOffsets(for: [inputPartition]) == expected)
            let lag = try await admin.groupLag(group: group, topics: [input])
            #expect(lag.map(\.committed) == [4])
            #expect(lag.map(\.lag) == [6])
            try await consumer.close()

            // Only the committed transaction's outputs are visible.
            let outputReader = try KafkaConsumer(
                configuration: broker.consumerConfiguration(group: "g-\(output)"), logger: quietLogger
            )
            try outputReader.subscribe(topics: [output])
            let outputs = try await receive(outputReader, count: 10, quietPeriod: .seconds(2))
            try await outputReader.close()
            #expect(outputs.map(\.valueString) == (0..<4).map { "out-\($0)" })
        }
    }

    @Test("a second producer with the same transactional id fences the first")
    func fencedProducer() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let topic = uniqueTopic()
            try await admin.createTopics([NewTopic(name: topic, partitions: 1, replicationFactor: 1)])
            let transactionalID = "tx-\(topic)"
            let first = try KafkaProducer(
                configuration: broker.producerConfiguration(transactionalID: transactionalID), logger: quietLogger
            )
            try await first.withTransaction {
                _ = try await first.send(ProducerMessage(topic: topic, value: Array("first-0".utf8)))
            }

            // The newcomer's first transaction registers the id with a higher epoch: the first one is fenced.
            let second = try KafkaProducer(
                configuration: broker.producerConfiguration(transactionalID: transactionalID), logger: quietLogger
            )
            try await second.withTransaction {
                _ = try await second.send(ProducerMessage(topic: topic, value: Array("second-0".utf8)))
            }

            var failures: [KafkaError] = []
            do {
                try await first.beginTransaction()
                try await first.send(ProducerMessage(topic: topic, value: Array("first-1".utf8)))
                try await first.commitTransaction()
            } catch let error as KafkaError {
                failures.append(error)
            }
            // Whichever call noticed first, the producer is now unusable for transactions.
            do {
                try await first.commitTransaction()
            } catch let error as KafkaError {
                failures.append(error)
            }
            print("fenced producer errors: \(failures)")
            #expect(failures.count == 2)
            #expect(failures.first?.code == .fenced, "\(failures)")
            #expect(failures.first?.isFatal == true, "\(failures)")
            #expect(failures.last?.code == .fenced, "\(failures)")
            #expect(failures.last?.isFatal == true, "\(failures)")
            try? await first.close(timeout: .seconds(1))

            // The fenced producer's message is never visible; the newcomer's is.
            try await second.close()
            let reader = try KafkaConsumer(
                configuration: broker.consumerConfiguration(group: "g-\(topic)"), logger: quietLogger
            )
            try reader.subscribe(topics: [topic])
            let seen = try await receive(reader, count: 10, quietPeriod: .seconds(2))
            try await reader.close()
            #expect(seen.map(\.valueString) == ["first-0", "second-0"])
        }
    }
}
