import DabbaKafka
import Testing

@Suite(
    "KafkaAdmin on a persistent broker",
    .enabled(if: PersistentBroker.isAvailable, PersistentBroker.skipReason),
    .timeLimit(.minutes(3))
)
struct AdminTests {
    @Test("created topics are described with their partitions, replication factor and configs")
    func createAndDescribe() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let compacted = uniqueTopic("compacted")
            let plain = uniqueTopic("plain")
            try await admin.createTopics([
                NewTopic(
                    name: compacted, partitions: 3, replicationFactor: 1,
                    configs: ["retention.ms": "3600000", "cleanup.policy": "compact"]
                ),
                NewTopic(name: plain, partitions: 1, replicationFactor: 1),
            ])

            let described = try await admin.describeTopics([compacted, plain])
            #expect(described.map(\.name) == [compacted, plain])
            #expect(described[0].partitions.map(\.id) == [0, 1, 2])
            #expect(described[1].partitions.map(\.id) == [0])
            for topic in described {
                #expect(topic.replicationFactor == 1)
                for partition in topic.partitions {
                    #expect(partition.leader >= 0)
                    #expect(partition.replicas == [partition.leader])
                    #expect(partition.isr == [partition.leader])
                }
            }
            let all = try await admin.describeTopics()
            #expect(Set(all.map(\.name)).isSuperset(of: [compacted, plain]))
            #expect(!all.contains { $0.name.hasPrefix("__") })

            let configs = try await admin.describeTopicConfigs(compacted)
            let retention = try #require(configs["retention.ms"])
            #expect(retention.value == "3600000")
            #expect(retention.source == .dynamicTopic)
            #expect(!retention.isDefault)
            #expect(configs["cleanup.policy"]?.value == "compact")
            #expect(configs["cleanup.policy"]?.source == .dynamicTopic)

