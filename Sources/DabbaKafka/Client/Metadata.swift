internal import CRDKafka
import Foundation
import Logging

/// Asks the brokers about topics: whether a topic exists and how many partitions it has.
///
/// A small, read-only client for tools (the `dabba` CLI checks reachability and the topic before producing or
/// consuming). It never creates topics: `allow.auto.create.topics` is off and it lists the cluster's topics rather
/// than naming one, so asking about a missing topic does not create it on a broker that auto-creates topics.
public final class KafkaMetadata: Sendable {
    private let client: RDKafkaClient

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
            callbacks: ClientCallbacks(logger: logger),
            statistics: configuration.statistics
        )
    }

    /// The cluster's brokers, from a metadata request.
    /// - Parameter timeout: How long to wait for a broker to answer.
    /// - Returns: The brokers, sorted by id.
    /// - Throws: ``KafkaError`` as ``topicPartitionCount(topic:timeout:)`` does when no broker answers.
    public func brokers(timeout: Duration = .seconds(10)) async throws -> [BrokerDescription] {
        let client = self.client
        return try await Blocking.run {
            try client.withClusterMetadata(allTopics: false, timeout: timeout, servesCallbacks: true) { metadata in
                (0..<Int(metadata.pointee.broker_cnt)).map { index in
                    let broker = metadata.pointee.brokers[index]
                    return BrokerDescription(
                        id: broker.id, host: broker.host.map { String(cString: $0) } ?? "", port: Int(broker.port))
                }.sorted { $0.id < $1.id }
            }
        }
    }

    /// The partition count of a topic, asking the brokers (not a cache).
    /// - Parameters:
    ///   - topic: The topic name.
    ///   - timeout: How long to wait for a broker to answer.
    /// - Returns: The number of partitions, or nil if the topic does not exist.
    /// - Throws: ``KafkaError`` `authenticationFailed` or `tlsFailed` as soon as librdkafka reports a failed SASL
    ///   authentication or TLS handshake (the message names the bootstrap servers and librdkafka's reason);
    ///   `brokerUnreachable` if no broker answered within `timeout` (the message names the bootstrap servers and the
    ///   last connection error); or another code if the broker reported an error for the topic (for example
    ///   authorization).
    public func topicPartitionCount(topic: String, timeout: Duration = .seconds(10)) async throws -> Int32? {
        // This handle has no poller of its own: the wait serves its error callbacks.
        try await client.topicPartitionCount(topic: topic, timeout: timeout, servesCallbacks: true)
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
    /// - Throws: ``KafkaError`` `authenticationFailed` or `tlsFailed` as soon as librdkafka reports one,
    ///   `brokerUnreachable` if no broker answered within `timeout`, or another code if the broker reported an error
    ///   for the topic.
    public func topicPartitionCount(topic: String, timeout: Duration = .seconds(10)) async throws -> Int32? {
        // The producer's poll thread serves its callbacks.
        try await client.topicPartitionCount(topic: topic, timeout: timeout, servesCallbacks: false)
    }
}

