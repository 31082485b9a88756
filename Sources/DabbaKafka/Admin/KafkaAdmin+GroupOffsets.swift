internal import CRDKafka
import Foundation

extension KafkaAdmin {
    /// Describes a consumer group: its state, assignor, coordinator and active members with their assignments.
    /// - Parameters:
    ///   - group: The group id.
    ///   - timeout: How long to wait for the coordinator.
    /// - Returns: The description; a group the cluster does not know comes back `Dead` with no members.
    /// - Throws: ``KafkaError``: `unsupportedByBroker` when the brokers have no DescribeGroups API, `timedOut`, or
    ///   the coordinator's failure naming the group.
    public func describeConsumerGroup(_ group: String, timeout: Duration = .seconds(30)) async throws
        -> ConsumerGroupDescription
    {
        let api = AdminAPI.describeGroups
        try await requireGroupAPIs(for: api, timeout: timeout)
        return try await perform(api, timeout: timeout) { handle, options, queue in
            group.withCString { name in
                var names: [UnsafePointer<CChar>?] = [name]
                names.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_DescribeConsumerGroups(handle, buffer.baseAddress, buffer.count, options, queue)
                }
            }
        } read: { event in
            var count = 0
            let results = rd_kafka_DescribeConsumerGroups_result_groups(
                rd_kafka_event_DescribeConsumerGroups_result(event), &count
            )
            guard let results, count > 0, let description = results[0] else {
                throw KafkaError(.admin, "\(api.name) returned no result for group '\(group)'")
            }
            if let error = rd_kafka_ConsumerGroupDescription_error(description) {
                throw api.failure(borrowing: error, subject: "group '\(group)'")
            }
            return Self.read(description)
        }
    }

    /// Throws `unsupportedByBroker` without sending anything when the brokers lack the group APIs.
    ///
    /// librdkafka 2.0.2 answers a DescribeGroups request to a broker without that API at once, but the request's
    /// timeout later releases it a second time and the process aborts (`rd_kafka_enq_once_del_source_return:
    /// Assertion eonce->refcnt > 0`, librdkafka issues #3663 and #4605; seen here against the embedded broker with
    /// other admin requests in flight). So the first such call asks ListGroups (whose failure path is sound, and
    /// which came with DescribeGroups in Kafka 0.9) and the answer is remembered for the client's life.
    private func requireGroupAPIs(for api: AdminAPI, timeout: Duration) async throws {
        let known = groupAPIsSupported.withLock { $0 }
        if known == true { return }
        if known == nil {
            do {
                _ = try await listConsumerGroups(timeout: timeout)
                groupAPIsSupported.withLock { $0 = true }
                return
            } catch let error as KafkaError where error.code == .unsupportedByBroker {
                groupAPIsSupported.withLock { $0 = false }
            }
        }
        throw api.failure(RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, detail: "the broker has no ListGroups API either")
    }

    private static func read(_ description: OpaquePointer) -> ConsumerGroupDescription {
        let members = (0..<rd_kafka_ConsumerGroupDescription_member_count(description)).compactMap { index in
            rd_kafka_ConsumerGroupDescription_member(description, index).map { member in
                let assignment = rd_kafka_MemberDescription_assignment(member)
                    .map { TopicPartitionList.read(rd_kafka_MemberAssignment_partitions($0)) } ?? []
                return ConsumerGroupMember(
                    memberID: string(rd_kafka_MemberDescription_consumer_id(member)),
                    clientID: string(rd_kafka_MemberDescription_client_id(member)),
                    instanceID: rd_kafka_MemberDescription_group_instance_id(member).map { String(cString: $0) },
                    host: string(rd_kafka_MemberDescription_host(member)),
                    assignment: assignment.map { TopicPartition(topic: $0.topic, partition: $0.partition) }
                        .sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
                )
            }
        }
        let coordinator = rd_kafka_ConsumerGroupDescription_coordinator(description).map {
            Int32(rd_kafka_Node_id($0))
        }
        return ConsumerGroupDescription(
            groupID: string(rd_kafka_ConsumerGroupDescription_group_id(description)),
            state: string(rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupDescription_state(description))),
            isSimple: rd_kafka_ConsumerGroupDescription_is_simple_consumer_group(description) != 0,
            assignor: string(rd_kafka_ConsumerGroupDescription_partition_assignor(description)),
            coordinator: coordinator,
            members: members.sorted { $0.memberID < $1.memberID }
        )
    }

    private static func string(_ text: UnsafePointer<CChar>?) -> String {
        text.map { String(cString: $0) } ?? ""
    }

    /// For each partition of `topics`, the first offset whose record timestamp is at or after `time` (the
    /// partition's end when no record is that new).
    /// - Parameters:
    ///   - time: The time to look for.
    ///   - topics: The topics (every partition of each).
    ///   - timeout: How long to wait for the partitions' leaders.
    /// - Returns: One offset per partition, sorted by topic and partition.
    /// - Throws: ``KafkaError``: `unknownTopicOrPartition` naming the topic, `timedOut`, or a leader's failure.
    public func offsets(at time: Date, topics: [String], timeout: Duration = .seconds(30)) async throws
        -> [TopicPartitionOffset]
    {
        let milliseconds = Int64((time.timeIntervalSince1970 * 1000).rounded(.down))
        let queries = try await describeTopics(topics, timeout: timeout).flatMap { topic in
            topic.partitions.map { TopicPartitionOffset(topic: topic.name, partition: $0.id, offset: milliseconds) }
        }
        guard !queries.isEmpty else { return [] }
        let client = self.client
        let wait = Self.clampedMilliseconds(timeout)
        let found = try await Blocking.run {
            try TopicPartitionList.with(queries) { list in
                let code = rd_kafka_offsets_for_times(client.pointer, list, wait)
                guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(responseCode: code, context: "could not look up the offsets at \(time) of \(topics)")
                }
                if let error = TopicPartitionList.firstError(list, context: "offsets at \(time)") { throw error }
                return TopicPartitionList.read(list)
            }
        }
        var offsets: [TopicPartitionOffset] = []
        for entry in found {
            // -1 (the end): no record at or after the time.
            let offset = entry.offset >= 0
                ? entry.offset : try await watermarks(topic: entry.topic, partition: entry.partition, timeout: timeout).high
            offsets.append(TopicPartitionOffset(topic: entry.topic, partition: entry.partition, offset: offset))
        }
        return offsets.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
    }

    /// Plans an offset reset without changing anything (the dry run): where the group is on every partition of
    /// `topics` and where `target` would move it, clamped to the log.
    /// - Parameters:
    ///   - group: The group id.
    ///   - topics: The topics to reset (every partition of each).
    ///   - target: Where to move.
    ///   - timeout: How long to wait for each request.
    /// - Returns: One step per partition, sorted by topic and partition.
    /// - Throws: ``KafkaError`` from the lookups it makes.
    public func planOffsetReset(
        group: String, topics: [String], to target: OffsetResetTarget, timeout: Duration = .seconds(30)
    ) async throws -> [OffsetResetStep] {
        let lags = try await groupLag(group: group, topics: topics, timeout: timeout)
        var byTime: [TopicPartition: Int64] = [:]
        if case .timestamp(let time) = target {
            for entry in try await offsets(at: time, topics: topics, timeout: timeout) {
                byTime[TopicPartition(topic: entry.topic, partition: entry.partition)] = entry.offset
            }
        }
        return lags.map { lag in
            let wanted: Int64 =
                switch target {
                case .earliest: lag.lowWatermark
                case .latest: lag.highWatermark
                case .timestamp: byTime[TopicPartition(topic: lag.topic, partition: lag.partition)] ?? lag.highWatermark
                case .offset(let offset): offset
                case .shift(let count): (lag.committed ?? lag.lowWatermark) + count
                }
            return OffsetResetStep(
                topic: lag.topic, partition: lag.partition, current: lag.committed,
                target: min(max(wanted, lag.lowWatermark), lag.highWatermark),
                lowWatermark: lag.lowWatermark, highWatermark: lag.highWatermark)
        }
    }

    /// Sets a consumer group's committed offsets (each the next offset the group will read), as an offset reset
    /// does. Refused while the group has active members: they would overwrite the offsets with their own commits.
    /// - Parameters:
    ///   - group: The group id.
    ///   - offsets: The new offsets.
    ///   - timeout: How long to wait for the coordinator.
    /// - Throws: ``KafkaError``: `groupNotEmpty` naming the active members, `invalidArgument` for a negative
    ///   offset, `unknownTopicOrPartition`, `unsupportedByBroker`, `timedOut`, or the coordinator's failure naming
    ///   the partition.
    public func alterConsumerGroupOffsets(
        group: String, to offsets: [TopicPartitionOffset], timeout: Duration = .seconds(30)
    ) async throws {
        if let negative = offsets.first(where: { $0.offset < 0 }) {
            throw KafkaError(
                .invalidArgument, "cannot set group '\(group)' to offset \(negative.offset) on \(negative.topic)[\(negative.partition)]: offsets are positions in the log, 0 or more")
        }
        guard !offsets.isEmpty else { return }
        let description = try await describeConsumerGroup(group, timeout: timeout)
        if !description.isEmpty { throw Self.notEmpty(description) }
        let api = AdminAPI.offsetCommit
        try await perform(api, timeout: timeout) { handle, options, queue in
            let request = TopicPartitionList.with(offsets) { rd_kafka_AlterConsumerGroupOffsets_new(group, $0) }
            guard let request else {
                throw KafkaError(.invalidArgument, "cannot set the offsets of group '\(group)'")
            }
            defer { rd_kafka_AlterConsumerGroupOffsets_destroy(request) }
            var requests: [OpaquePointer?] = [request]
            requests.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_AlterConsumerGroupOffsets(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } read: { event in
            var count = 0
            let groups = rd_kafka_AlterConsumerGroupOffsets_result_groups(
                rd_kafka_event_AlterConsumerGroupOffsets_result(event), &count
            )
            guard let result = Self.items(groups, count: count).first else {
                throw KafkaError(.admin, "\(api.name) returned no result for group '\(group)'")
            }
            if let error = rd_kafka_group_result_error(result) {
                throw api.failure(borrowing: error, subject: "group '\(group)'")
            }
            let list = rd_kafka_group_result_partitions(result)
            if var error = TopicPartitionList.firstError(list, context: "\(api.name) for group '\(group)'") {
                // A member joined between the check and the commit: the coordinator refuses it the same way.
                if error.librdkafkaCode == RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID.rawValue {
                    error.code = .groupNotEmpty
                    error.message = "group '\(group)' has active members: stop them before changing its offsets (\(error.message))"
                }
                throw error
            }
        }
    }

    private static func notEmpty(_ description: ConsumerGroupDescription) -> KafkaError {
        let names = description.members.prefix(5).map(\.description).joined(separator: "; ")
        let more = description.members.count > 5 ? " and \(description.members.count - 5) more" : ""
        return KafkaError(
            .groupNotEmpty,
            "group '\(description.groupID)' has \(description.members.count) active member(s) (\(names)\(more)), state \(description.state): stop them before changing its offsets")
    }
}
