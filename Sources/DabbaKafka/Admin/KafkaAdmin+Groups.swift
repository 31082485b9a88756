internal import CRDKafka

extension KafkaAdmin {
    /// Lists the consumer groups the cluster knows (from every broker).
    /// - Parameter timeout: How long to wait for the brokers.
    /// - Returns: The group ids, sorted.
    /// - Throws: ``KafkaError``: `unsupportedByBroker` when the brokers have no ListGroups API, `timedOut`, or the
    ///   first broker's failure (a partial list is never returned).
    public func listConsumerGroups(timeout: Duration = .seconds(30)) async throws -> [String] {
        let api = AdminAPI.listGroups
        return try await perform(api, timeout: timeout) { handle, options, queue in
            rd_kafka_ListConsumerGroups(handle, options, queue)
        } read: { event in
            let result = rd_kafka_event_ListConsumerGroups_result(event)
            var errorCount = 0
            let errors = rd_kafka_ListConsumerGroups_result_errors(result, &errorCount)
            if errorCount > 0, let errors, let first = errors[0] {
                throw api.failure(borrowing: first)
            }
            var count = 0
            let listings = rd_kafka_ListConsumerGroups_result_valid(result, &count)
            guard let listings else { return [] }
            return (0..<count).compactMap { index in
                listings[index].flatMap { rd_kafka_ConsumerGroupListing_group_id($0) }.map { String(cString: $0) }
            }.sorted()
        }
    }

    /// A consumer group's committed offsets (each the next offset the group will read).
    /// - Parameters:
    ///   - group: The group id.
    ///   - topics: Only these topics: then every partition of them is returned, with offset -1001 where the group
    ///     has committed nothing (as ``KafkaConsumer/committedOffsets(for:timeout:)`` does). Nil: only the
    ///     partitions the group has committed.
    ///   - timeout: How long to wait for the group coordinator.
    /// - Returns: The offsets, sorted by topic and partition.
    /// - Throws: ``KafkaError``: `unknownTopicOrPartition` for a listed topic that does not exist,
    ///   `unsupportedByBroker`, `timedOut`, or the coordinator's failure.
    public func committedOffsets(
        group: String,
        topics: [String]? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> [TopicPartitionOffset] {
        var partitions: [TopicPartitionOffset]?
        if let topics {
            partitions = try await describeTopics(topics, timeout: timeout).flatMap { topic in
                topic.partitions.map { TopicPartitionOffset(topic: topic.name, partition: $0.id, offset: -1001) }
            }
            if partitions?.isEmpty == true { return [] }
        }
        let requested = partitions
        let api = AdminAPI.offsetFetch
        let offsets = try await perform(api, timeout: timeout) { handle, options, queue in
            let request: OpaquePointer? =
                if let requested {
                    TopicPartitionList.with(requested) { rd_kafka_ListConsumerGroupOffsets_new(group, $0) }
                } else {
                    rd_kafka_ListConsumerGroupOffsets_new(group, nil)
                }
            guard let request else {
                throw KafkaError(.invalidArgument, "cannot list the committed offsets of group '\(group)'")
            }
            defer { rd_kafka_ListConsumerGroupOffsets_destroy(request) }
            var requests: [OpaquePointer?] = [request]
            requests.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_ListConsumerGroupOffsets(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } read: { event in
            var count = 0
            let groups = rd_kafka_ListConsumerGroupOffsets_result_groups(
                rd_kafka_event_ListConsumerGroupOffsets_result(event), &count
            )
            guard let result = Self.items(groups, count: count).first else {
                throw KafkaError(.admin, "\(api.name) returned no result for group '\(group)'")
            }
            if let error = rd_kafka_group_result_error(result) {
                throw api.failure(borrowing: error, subject: "group '\(group)'")
            }
            let list = rd_kafka_group_result_partitions(result)
            if let error = TopicPartitionList.firstError(list, context: "\(api.name) for group '\(group)'") {
                throw error
            }
            return TopicPartitionList.read(list)
        }
        return offsets.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// Asks the partition's leader for its low and high watermarks.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - partition: The partition.
    ///   - timeout: How long to wait for the leader.
    /// - Returns: The oldest offset still in the log and the offset the next message will get.
    /// - Throws: ``KafkaError``: `unknownTopicOrPartition`, `timedOut`, or another failure.
    public func watermarks(
        topic: String,
        partition: Int32,
        timeout: Duration = .seconds(30)
    ) async throws -> (low: Int64, high: Int64) {
        let client = self.client
        let milliseconds = Self.clampedMilliseconds(timeout)
        let offsets = try await Blocking.run {
            var low: Int64 = -1
            var high: Int64 = -1
            let result = rd_kafka_query_watermark_offsets(client.pointer, topic, partition, &low, &high, milliseconds)
            guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(
                    responseCode: result,
                    context: "could not query the watermarks of \(topic)[\(partition)]",
                    topic: topic,
                    partition: partition
                )
            }
            return [low, high]
        }
        return (offsets[0], offsets[1])
    }

    /// How far a consumer group is behind, per partition, from its committed offsets and the partitions'
    /// watermarks (not from a running member's position, so it includes messages a member has fetched but not
    /// yet committed).
    /// - Parameters:
    ///   - group: The group id.
    ///   - topics: The topics to report (every partition of each); nil for the topics the group has committed
    ///     offsets for.
    ///   - timeout: How long to wait for each request.
    /// - Returns: One entry per partition, sorted by topic and partition.
    /// - Throws: ``KafkaError`` from ``committedOffsets(group:topics:timeout:)`` or
    ///   ``watermarks(topic:partition:timeout:)``.
    public func groupLag(
        group: String,
        topics: [String]? = nil,
        timeout: Duration = .seconds(30)
    ) async throws -> [PartitionLag] {
        let topicNames: [String]
        if let topics {
            topicNames = topics
        } else {
            let committed = try await committedOffsets(group: group, timeout: timeout)
            topicNames = Array(Set(committed.map(\.topic))).sorted()
            if topicNames.isEmpty { return [] }
        }
        // Every partition of the topics, -1001 where the group has committed nothing.
        let committed = try await committedOffsets(group: group, topics: topicNames, timeout: timeout)
        var lags: [PartitionLag] = []
        for entry in committed {
            let (low, high) = try await watermarks(topic: entry.topic, partition: entry.partition, timeout: timeout)
            lags.append(
                PartitionLag(
                    topic: entry.topic,
                    partition: entry.partition,
                    committed: entry.offset >= 0 ? entry.offset : nil,
                    lowWatermark: low,
                    highWatermark: high
                )
            )
        }
        return lags
    }
}