extension RDKafkaClient {
    /// Lists the cluster's topics and returns the partition count of `topic` (nil if it does not exist).
    /// - Parameter servesCallbacks: Whether the wait serves the handle's callbacks (see ``withClusterMetadata``).
    func topicPartitionCount(topic: String, timeout: Duration, servesCallbacks: Bool) async throws -> Int32? {
        let client = self
        return try await Blocking.run { () throws -> Int32? in
            // Lists all topics instead of naming this one: brokers (and librdkafka's mock cluster) that answer
            // Metadata requests older than v4 auto-create a topic that is asked for by name.
            try client.withClusterMetadata(timeout: timeout, servesCallbacks: servesCallbacks) { metadata in
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

    /// Waits for the cluster's metadata (with all its topics, or only the brokers and the topics the handle knows) and
    /// hands it to `body`; blocks, so call it off the cooperative pool (``Blocking``).
    ///
    /// The wait is cut into growing slices (¼ s, ½ s, 1 s, …) so that an error that retrying cannot cure — failed
    /// SASL authentication, a failed TLS handshake, a fatal error — ends it at once instead of after `timeout`:
    /// between slices the handle's error callbacks are served (when `servesCallbacks`; a producer's poll thread
    /// serves its own) and ``ClientCallbacks/definitiveError`` is checked.
    /// - Parameters:
    ///   - allTopics: Whether to ask for every topic in the cluster.
    ///   - timeout: How long to wait for a broker to answer.
    ///   - servesCallbacks: Whether to serve the handle's callbacks between slices (no other poller).
    ///   - body: Reads the metadata (destroyed after it returns).
    /// - Returns: What `body` returns.
    /// - Throws: ``KafkaError`` `authenticationFailed`, `tlsFailed` or a fatal error naming the bootstrap servers and
    ///   librdkafka's reason; `brokerUnreachable` when no broker answered within `timeout` (naming the servers and
    ///   the last connection error); another code for another failure; or what `body` throws.
    func withClusterMetadata<Result>(
        allTopics: Bool = true,
        timeout: Duration,
        servesCallbacks: Bool,
        _ body: (UnsafePointer<rd_kafka_metadata_t>) throws -> Result
    ) throws -> Result {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var slice = Duration.milliseconds(250)
        while true {
            if servesCallbacks { rd_kafka_poll(pointer, 0) }
            if let definitive = callbacks.definitiveError.withLock({ $0 }) { throw connectionFailure(definitive) }
            let remaining = deadline - clock.now
            let started = clock.now
            var metadata: UnsafePointer<rd_kafka_metadata_t>?
            let result = rd_kafka_metadata(
                pointer, allTopics ? 1 : 0, nil, &metadata, Int32(clamping: max(1, min(slice, remaining).milliseconds))
            )
            if result == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata {
                defer { rd_kafka_metadata_destroy(metadata) }
                // The brokers answer: an earlier authentication or TLS failure has cleared up.
                callbacks.definitiveError.withLock { $0 = nil }
                return try body(metadata)
            }
            if let metadata { rd_kafka_metadata_destroy(metadata) }
            switch result {
            case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN,
                RD_KAFKA_RESP_ERR__RESOLVE:
                if servesCallbacks { rd_kafka_poll(pointer, 0) }
                if let definitive = callbacks.definitiveError.withLock({ $0 }) { throw connectionFailure(definitive) }
                guard clock.now < deadline else { throw unreachable(result, timeout: timeout) }
                // librdkafka may answer at once while no broker is up: do not spin.
                if clock.now - started < .milliseconds(50) { Thread.sleep(forTimeInterval: 0.05) }
                slice = slice * 2
            default:
                var error = KafkaError(responseCode: result, context: "metadata request to \(bootstrapServers)")
                if let last = callbacks.lastError.withLock({ $0 }) { error.message += "; last error: \(last.message)" }
                throw error
            }
        }
    }

    /// The error for an authentication, TLS or fatal failure, naming the bootstrap servers.
    func connectionFailure(_ reported: KafkaError) -> KafkaError {
        var error = reported
        switch reported.code {
        case .authenticationFailed:
            error.message =
                "authentication failed at \(bootstrapServers): \(reported.message) (check security.protocol, "
                + "sasl.mechanism, sasl.username and sasl.password)"
        case .tlsFailed:
            error.message =
                "TLS handshake failed at \(bootstrapServers): \(reported.message) (check security.protocol, "
                + "ssl.ca.location and ssl.endpoint.identification.algorithm)"
        default:
            error.message = "the Kafka client for \(bootstrapServers) failed: \(reported.message)"
        }
        return error
    }

    /// `brokerUnreachable`, naming the bootstrap servers and the last connection error.
    private func unreachable(_ result: rd_kafka_resp_err_t, timeout: Duration) -> KafkaError {
        var error = KafkaError(responseCode: result, context: "metadata request")
        error.code = .brokerUnreachable
        var message = "no broker at \(bootstrapServers) answered within \(timeout)"
        if let last = callbacks.lastError.withLock({ $0 }) {
            message += "; last error: \(last.message)"
        }
        error.message = message
        return error
    }
}

/// A broker of the cluster, as metadata names it.
public struct BrokerDescription: Sendable, Hashable {
    /// The broker id.
    public var id: Int32
    /// Its advertised host.
    public var host: String
    /// Its advertised port.
    public var port: Int
}

/// Versions of the libraries Dabba runs on.
public enum KafkaVersion {
    /// librdkafka's version, as the linked library reports it (e.g. `2.0.2`).
    public static var librdkafka: String { String(cString: rd_kafka_version_str()) }
}
