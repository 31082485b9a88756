internal import CRDKafka
import Logging

/// Asks the brokers about topics: whether a topic exists and how many partitions it has.
///
/// A small, read-only client for tools (the `dabba` CLI checks reachability and the topic before producing or
/// consuming). It never creates topics: `allow.auto.create.topics` is off and it lists the cluster's topics rather
/// than naming one, so asking about a missing topic does not create it on a broker that auto-creates topics.
public final class KafkaMetadata: Sendable {
    private let client: RDKafkaClient
    private let bootstrapServers: String

    /// Creates the client. Connection happens in the background; the first query waits for it.
    /// - Parameters:
    ///   - configuration: Connection settings; ``ClientConfiguration/properties`` apply too.
    ///   - logger: Where librdkafka's log lines go.
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` naming a bad property, or `clientCreation`.
    public init(configuration: ClientConfiguration, logger: Logger = Logger(label: "dabba.metadata")) throws {
        var properties = configuration.librdkafkaProperties
        properties += configuration.properties.sorted { $0.key < $1.key }
        properties.append(("allow.auto.create.topics", "false"))
        self.client = try RDKafkaClient.make(
            kind: .producer,
            properties: properties,
            callbacks: ClientCallbacks(logger: logger)
        )
        self.bootstrapServers = configuration.bootstrapServers.joined(separator: ",")
    }

    /// The partition count of a topic, asking the brokers (not a cache).
    /// - Parameters:
    ///   - topic: The topic name.
    ///   - timeout: How long to wait for a broker to answer.
    /// - Returns: The number of partitions, or nil if the topic does not exist.
    /// - Throws: ``KafkaError`` `brokerUnreachable` if no broker answered within `timeout` (the message names the
    ///   bootstrap servers and the last connection error), or another code if the broker reported an error for the
    ///   topic (for example authorization).
    public func topicPartitionCount(topic: String, timeout: Duration = .seconds(10)) async throws -> Int32? {
        try await client.topicPartitionCount(topic: topic, timeout: timeout, servers: bootstrapServers)
    }
}

extension KafkaProducer {
    /// The partition count of a topic, asking the brokers through this producer's own connection.
    ///
    /// Besides checking that the brokers answer and the topic exists, this fills the producer's metadata cache,
    /// so the first message to the topic is sent at once instead of after librdkafka's next periodic topic scan
    /// (up to a second). Like ``KafkaMetadata``, it never creates the topic.
    /// - Parameters:
    ///   - topic: The topic name.
    ///   - timeout: How long to wait for a broker to answer.
    /// - Returns: The number of partitions, or nil if the topic does not exist.
    /// - Throws: ``KafkaError`` `brokerUnreachable` if no broker answered within `timeout`, or another code if the
    ///   broker reported an error for the topic.
    public func topicPartitionCount(topic: String, timeout: Duration = .seconds(10)) async throws -> Int32? {
        try await client.topicPartitionCount(topic: topic, timeout: timeout, servers: nil)
    }
}

extension RDKafkaClient {
    /// Lists the cluster's topics and returns the partition count of `topic` (nil if it does not exist).
    /// - Parameter servers: The bootstrap servers, for error messages.
    func topicPartitionCount(topic: String, timeout: Duration, servers: String?) async throws -> Int32? {
        let client = self
        let brokers = servers.map { "at \($0) " } ?? ""
        return try await Blocking.run { () throws -> Int32? in
            // Lists all topics instead of naming this one: brokers (and librdkafka's mock cluster) that answer
            // Metadata requests older than v4 auto-create a topic that is asked for by name.
            var metadata: UnsafePointer<rd_kafka_metadata_t>?
            let result = rd_kafka_metadata(
                client.pointer,
                1,
                nil,
                &metadata,
                Int32(clamping: max(1, timeout.milliseconds))
            )
            defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else {
                var error = KafkaError(responseCode: result, context: "metadata request")
                switch result {
                case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
                    RD_KAFKA_RESP_ERR__RESOLVE:
                    error.code = .brokerUnreachable
                    var message = "no broker \(brokers)answered within \(timeout)"
                    if let last = client.callbacks.lastError.withLock({ $0 }) {
                        message += "; last error: \(last.message)"
                    }
                    error.message = message
                default:
                    error.message =
                        "could not read the topics \(brokers)to look up '\(topic)': "
                        + String(cString: rd_kafka_err2str(result))
                }
                throw error
            }
            let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
            guard let entry = topics.first(where: { $0.topic.map { String(cString: $0) } == topic }) else {
                return nil
            }
            switch entry.err {
            case RD_KAFKA_RESP_ERR_NO_ERROR:
                return entry.partition_cnt
            case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
                return nil
            case RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE where entry.partition_cnt > 0:
                // Exists, but a leader election is in progress: the partition count is still right.
                return entry.partition_cnt
            default:
                throw KafkaError(
                    responseCode: entry.err,
                    context: "broker reported an error for topic '\(topic)'",
                    topic: topic
                )
            }
        }
    }
}
