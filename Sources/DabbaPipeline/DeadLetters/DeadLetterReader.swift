import DabbaKafka
import Foundation
import Logging

/// Reads a dead-letter topic from a group's position (or the beginning) up to its end as of the start.
package enum DeadLetterReader {
    /// Calls `body` for each record between the start position and the high watermarks taken when reading starts;
    /// `body` returns false to stop early. Each handled record is marked processed (the group's position advances
    /// only when `commits` is true). With `startingAt`, reading starts where that group has committed (a dry run of
    /// a replay reads what the replay group would, under a throwaway group).
    package static func read(
        topic: String,
        group: String,
        commits: Bool,
        client: ClientConfiguration,
        timeout: Duration,
        logger: Logger,
        startingAt: String? = nil,
        _ body: (DeadLetterRecord) async throws -> Bool
    ) async throws {
        guard let partitionCount = try await KafkaMetadata(configuration: client, logger: logger)
            .topicPartitionCount(topic: topic, timeout: timeout)
        else {
            throw KafkaError(.unknownTopicOrPartition, "dead-letter topic '\(topic)' does not exist", topic: topic)
        }
        var configuration = ConsumerConfiguration(client: client, groupID: group)
        configuration.offsetReset = .earliest
        configuration.commitsStoredOffsets = commits
        // A short-lived member: librdkafka's mock coordinator holds the next join of the same group for about the
        // departed member's session timeout, so keep it at the broker minimum (real brokers honour LeaveGroup).
        configuration.sessionTimeout = .seconds(6)
        configuration.client.properties["heartbeat.interval.ms"] = "1000"
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let admin = try KafkaAdmin(configuration: client, logger: logger)
        // Every wait below is bounded by the caller's timeout, not the admin calls' defaults.
        let partitions = (0..<partitionCount).map { TopicPartition(topic: topic, partition: $0) }
        let committed =
            if let startingAt {
                try await admin.committedOffsets(group: startingAt, topics: [topic], timeout: timeout)
            } else {
                try await consumer.committedOffsets(for: partitions, timeout: timeout)
            }
        var remaining: [Int32: Int64] = [:]
        var starts: [Int32: Int64] = [:]
        for partition in partitions {
            let marks = try await admin.watermarks(topic: topic, partition: partition.partition, timeout: timeout)
            let start = max(committed.first { $0.partition == partition.partition }?.offset ?? marks.low, marks.low)
            starts[partition.partition] = start
            if start < marks.high { remaining[partition.partition] = marks.high }
        }
        guard !remaining.isEmpty else {
            try await consumer.close()
            return
        }
        try consumer.subscribe(topics: [topic])
        do {
            for try await message in consumer.messages {
                guard let end = remaining[message.partition] else { continue }
                if message.offset < end, message.offset >= starts[message.partition, default: 0] {
                    let goOn = try await body(DeadLetterRecord(message))
                    consumer.markProcessed(message)
                    if !goOn { break }
                }
                if message.offset >= end - 1 { remaining[message.partition] = nil }
                if remaining.isEmpty { break }
            }
        } catch {
            try? await consumer.close()
            throw error
        }
        if commits { try await consumer.commit() }
        try await consumer.close()
    }
}
