import DabbaKafka
import DabbaTesting
import Foundation
import Testing

@Suite(
    "dabba group describe and reset-offsets on a persistent broker",
    .enabled(if: PersistentTestBroker.isAvailable, Comment(rawValue: PersistentTestBroker.unavailableMessage)),
    .timeLimit(.minutes(3))
)
struct GroupOffsetsCommandTests {
    @Test("a dry run prints the plan and changes nothing; --execute moves the group; bad targets are refused by name")
    func resetOffsets() async throws {
        try await PersistentTestBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let topic = "t-" + TestHelpers.uniqueName("reset")
            let group = "g-\(topic)"
            try await admin.createTopics([NewTopic(name: topic, partitions: 2, replicationFactor: 1)])
            let producer = try KafkaProducer(configuration: broker.producerConfiguration(), logger: quietLogger)
            for index in 0..<10 {
                try await producer.send(ProducerMessage(topic: topic, key: nil, value: "m\(index)", partition: Int32(index % 2)))
            }
            try await producer.close()
            try await admin.alterConsumerGroupOffsets(
                group: group, to: [TopicPartitionOffset(topic: topic, partition: 0, offset: 5), TopicPartitionOffset(topic: topic, partition: 1, offset: 5)])
            let connection = ["-b", broker.bootstrapServers]

            let dryRun = try await Dabba.run(["group", "reset-offsets", group, "--topic", topic, "--shift-by", "-2"] + connection)
            #expect(dryRun.exitCode == 0, "\(dryRun.stderr)")
            #expect(dryRun.lines == ["TOPIC\tPARTITION\tCOMMITTED\tNEW\tLAG AFTER", "\(topic)\t0\t5\t3\t2", "\(topic)\t1\t5\t3\t2"])
            #expect(dryRun.stderr.contains("dry run"), "\(dryRun.stderr)")
            #expect(try await admin.committedOffsets(group: group).map(\.offset) == [5, 5])

            let applied = try await Dabba.run(["group", "reset-offsets", group, "--topic", topic, "--to-earliest", "--execute"] + connection)
            #expect(applied.exitCode == 0, "\(applied.stderr)")
            #expect(try await admin.committedOffsets(group: group).map(\.offset) == [0, 0])

            let described = try await Dabba.run(["group", "describe", group] + connection)
            #expect(described.exitCode == 0, "\(described.stderr)")
            #expect(described.lines.first?.hasPrefix("group \(group): Empty, 0 member(s)") == true, "\(described.lines)")
            #expect(described.lines.contains("\(topic)\t0\t0\t5\t5"))

            let two = try await Dabba.run(["group", "reset-offsets", group, "--topic", topic, "--to-earliest", "--to-latest"] + connection)
            #expect(two.exitCode != 0)
            #expect(two.stderr.contains("exactly one of --to-earliest"), "\(two.stderr)")
            let badTime = try await Dabba.run(["group", "reset-offsets", group, "--topic", topic, "--to-datetime", "yesterday"] + connection)
            #expect(badTime.exitCode != 0)
            #expect(badTime.stderr.contains("'yesterday' is not a time"), "\(badTime.stderr)")
        }
    }
}
