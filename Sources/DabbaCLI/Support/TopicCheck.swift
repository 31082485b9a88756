import DabbaKafka
import Logging

/// The check `produce` and `consume` make before anything else: the brokers answer within the timeout, and the
/// topic exists. It turns "hangs while librdkafka retries" into a bounded, clearly worded failure.
enum TopicCheck {
    /// The topic's partition count, looked up with a fresh ``KafkaMetadata`` client.
    /// - Throws: ``CLIError`` naming the unreachable brokers or the missing topic.
    static func partitionCount(
        of topic: String,
        client: ClientConfiguration,
        timeout: Double,
        logger: Logger
    ) async throws -> Int32 {
        try await partitionCount(of: topic, servers: client.bootstrapServers, timeout: timeout) { timeout in
            do {
                return try await KafkaMetadata(configuration: client, logger: logger)
                    .topicPartitionCount(topic: topic, timeout: timeout)
            } catch let error as KafkaError where error.code == .invalidConfiguration {
                throw CLIError(error.cliDescription)
            }
        }
    }

    /// The topic's partition count, looked up through the producer's own connection (which also warms its
    /// metadata cache for the first message).
    /// - Throws: ``CLIError`` naming the unreachable brokers or the missing topic.
    static func partitionCount(
        of topic: String,
        producer: KafkaProducer,
        servers: [String],
        timeout: Double
    ) async throws -> Int32 {
        try await partitionCount(of: topic, servers: servers, timeout: timeout) { timeout in
            try await producer.topicPartitionCount(topic: topic, timeout: timeout)
        }
    }

    private static func partitionCount(
        of topic: String,
        servers: [String],
        timeout: Double,
        lookup: (Duration) async throws -> Int32?
    ) async throws -> Int32 {
        let servers = servers.joined(separator: ",")
        let count: Int32?
        do {
            count = try await lookup(.cliSeconds(timeout))
        } catch let error as KafkaError where error.code == .brokerUnreachable {
            var message =
                "could not reach Kafka at \(servers) within \(formatSeconds(timeout)): broker unreachable or "
                + "not responding"
            if let range = error.message.range(of: "last error: ") {
                message += " (\(error.message[range.lowerBound...]))"
            }
            throw CLIError(
                message + "; check -b/--bootstrap or $\(ConnectionOptions.bootstrapEnvironmentVariable)"
            )
        } catch let error as KafkaError {
            throw CLIError(error.cliDescription)
        }
        guard let count else {
            throw CLIError("topic '\(topic)' does not exist at \(servers)")
        }
        return count
    }
}
