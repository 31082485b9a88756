/// Checks the parsed documents against each other and derives retry and dead-letter topics.
struct CatalogLinker {
    /// Retention of dead-letter topics unless `deadLetterConfiguration` says otherwise: 14 days.
    static let defaultDeadLetterRetentionMilliseconds = "1209600000"

    private(set) var errors: [CatalogError] = []

    /// Links the documents into a catalog.
    /// - Parameter parsed: The documents, in load order.
    /// - Returns: The catalog; callers discard it when ``errors`` is not empty.
    mutating func link(_ parsed: [ParsedDocument]) -> Catalog {
        var topics: [TopicSpec] = []
        var topicOwners: [String: CatalogLocation] = [:]
        var retryByTopic: [String: ChannelRetry] = [:]
        for document in parsed {
            for channel in document.channels {
                guard let topic = channel.topic else { continue }
                if let first = topicOwners[topic.name] {
                    errors.append(
                        CatalogError(
                            code: .duplicateTopic, at: topic.source,
                            message: "duplicate topic '\(topic.name)' (first declared at \(first))"))
                    continue
                }
                topicOwners[topic.name] = topic.source
                topics.append(topic)
                retryByTopic[topic.name] = channel.retry
            }
        }

        var events: [EventSpec] = []
        var eventOwners: [String: CatalogLocation] = [:]
        for event in parsed.flatMap(\.events) {
            if let first = eventOwners[event.type] {
                errors.append(
                    CatalogError(
                        code: .duplicateEventType, at: event.source,
                        message: "duplicate event type '\(event.type)' (first declared at \(first))"))
                continue
            }
            eventOwners[event.type] = event.source
            events.append(event)
        }

        var groups: [ConsumerGroupSpec] = []
        var producers: [ProducerSpec] = []
        var groupOwners: [String: CatalogLocation] = [:]
        var derivedByTopic: [String: [TopicSpec]] = [:]
        var names = topicOwners
        let topicsByName = Dictionary(topics.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        for operation in parsed.flatMap(\.operations) {
            guard let topic = topicsByName[operation.topic], topic.channelID == operation.channelID else { continue }
            switch operation.action {
            case .send:
                producers.append(
                    ProducerSpec(
                        service: operation.service, topic: topic.name, channelID: operation.channelID,
                        operationID: operation.id, eventTypes: operation.eventTypes, source: operation.source))
            case .receive:
                guard let groupID = operation.groupID else { continue }
                let key = "\(groupID)\u{0}\(topic.name)"
                if let first = groupOwners[key] {
                    errors.append(
                        CatalogError(
                            code: .invalidConsumerGroup, at: operation.groupSource,
                            message: "consumer group '\(groupID)' already receives topic '\(topic.name)' "
                                + "(first declared at \(first)); use one operation per group and topic"))
                    continue
                }
                groupOwners[key] = operation.groupSource
                let retry = retryByTopic[topic.name]
                let derived = retry.map {
                    derive(from: topic, group: groupID, retry: $0, source: operation.groupSource, names: &names)
                } ?? []
                derivedByTopic[topic.name, default: []].append(contentsOf: derived)
                groups.append(
                    ConsumerGroupSpec(
                        groupID: groupID,
                        service: operation.service,
                        topic: topic.name,
                        channelID: operation.channelID,
                        operationID: operation.id,
                        eventTypes: operation.eventTypes,
                        retryPolicy: retry?.policy,
                        retryTopics: derived.filter { if case .retry = $0.kind { true } else { false } }.map(\.name),
                        deadLetterTopic: derived.first { if case .deadLetter = $0.kind { true } else { false } }?.name,
                        source: operation.groupSource
                    ))
            }
        }

        let allTopics = topics.flatMap { [$0] + (derivedByTopic[$0.name] ?? []) }
        return Catalog(
            documents: parsed.map(\.document),
            topics: topics,
            allTopics: allTopics,
            events: events,
            consumerGroups: groups,
            producers: producers
        )
    }

    /// The retry and dead-letter topics of one group on one topic, checking their names.
    private mutating func derive(
        from topic: TopicSpec,
        group: String,
        retry: ChannelRetry,
        source: CatalogLocation,
        names: inout [String: CatalogLocation]
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
                ))
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
                ))
        }
        // One report per group: an illegal group id breaks every derived name the same way.
        for spec in derived {
            if let problem = TopicSpec.nameProblem(spec.name) {
                errors.append(
                    CatalogError(
                        code: .invalidTopicName, at: source,
                        message: "consumer group '\(group)' on '\(topic.name)' derives the \(role(of: spec)) topic "
                            + "'\(spec.name)', which Kafka rejects: \(problem)"))
                return []
            }
        }
        var legal: [TopicSpec] = []
        for spec in derived {
            if let first = names[spec.name] {
                errors.append(
                    CatalogError(
                        code: .derivedTopicCollision, at: source,
                        message: "\(role(of: spec)) topic '\(spec.name)' of consumer group '\(group)' on '\(topic.name)' "
                            + "collides with the topic declared at \(first)"))
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
