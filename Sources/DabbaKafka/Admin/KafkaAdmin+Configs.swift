internal import CRDKafka

extension KafkaAdmin {
    /// Describes a topic's configuration: every entry the broker reports, with its value and where it comes from.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - timeout: How long to wait for the broker.
    /// - Returns: The entries by name (such as `retention.ms` or `cleanup.policy`).
    /// - Throws: ``KafkaError``: `unknownTopicOrPartition` naming the topic, `unsupportedByBroker` when the broker
    ///   has no DescribeConfigs API, `timedOut`, or another failure.
    public func describeTopicConfigs(
        _ topic: String,
        timeout: Duration = .seconds(30)
    ) async throws -> [String: ConfigEntry] {
        let api = AdminAPI.describeConfigs
        return try await perform(api, timeout: timeout) { handle, options, queue in
            guard let resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic) else {
                throw KafkaError(.invalidArgument, "cannot describe the configuration of topic '\(topic)'",
                                 topic: topic)
            }
            defer { rd_kafka_ConfigResource_destroy(resource) }
            var resources: [OpaquePointer?] = [resource]
            resources.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_DescribeConfigs(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } read: { event in
            var count = 0
            let results = rd_kafka_DescribeConfigs_result_resources(
                rd_kafka_event_DescribeConfigs_result(event), &count
            )
            let resource = try Self.checkedResource(Self.items(results, count: count), topic: topic, api: api)
            var entryCount = 0
            let entries = rd_kafka_ConfigResource_configs(resource, &entryCount)
            var configs: [String: ConfigEntry] = [:]
            for entry in Self.items(entries, count: entryCount) {
                guard let name = rd_kafka_ConfigEntry_name(entry).map({ String(cString: $0) }) else { continue }
                configs[name] = ConfigEntry(
                    value: rd_kafka_ConfigEntry_value(entry).map { String(cString: $0) },
                    isDefault: rd_kafka_ConfigEntry_is_default(entry) != 0,
                    isReadOnly: rd_kafka_ConfigEntry_is_read_only(entry) != 0,
                    isSensitive: rd_kafka_ConfigEntry_is_sensitive(entry) != 0,
                    source: ConfigSource(rawValue: Int32(rd_kafka_ConfigEntry_source(entry).rawValue))
                )
            }
            return configs
        }
    }

    /// Sets topic configuration entries, keeping the topic's other overrides.
    ///
    /// librdkafka 2.0.2 has no IncrementalAlterConfigs, and the AlterConfigs API *replaces* a topic's whole set of
    /// dynamic overrides: an entry not sent reverts to its default. So this first describes the topic, keeps every
    /// existing override (source ``ConfigSource/dynamicTopic``, not default, not read-only), lays `set` over them
    /// and sends the result.
    ///
    /// Two consequences: the describe and the alter are two requests, so a change another client makes between
    /// them is overwritten (do not alter one topic's configuration from two places at once); and the broker never
    /// returns sensitive values, so a topic with a sensitive override that `set` does not replace cannot be altered
    /// without losing it — that fails with `invalidState` instead.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - set: The entries to set, by name (for example `["retention.ms": "3600000"]`).
    ///   - timeout: How long to wait for each of the two requests.
    /// - Throws: ``KafkaError``: `unknownTopicOrPartition` naming the topic, `unsupportedByBroker` when the broker
    ///   has no DescribeConfigs or AlterConfigs API, `invalidState` (see above), `timedOut`, or the broker's
    ///   rejection (for example an unknown key or invalid value).
    public func alterTopicConfigs(
        _ topic: String,
        set: [String: String],
        timeout: Duration = .seconds(30)
    ) async throws {
        let current = try await describeTopicConfigs(topic, timeout: timeout)
        var desired: [String: String] = [:]
        for (name, entry) in current where Self.isTopicOverride(entry) && set[name] == nil {
            guard let value = entry.value else {
                throw KafkaError(
                    .invalidState,
                    "cannot alter the configuration of topic '\(topic)': its override of '\(name)' is sensitive, "
                        + "the broker does not return it, and AlterConfigs would drop it; set it too",
                    topic: topic
                )
            }
            desired[name] = value
        }
        desired.merge(set) { _, new in new }
        let entries = desired.sorted { $0.key < $1.key }
        let api = AdminAPI.alterConfigs
        try await perform(api, timeout: timeout) { handle, options, queue in
            guard let resource = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, topic) else {
                throw KafkaError(.invalidArgument, "cannot alter the configuration of topic '\(topic)'",
                                 topic: topic)
            }
            defer { rd_kafka_ConfigResource_destroy(resource) }
            for (name, value) in entries {
                let result = rd_kafka_ConfigResource_set_config(resource, name, value)
                guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(responseCode: result, context: "cannot set \(name)=\(value) on topic '\(topic)'",
                                     topic: topic)
                }
            }
            var resources: [OpaquePointer?] = [resource]
            resources.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_AlterConfigs(handle, buffer.baseAddress, buffer.count, options, queue)
            }
        } read: { event in
            var count = 0
            let results = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(event), &count)
            _ = try Self.checkedResource(Self.items(results, count: count), topic: topic, api: api)
        }
    }

    /// Whether an entry is a dynamic override of this topic that AlterConfigs must resend to keep.
    ///
    /// Brokers answering DescribeConfigs v0 report no source; there, any non-default, writable entry counts.
    static func isTopicOverride(_ entry: ConfigEntry) -> Bool {
        guard !entry.isDefault, !entry.isReadOnly else { return false }
        return entry.source == .dynamicTopic || entry.source == .unknown
    }

    /// The result's resource for `topic`, or its error.
    static func checkedResource(_ resources: [OpaquePointer], topic: String, api: AdminAPI) throws -> OpaquePointer {
        guard let resource = resources.first else {
            throw KafkaError(.admin, "\(api.name) returned no result for topic '\(topic)'", topic: topic)
        }
        let code = rd_kafka_ConfigResource_error(resource)
        guard code == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw api.failure(
                code,
                detail: rd_kafka_ConfigResource_error_string(resource).map { String(cString: $0) },
                subject: "topic '\(topic)'",
                topic: topic
            )
        }
        return resource
    }
}