            let plainConfigs = try await admin.describeTopicConfigs(plain)
            #expect(plainConfigs["cleanup.policy"]?.value == "delete")
            #expect(plainConfigs["retention.ms"]?.source != .dynamicTopic)
        }
    }

    @Test("creating an existing topic fails with topicAlreadyExists naming it")
    func createExisting() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let topic = uniqueTopic()
            try await admin.createTopics([NewTopic(name: topic, partitions: 2, replicationFactor: 1)])
            let error = await #expect(throws: KafkaError.self) {
                try await admin.createTopics([NewTopic(name: topic, partitions: 4, replicationFactor: 1)])
            }
            #expect(error?.code == .topicAlreadyExists)
            #expect(error?.topic == topic)
            #expect(error?.message.contains("'\(topic)' already exists") == true)
            // The existing topic is untouched.
            #expect(try await admin.describeTopics([topic]).first?.partitions.count == 2)
        }
    }

    @Test("createPartitions grows a topic; shrinking is refused")
    func createPartitions() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let topic = uniqueTopic()
            try await admin.createTopics([NewTopic(name: topic, partitions: 2, replicationFactor: 1)])
            try await admin.createPartitions(topic: topic, totalCount: 5)
            #expect(try await admin.describeTopics([topic]).first?.partitions.map(\.id) == [0, 1, 2, 3, 4])

            let error = await #expect(throws: KafkaError.self) {
                try await admin.createPartitions(topic: topic, totalCount: 3)
            }
            #expect(error?.code == .admin)
            #expect(error?.topic == topic)
            #expect(error?.message.contains("CreatePartitions failed for topic '\(topic)'") == true)
            #expect(try await admin.describeTopics([topic]).first?.partitions.count == 5)
        }
    }

    @Test("alterTopicConfigs changes one entry and keeps the topic's other overrides")
    func alterConfigs() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let topic = uniqueTopic()
            try await admin.createTopics([
                NewTopic(
                    name: topic, partitions: 1, replicationFactor: 1,
                    configs: ["retention.ms": "3600000", "cleanup.policy": "compact", "max.message.bytes": "200000"]
                )
            ])
            try await admin.alterTopicConfigs(topic, set: ["retention.ms": "7200000"])
            let configs = try await admin.describeTopicConfigs(topic)
            #expect(configs["retention.ms"]?.value == "7200000")
            #expect(configs["cleanup.policy"]?.value == "compact")
            #expect(configs["cleanup.policy"]?.source == .dynamicTopic)
            #expect(configs["max.message.bytes"]?.value == "200000")

            // A new key is added alongside the kept ones.
            try await admin.alterTopicConfigs(topic, set: ["segment.ms": "600000"])
            let after = try await admin.describeTopicConfigs(topic)
            #expect(after["segment.ms"]?.value == "600000")
            #expect(after["retention.ms"]?.value == "7200000")
            #expect(after["cleanup.policy"]?.value == "compact")
            #expect(after["max.message.bytes"]?.value == "200000")
        }
    }

    @Test("deleteTopics removes a topic: describing it fails with unknownTopicOrPartition naming it")
    func deleteTopics() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let doomed = uniqueTopic("doomed")
            let kept = uniqueTopic("kept")
            try await admin.createTopics([
                NewTopic(name: doomed, partitions: 2, replicationFactor: 1),
                NewTopic(name: kept, partitions: 1, replicationFactor: 1),
            ])
            try await admin.deleteTopics([doomed])

            let error = await #expect(throws: KafkaError.self) { try await admin.describeTopics([doomed]) }
            #expect(error?.code == .unknownTopicOrPartition)
            #expect(error?.topic == doomed)
            #expect(error?.message.contains(doomed) == true)
            #expect(try await admin.describeTopics([kept]).map(\.name) == [kept])
            #expect(!(try await admin.describeTopics()).contains { $0.name == doomed })

            let again = await #expect(throws: KafkaError.self) { try await admin.deleteTopics([doomed]) }
            #expect(again?.code == .unknownTopicOrPartition)
            #expect(again?.topic == doomed)
        }
    }

    @Test("committed offsets and lag of a group that consumed and committed part of a topic")
    func groupOffsetsAndLag() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let topic = uniqueTopic()
            let group = "g-\(topic)"
            try await admin.createTopics([NewTopic(name: topic, partitions: 3, replicationFactor: 1)])

            let producer = try KafkaProducer(configuration: broker.producerConfiguration(), logger: quietLogger)
            var produced: [Int32: Int64] = [:]
            for index in 0..<30 {
                let report = try await producer.send(
                    ProducerMessage(topic: topic, key: Array("key-\(index)".utf8), value: Array("v\(index)".utf8))
                )
                produced[report.partition, default: 0] += 1
            }
            try await producer.close()
            #expect(produced.values.reduce(0, +) == 30)

            let consumer = try KafkaConsumer(
                configuration: broker.consumerConfiguration(group: group), logger: quietLogger
            )
            try consumer.subscribe(topics: [topic])
            let consumed = try await collect(consumer, count: 12)
            #expect(consumed.count == 12)
            try await consumer.commit()
            try await consumer.close()
            var consumedPerPartition: [Int32: Int64] = [:]
            for message in consumed { consumedPerPartition[message.partition, default: 0] += 1 }

            #expect(try await admin.listConsumerGroups().contains(group))

            // Only the partitions the group committed, each at (consumed count) since offsets start at 0.
            let committed = try await admin.committedOffsets(group: group)
            #expect(committed.allSatisfy { $0.topic == topic })
            #expect(
                Dictionary(uniqueKeysWithValues: committed.map { ($0.partition, $0.offset) })
                    == consumedPerPartition
            )
            // With topics: every partition, -1001 where nothing was committed.
            let everyPartition = try await admin.committedOffsets(group: group, topics: [topic])
            #expect(everyPartition.map(\.partition) == [0, 1, 2])
            for entry in everyPartition {
                #expect(entry.offset == consumedPerPartition[entry.partition] ?? -1001)
            }

            let lag = try await admin.groupLag(group: group, topics: [topic])
            #expect(lag.map(\.partition) == [0, 1, 2])
            for entry in lag {
                let sent = produced[entry.partition] ?? 0
                let read = consumedPerPartition[entry.partition]
                #expect(entry.highWatermark == sent)
                #expect(entry.lowWatermark == 0)
                #expect(entry.committed == read)
                #expect(entry.lag == sent - (read ?? 0), "\(entry)")
            }
            #expect(lag.map(\.lag).reduce(0, +) == 18)
            // Without topics: the topics the group committed.
            #expect(try await admin.groupLag(group: group).map(\.lag).reduce(0, +) == 18)

            let watermarks = try await admin.watermarks(topic: topic, partition: 0)
            #expect(watermarks.low == 0)
            #expect(watermarks.high == produced[0] ?? 0)
        }
    }
}

