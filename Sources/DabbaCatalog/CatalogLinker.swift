/// Checks the parsed documents against each other and derives retry and dead-letter topics.
struct CatalogLinker {
    /// Retention of dead-letter topics unless `deadLetterConfiguration` says otherwise: 14 days.
    static let defaultDeadLetterRetentionMilliseconds = "1209600000"

    private(set) var errors: [CatalogError] = []

    /// Declared topics, in load order.
    private var topics: [TopicSpec] = []
    /// Every topic name taken so far, declared or derived, with where it comes from.
    private var names: [String: CatalogLocation] = [:]
    private var retryByTopic: [String: ChannelRetry] = [:]
    private var derivedByTopic: [String: [TopicSpec]] = [:]
    private var events: [EventSpec] = []
    private var groups: [ConsumerGroupSpec] = []
    private var producers: [ProducerSpec] = []

    /// Links the documents into a catalog.
    /// - Parameter parsed: The documents, in load order.
    /// - Returns: The catalog; callers discard it when ``errors`` is not empty.
    mutating func link(_ parsed: [ParsedDocument]) -> Catalog {
        for channel in parsed.flatMap(\.channels) {
            if let topic = channel.topic { addTopic(topic, retry: channel.retry) }
        }
        addEvents(parsed.flatMap(\.events))
        let topicsByName = Dictionary(topics.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        checkKeysOnCompactedTopics(topicsByName)
        var groupOwners: [String: CatalogLocation] = [:]
        for operation in parsed.flatMap(\.operations) {
            guard let topic = topicsByName[operation.topic], topic.channelID == operation.channelID else { continue }
            switch operation.action {
            case .send:
                producers.append(
                    ProducerSpec(
                        service: operation.service,
                        topic: topic.name,
                        channelID: operation.channelID,
                        operationID: operation.id,
                        eventTypes: operation.eventTypes,
                        source: operation.source
                    )
                )
            case .receive:
                guard let groupID = operation.groupID else { continue }
                let key = "\(groupID)\u{0}\(topic.name)"
                if let first = groupOwners[key] {
                    errors.append(
                        CatalogError(
                            code: .invalidConsumerGroup,
                            at: operation.groupSource,
                            message: "consumer group '\(groupID)' already receives topic '\(topic.name)' "
                                + "(first declared at \(first)); use one operation per group and topic"
                        )
                    )
                    continue
                }
                groupOwners[key] = operation.groupSource
                addGroup(groupID, operation: operation, topic: topic)
            }
        }
        return Catalog(
            documents: parsed.map(\.document),
            topics: topics,
            allTopics: topics.flatMap { [$0] + (derivedByTopic[$0.name] ?? []) },
            events: events,
            consumerGroups: groups,
            producers: producers
        )
    }

    /// Adds a declared topic unless another channel already declared its name.
    private mutating func addTopic(_ topic: TopicSpec, retry: ChannelRetry?) {
        if let first = names[topic.name] {
            errors.append(
                CatalogError(
                    code: .duplicateTopic,
                    at: topic.source,
                    message: "duplicate topic '\(topic.name)' (first declared at \(first))"
                )
            )
            return
        }
        names[topic.name] = topic.source
        topics.append(topic)
        retryByTopic[topic.name] = retry
    }

    /// Adds events, reporting event types declared twice.
    private mutating func addEvents(_ candidates: [EventSpec]) {
        var owners: [String: CatalogLocation] = [:]
        for event in candidates {
            if let first = owners[event.type] {
                errors.append(
                    CatalogError(
                        code: .duplicateEventType,
                        at: event.source,
                        message: "duplicate event type '\(event.type)' (first declared at \(first))"
                    )
                )
                continue
            }
            owners[event.type] = event.source
            events.append(event)
        }
    }

    /// Every event on a compacted topic must have a key: compaction keeps the latest record per key, and Kafka refuses
    /// a record without one on such a topic.
    private mutating func checkKeysOnCompactedTopics(_ topicsByName: [String: TopicSpec]) {
        for event in events {
            guard let topic = topicsByName[event.topic], topic.isCompacted, event.keyField == nil,
                event.keySchema == nil
            else { continue }
            errors.append(
                CatalogError(
                    code: .invalidKey,
                    at: event.source,
                    message: "event type '\(event.type)' has no key but its topic '\(topic.name)' is compacted "
                        + "(cleanup.policy=\(topic.configs["cleanup.policy"] ?? "compact")): compaction keeps the "
                        + "latest record per key and Kafka refuses records without one; declare x-dabba-key"
                )
            )
        }
    }

    /// Adds a consumer group and derives its retry and dead-letter topics.
    private mutating func addGroup(_ groupID: String, operation: ParsedOperation, topic: TopicSpec) {
        let retry = retryByTopic[topic.name]
        let derived = retry.map { derive(from: topic, group: groupID, retry: $0, source: operation.groupSource) } ?? []
        derivedByTopic[topic.name, default: []].append(contentsOf: derived)
        var retryTopics: [String] = []
        var deadLetterTopic: String?
        for spec in derived {
            if case .deadLetter = spec.kind { deadLetterTopic = spec.name } else { retryTopics.append(spec.name) }
        }
        groups.append(
            ConsumerGroupSpec(
                groupID: groupID,
                service: operation.service,
                topic: topic.name,
                channelID: operation.channelID,
                operationID: operation.id,
                eventTypes: operation.eventTypes,
                retryPolicy: retry?.policy,
                retryTopics: retryTopics,
                deadLetterTopic: deadLetterTopic,
                source: operation.groupSource
            )
        )
    }

    /// The retry and dead-letter topics of one group on one topic, checking their names.
    private mutating func derive(
        from topic: TopicSpec,
        group: String,
        retry: ChannelRetry,
        source: CatalogLocation
    ) -> [TopicSpec] {
        let partitions = retry.partitions ?? topic.partitions
        let replicas = retry.replicas ?? topic.replicas
        var retryConfigs = topic.configs
        // A compacted retry topic could drop a pending retry when a newer record with the same key arrives.
        retryConfigs["cleanup.policy"] = "delete"
        var derived: [TopicSpec] = []
        for (index, delay) in retry.policy.delays.enumerated() {
            derived.append(
                TopicSpec(
                    name: TopicSpec.retryTopicName(for: topic.name, group: group, tier: index + 1),
                    partitions: partitions,
                    replicas: replicas,
                    configs: retryConfigs,
                    channelID: topic.channelID,
                    kind: .retry(tier: index + 1, delay: delay, group: group, of: topic.name),
                    source: source
                )
            )
        }
        if retry.policy.deadLetter {
            var configs = [
                "cleanup.policy": "delete",
                "retention.ms": Self.defaultDeadLetterRetentionMilliseconds,
            ]
            if let maximum = topic.configs["max.message.bytes"] { configs["max.message.bytes"] = maximum }
            configs.merge(retry.deadLetterConfiguration) { _, override in override }
            derived.append(
                TopicSpec(
                    name: TopicSpec.deadLetterTopicName(for: topic.name, group: group),
                    partitions: partitions,
                    replicas: replicas,
                    configs: configs,
                    channelID: topic.channelID,
                    kind: .deadLetter(group: group, of: topic.name),
                    source: source
                )
            )
        }
        // One report per group: an illegal group id breaks every derived name the same way.
        for spec in derived {
            if let problem = TopicSpec.nameProblem(spec.name) {
                errors.append(
                    CatalogError(
                        code: .invalidTopicName,
                        at: source,
                        message: "consumer group '\(group)' on '\(topic.name)' derives the \(role(of: spec)) topic "
                            + "'\(spec.name)', which Kafka rejects: \(problem)"
                    )
                )
                return []
            }
        }
        var legal: [TopicSpec] = []
        for spec in derived {
            if let first = names[spec.name] {
                errors.append(
                    CatalogError(
                        code: .derivedTopicCollision,
                        at: source,
                        message:
                            "\(role(of: spec)) topic '\(spec.name)' of consumer group '\(group)' on '\(topic.name)' "
                            + "collides with the topic declared at \(first)"
                    )
                )
                continue
            }
            names[spec.name] = source
            legal.append(spec)
        }
        return legal
    }

    private func role(of spec: TopicSpec) -> String {
        if case .deadLetter = spec.kind { return "dead-letter" }
        return "retry"
    }
}
