import DabbaKafka
import DabbaTesting
import Foundation
import Testing

@Suite(
    "Consumer-group admin on a persistent broker: members, offsets by time, offset resets",
    .enabled(if: PersistentBroker.isAvailable, PersistentBroker.skipReason),
    .timeLimit(.minutes(3))
)
struct GroupAdminTests {
    /// A base time two minutes ago: recent enough that no retention removes the records.
    static var recentBase: Int64 { (Int64(Date().timeIntervalSince1970) - 120) * 1000 }

    /// 3 partitions, 10 records each, record `i` of a partition stamped at `base + i` seconds.
    static func stampedTopic(_ broker: PersistentBroker, _ admin: KafkaAdmin, base: Int64) async throws -> String {
        let topic = uniqueTopic("stamped")
        try await admin.createTopics([NewTopic(name: topic, partitions: 3, replicationFactor: 1)])
        let producer = try KafkaProducer(configuration: broker.producerConfiguration(), logger: quietLogger)
        for partition in Int32(0)..<3 {
            for index in Int64(0)..<10 {
                var message = ProducerMessage(topic: topic, key: "k\(index)", value: "p\(partition)-\(index)", partition: partition)
                message.timestampMilliseconds = base + index * 1000
                try await producer.send(message)
            }
        }
        try await producer.close()
        return topic
    }

    @Test("a running member is described with its client id, host and assignment; the offsets cannot change until it leaves")
    func describeAndRefuseWhileActive() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let topic = try await Self.stampedTopic(broker, admin, base: Self.recentBase)
            let group = "g-\(topic)"
            var configuration = broker.consumerConfiguration(group: group)
            configuration.properties["client.id"] = "reset-test-member"
            let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
            try consumer.subscribe(topics: [topic])
            #expect(try await collect(consumer, count: 30).count == 30)
            try await consumer.commit()

            let described = try await admin.describeConsumerGroup(group)
            #expect(described.groupID == group)
            #expect(described.state == "Stable")
            #expect(!described.isSimple)
            let member = try #require(described.members.first)
            #expect(described.members.count == 1)
            #expect(member.clientID == "reset-test-member")
            #expect(!member.memberID.isEmpty && !member.host.isEmpty)
            #expect(member.assignment == (0..<3).map { TopicPartition(topic: topic, partition: $0) })

            // Refused, naming the member; nothing changed.
            let refused = await #expect(throws: KafkaError.self) {
                try await admin.alterConsumerGroupOffsets(group: group, to: [TopicPartitionOffset(topic: topic, partition: 0, offset: 0)])
            }
            #expect(refused?.code == .groupNotEmpty)
            #expect(refused?.message.contains("reset-test-member") == true, "\(String(describing: refused))")
            #expect(try await admin.committedOffsets(group: group).map(\.offset) == [10, 10, 10])

            try await consumer.close()
            try await TestHelpers.eventually("the group is empty", timeout: .seconds(30)) {
                try await admin.describeConsumerGroup(group).isEmpty
            }
            #expect(try await admin.describeConsumerGroup(group).state == "Empty")
            try await admin.alterConsumerGroupOffsets(group: group, to: [TopicPartitionOffset(topic: topic, partition: 0, offset: 4)])
            #expect(try await admin.committedOffsets(group: group).map(\.offset) == [4, 10, 10])

            // A group nobody knows.
            let unknown = try await admin.describeConsumerGroup("g-nobody-\(topic)")
            #expect(unknown.members.isEmpty)
            #expect(["Dead", "Empty", "Unknown"].contains(unknown.state), "\(unknown.state)")
        }
    }

    @Test("offsets at a time: the first record at or after it on each partition, the end when none is that new")
    func offsetsAtTime() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let base = Self.recentBase
            let topic = try await Self.stampedTopic(broker, admin, base: base)
            let date = { (milliseconds: Int64) in Date(timeIntervalSince1970: Double(milliseconds) / 1000) }
            #expect(try await admin.offsets(at: date(base - 60_000), topics: [topic]).map(\.offset) == [0, 0, 0])
            #expect(try await admin.offsets(at: date(base + 3_500), topics: [topic]).map(\.offset) == [4, 4, 4])
            #expect(try await admin.offsets(at: date(base + 4_000), topics: [topic]).map(\.offset) == [4, 4, 4])
            #expect(try await admin.offsets(at: date(base + 60_000), topics: [topic]).map(\.offset) == [10, 10, 10])
            let missing = await #expect(throws: KafkaError.self) {
                try await admin.offsets(at: Date(), topics: ["no-such-\(topic)"])
            }
            #expect(missing?.code == .unknownTopicOrPartition)
        }
    }

    @Test("an offset-reset plan for each target, clamped to the log, and applied to an empty group")
    func resetPlans() async throws {
        try await PersistentBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let base = Self.recentBase
            let topic = try await Self.stampedTopic(broker, admin, base: base)
            let group = "g-\(topic)"
            try await admin.alterConsumerGroupOffsets(
                group: group, to: [TopicPartitionOffset(topic: topic, partition: 0, offset: 6), TopicPartitionOffset(topic: topic, partition: 1, offset: 2)])
            func targets(_ target: OffsetResetTarget) async throws -> [Int64] {
                let plan = try await admin.planOffsetReset(group: group, topics: [topic], to: target)
                #expect(plan.map(\.current) == [6, 2, nil])
                #expect(plan.allSatisfy { $0.lowWatermark == 0 && $0.highWatermark == 10 })
                return plan.map(\.target)
            }
            #expect(try await targets(.earliest) == [0, 0, 0])
            #expect(try await targets(.latest) == [10, 10, 10])
            #expect(try await targets(.timestamp(Date(timeIntervalSince1970: Double(base + 7_000) / 1000))) == [7, 7, 7])
            #expect(try await targets(.offset(8)) == [8, 8, 8])
            #expect(try await targets(.offset(99)) == [10, 10, 10])
            #expect(try await targets(.shift(-3)) == [3, 0, 0])
            #expect(try await targets(.shift(5)) == [10, 7, 5])

            // The plan is only a plan: nothing moved.
            #expect(try await admin.committedOffsets(group: group).map(\.offset) == [6, 2])
            let plan = try await admin.planOffsetReset(group: group, topics: [topic], to: .shift(-3))
            try await admin.alterConsumerGroupOffsets(group: group, to: plan.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.target) })
            #expect(try await admin.committedOffsets(group: group, topics: [topic]).map(\.offset) == [3, 0, 0])
            let lag = try await admin.groupLag(group: group, topics: [topic])
            #expect(lag.map(\.lag) == plan.map(\.lagAfter))

            let negative = await #expect(throws: KafkaError.self) {
                try await admin.alterConsumerGroupOffsets(group: group, to: [TopicPartitionOffset(topic: topic, partition: 0, offset: -2)])
            }
            #expect(negative?.code == .invalidArgument)
        }
    }
}