@Suite("KafkaAdmin on the embedded broker", .timeLimit(.minutes(2)))
struct AdminOnEmbeddedBrokerTests {
    @Test("admin APIs the embedded broker lacks fail fast with unsupportedByBroker naming the API")
    func unsupportedAPIsFailFast() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 2)
        let admin = try KafkaAdmin(
            configuration: ClientConfiguration(bootstrap: broker.bootstrapServers), logger: quietLogger
        )
        // Metadata is implemented: describing works and proves the connection is up.
        #expect(try await admin.describeTopics([topic]).first?.partitions.count == 2)

        let calls: [(api: String, call: @Sendable () async throws -> Void)] = [
            ("CreateTopics", { try await admin.createTopics([NewTopic(name: uniqueTopic(), partitions: 1)]) }),
            ("DeleteTopics", { try await admin.deleteTopics([topic]) }),
            ("CreatePartitions", { try await admin.createPartitions(topic: topic, totalCount: 4) }),
            ("DescribeConfigs", { _ = try await admin.describeTopicConfigs(topic) }),
            ("DescribeConfigs", { try await admin.alterTopicConfigs(topic, set: ["retention.ms": "1000"]) }),
            ("ListGroups", { _ = try await admin.listConsumerGroups() }),
        ]
        let clock = ContinuousClock()
        for (api, call) in calls {
            let started = clock.now
            let error = await #expect(throws: KafkaError.self, "\(api)") { try await call() }
            let elapsed = clock.now - started
            #expect(error?.code == .unsupportedByBroker, "\(api): \(String(describing: error))")
            #expect(error?.message.contains("this broker does not support \(api)") == true)
            // Not a performance bound: an unsupported API must fail instead of waiting out the 30 s request timeout.
            #expect(elapsed < .seconds(20), "\(api) took \(elapsed): it waited for the timeout instead of failing")
        }
        // The topic is still there: nothing was deleted or grown.
        #expect(try await admin.describeTopics([topic]).first?.partitions.count == 2)
    }

    @Test("describing a group on the embedded broker fails fast, also again and beside other group requests, and the process lives on")
    func describeGroupUnsupported() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 2)
        let admin = try KafkaAdmin(
            configuration: ClientConfiguration(bootstrap: broker.bootstrapServers), logger: quietLogger
        )
        // librdkafka 2.0.2 aborts the process a while after a DescribeGroups request to a broker without the API,
        // when other admin requests are in flight: KafkaAdmin must not send it.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for index in 0..<60 { _ = try await admin.groupLag(group: "g\(index % 7)", topics: [topic], timeout: .seconds(3)) }
            }
            group.addTask {
                for _ in 0..<60 {
                    let error = await #expect(throws: KafkaError.self) { try await admin.describeConsumerGroup("g1", timeout: .seconds(3)) }
                    #expect(error?.code == .unsupportedByBroker)
                    #expect(error?.message.contains("this broker does not support DescribeGroups") == true, "\(String(describing: error))")
                }
            }
            try await group.waitForAll()
        }
        // Past the requests' timeouts: still alive, still answering.
        try await Task.sleep(for: .seconds(4))
        #expect(try await admin.watermarks(topic: topic, partition: 0).high == 0)
    }

    @Test("watermarks and group offsets work on the embedded broker")
    func supportedAPIs() async throws {
        let broker = try EmbeddedBroker()
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 1)
        let producer = try KafkaProducer(configuration: producerConfiguration(broker), logger: quietLogger)
        for index in 0..<5 {
            try await producer.send(ProducerMessage(topic: topic, value: Array("m\(index)".utf8)))
        }
        try await producer.close()
        let admin = try KafkaAdmin(
            configuration: ClientConfiguration(bootstrap: broker.bootstrapServers), logger: quietLogger
        )
        let watermarks = try await admin.watermarks(topic: topic, partition: 0)
        #expect(watermarks.low == 0)
        #expect(watermarks.high == 5)

        let group = "g-\(topic)"
        let consumer = try KafkaConsumer(
            configuration: consumerConfiguration(broker, group: group), logger: quietLogger
        )
        try consumer.subscribe(topics: [topic])
        #expect(try await collect(consumer, count: 3).count == 3)
        try await consumer.commit()
        try await consumer.close()
        let committed = try await admin.committedOffsets(group: group, topics: [topic])
        #expect(committed == [TopicPartitionOffset(topic: topic, partition: 0, offset: 3)])
        let lag = try await admin.groupLag(group: group, topics: [topic])
        #expect(lag.map(\.lag) == [2])
    }
}
