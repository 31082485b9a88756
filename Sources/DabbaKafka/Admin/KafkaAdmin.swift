internal import CRDKafka
import Logging
import Synchronization

/// Manages topics, topic configuration and consumer-group offsets.
///
/// Every call waits for the cluster (librdkafka's admin requests answer on a result queue), so each runs on a
/// thread outside Swift's cooperative pool. When the broker does not implement the API a call needs (librdkafka's
/// mock cluster behind ``EmbeddedBroker`` implements none of CreateTopics, DeleteTopics, CreatePartitions,
/// DescribeConfigs, AlterConfigs or ListGroups), the call fails at once with
/// ``KafkaError/Code/unsupportedByBroker`` and a message naming the API, instead of waiting for its timeout.
public final class KafkaAdmin: Sendable {
    let client: RDKafkaClient
    let logger: Logger
    /// Names of the admin APIs a probe showed the broker implements (see ``AdminAPI``).
    let confirmedAPIs = Mutex<Set<String>>([])
    /// Whether the brokers have the consumer-group APIs (ListGroups, DescribeGroups); nil until asked.
    let groupAPIsSupported = Mutex<Bool?>(nil)

    /// Creates an admin client. Connection happens in the background; the first call waits for it.
    /// - Parameters:
    ///   - configuration: Connection settings; ``ClientConfiguration/properties`` are applied last.
    ///   - logger: Where librdkafka's log lines go.
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` naming a bad property, or `clientCreation`.
    public init(configuration: ClientConfiguration, logger: Logger = Logger(label: "dabba.admin")) throws {
        var properties = configuration.librdkafkaProperties
        // Describing or querying a topic must never create it (a producer handle would by default).
        properties.append(("allow.auto.create.topics", "false"))
        properties += configuration.properties.sorted { $0.key < $1.key }
        self.client = try RDKafkaClient.make(
            kind: .producer,
            properties: properties,
            callbacks: ClientCallbacks(logger: logger),
            statistics: configuration.statistics
        )
        self.logger = logger
    }

    // MARK: - Topics

    /// Creates topics.
    ///
    /// The topics are created independently: when one fails, the others may still have been created.
    /// - Parameters:
    ///   - topics: The topics to create.
    ///   - timeout: How long to wait for the controller to create them.
    /// - Throws: ``KafkaError``: `topicAlreadyExists` naming the topic, `unsupportedByBroker` when the broker has
    ///   no CreateTopics API, `timedOut`, or another failure naming the topic (for example an invalid config).
    ///   When several topics fail, the first failure is thrown and its message names the others.
    public func createTopics(_ topics: [NewTopic], timeout: Duration = .seconds(30)) async throws {
        guard !topics.isEmpty else { return }
        let api = AdminAPI.createTopics
        try await perform(api, timeout: timeout) { handle, options, queue in
            var newTopics: [OpaquePointer?] = []
            defer { for newTopic in newTopics { rd_kafka_NewTopic_destroy(newTopic) } }
            var errorText = [CChar](repeating: 0, count: 512)
            for topic in topics {
                guard let newTopic = rd_kafka_NewTopic_new(
                    topic.name, topic.partitions, topic.replicationFactor, &errorText, errorText.count
                ) else {
                    throw KafkaError(
                        .invalidArgument, "cannot create topic '\(topic.name)': \(Self.text(errorText))",
                        topic: topic.name
                    )
                }
                newTopics.append(newTopic)
                for (key, value) in topic.configs.sorted(by: { $0.key < $1.key }) {
                    let result = rd_kafka_NewTopic_set_config(newTopic, key, value)
                    guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                        throw KafkaError(
                            responseCode: result,
                            context: "cannot create topic '\(topic.name)' with config \(key)=\(value)",
                            topic: topic.name
                        )
                    }
                }
            }
            newTopics.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } read: { event in
            var count = 0
            let results = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count)
            try Self.throwTopicFailures(Self.items(results, count: count), api: api)
        }
    }

    /// Deletes topics and all their messages.
    /// - Parameters:
    ///   - names: The topics to delete.
    ///   - timeout: How long to wait for the controller to delete them.
    /// - Throws: ``KafkaError``: `unknownTopicOrPartition` naming a topic that does not exist,
    ///   `unsupportedByBroker` when the broker has no DeleteTopics API, `timedOut`, or another failure.
    public func deleteTopics(_ names: [String], timeout: Duration = .seconds(30)) async throws {
        guard !names.isEmpty else { return }
        let api = AdminAPI.deleteTopics
        try await perform(api, timeout: timeout) { handle, options, queue in
            var deletions: [OpaquePointer?] = names.map { rd_kafka_DeleteTopic_new($0) }
            defer { for deletion in deletions { rd_kafka_DeleteTopic_destroy(deletion) } }
            deletions.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_DeleteTopics(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } read: { event in
            var count = 0
            let results = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(event), &count)
            try Self.throwTopicFailures(Self.items(results, count: count), api: api)
        }
    }

    /// Grows a topic to `totalCount` partitions. Keyed messages produced afterwards may map to other partitions
    /// than before.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - totalCount: The new total number of partitions (more than it has now).
    ///   - timeout: How long to wait for the controller.
    /// - Throws: ``KafkaError``: `unknownTopicOrPartition`, `unsupportedByBroker` when the broker has no
    ///   CreatePartitions API, `timedOut`, or another failure (for example a count not above the current one).
    public func createPartitions(topic: String, totalCount: Int32, timeout: Duration = .seconds(30)) async throws {
        guard totalCount >= 1 else {
            throw KafkaError(.invalidArgument, "topic '\(topic)' needs at least 1 partition, not \(totalCount)",
                             topic: topic)
        }
        let api = AdminAPI.createPartitions
        try await perform(api, timeout: timeout) { handle, options, queue in
            var errorText = [CChar](repeating: 0, count: 512)
            guard let partitions = rd_kafka_NewPartitions_new(topic, Int(totalCount), &errorText, errorText.count)
            else {
                throw KafkaError(
                    .invalidArgument, "cannot grow topic '\(topic)': \(Self.text(errorText))", topic: topic
                )
            }
            defer { rd_kafka_NewPartitions_destroy(partitions) }
            var array: [OpaquePointer?] = [partitions]
            array.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreatePartitions(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } read: { event in
            var count = 0
            let results = rd_kafka_CreatePartitions_result_topics(
                rd_kafka_event_CreatePartitions_result(event), &count
            )
            try Self.throwTopicFailures(Self.items(results, count: count), api: api)
        }
    }

    /// Describes topics from the cluster's metadata: partitions, leaders, replicas and in-sync replicas.
    /// - Parameters:
    ///   - names: The topics to describe, or nil for every topic except Kafka's internal ones (names starting
    ///     with `__`, such as `__consumer_offsets`).
    ///   - timeout: How long to wait for the metadata.
    /// - Returns: The descriptions, in the order of `names` (sorted by name when `names` is nil).
    /// - Throws: ``KafkaError``: `unknownTopicOrPartition` naming a topic that does not exist, `timedOut`, or a
    ///   topic's metadata error (for example `LEADER_NOT_AVAILABLE` right after creation, which is retriable).
    public func describeTopics(
        _ names: [String]? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> [TopicDescription] {
        let metadata = try await clusterTopics(timeout: timeout)
        guard let names else {
            return metadata.values.compactMap { entry in
                guard entry.error == RD_KAFKA_RESP_ERR_NO_ERROR.rawValue, !entry.description.name.hasPrefix("__")
                else { return nil }
                return entry.description
            }.sorted { $0.name < $1.name }
        }
        return try names.map { name in
            guard let entry = metadata[name],
                entry.error != RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART.rawValue
            else {
                throw KafkaError(.unknownTopicOrPartition, "topic '\(name)' does not exist", topic: name)
            }
            guard entry.error == RD_KAFKA_RESP_ERR_NO_ERROR.rawValue else {
                throw KafkaError(
                    responseCode: rd_kafka_resp_err_t(rawValue: entry.error),
                    context: "the metadata of topic '\(name)' has an error",
                    topic: name
                )
            }
            return entry.description
        }
    }

    // MARK: - Helpers

    /// Every topic in the cluster's metadata with its topic-level error code.
    func clusterTopics(
        timeout: Duration
    ) async throws -> [String: (description: TopicDescription, error: Int32)] {
        let client = self.client
        return try await Blocking.run {
            // All topics rather than one topic handle: asking for a single unknown topic could create it on
            // brokers with auto.create.topics.enable. The admin handle has no other poller: the wait serves it.
            try client.withClusterMetadata(timeout: timeout, servesCallbacks: true, Self.topics(in:))
        }
    }

    /// The topics of a metadata answer with their topic-level error codes.
    private static func topics(
        in metadata: UnsafePointer<rd_kafka_metadata_t>
    ) -> [String: (description: TopicDescription, error: Int32)] {
        var topics: [String: (description: TopicDescription, error: Int32)] = [:]
        for topicIndex in 0..<Int(metadata.pointee.topic_cnt) {
            let topic = metadata.pointee.topics[topicIndex]
            let name = String(cString: topic.topic)
            var partitions: [PartitionDescription] = []
            for partitionIndex in 0..<Int(topic.partition_cnt) {
                let partition = topic.partitions[partitionIndex]
                partitions.append(
                    PartitionDescription(
                        id: partition.id,
                        leader: partition.leader,
                        replicas: Array(UnsafeBufferPointer(start: partition.replicas,
                                                            count: Int(partition.replica_cnt))),
                        isr: Array(UnsafeBufferPointer(start: partition.isrs, count: Int(partition.isr_cnt)))
                    )
                )
            }
            partitions.sort { $0.id < $1.id }
            topics[name] = (TopicDescription(name: name, partitions: partitions), topic.err.rawValue)
        }
        return topics
    }

    /// Throws the first failed topic of a CreateTopics, DeleteTopics or CreatePartitions result, naming the other
    /// failed topics in its message.
    static func throwTopicFailures(_ results: [OpaquePointer], api: AdminAPI) throws {
        let failures = results.compactMap { result -> KafkaError? in
            let code = rd_kafka_topic_result_error(result)
            guard code != RD_KAFKA_RESP_ERR_NO_ERROR else { return nil }
            let name = rd_kafka_topic_result_name(result).map { String(cString: $0) } ?? "?"
            return api.failure(
                code,
                detail: rd_kafka_topic_result_error_string(result).map { String(cString: $0) },
                subject: "topic '\(name)'",
                topic: name
            )
        }
        guard var first = failures.first else { return }
        if failures.count > 1 {
            let others = failures.dropFirst().map { "'\($0.topic ?? "?")' (\($0.librdkafkaName ?? "\($0.code)"))" }
            first.message += "; \(api.name) also failed for \(others.joined(separator: ", "))"
        }
        throw first
    }
}
