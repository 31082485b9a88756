/// A consumer group receiving one topic: an AsyncAPI `receive` operation.
public struct ConsumerGroupSpec: Sendable, Hashable {
    /// The Kafka consumer group id (`group.id`), from `bindings.kafka.groupId`.
    public var groupID: String
    /// The service that owns the group, from `x-dabba-service`, if declared.
    public var service: String?
    /// The topic the group receives.
    public var topic: String
    /// The id of the channel the operation receives from.
    public var channelID: String
    /// The id of the AsyncAPI operation.
    public var operationID: String
    /// The event types the group receives, in declaration order.
    public var eventTypes: [String]
    /// How failures are retried, from the channel's `x-dabba-retry`; `nil` when the channel has none.
    public var retryPolicy: RetryPolicy?
    /// The group's retry topics, one per delay of the retry policy, in order.
    public var retryTopics: [String]
    /// The group's dead-letter topic, when the retry policy has one.
    public var deadLetterTopic: String?
    /// Where the group is declared: its `groupId`.
    public var source: CatalogLocation

    /// Creates a consumer group specification.
    /// - Parameters:
    ///   - groupID: The consumer group id.
    ///   - service: The owning service, if any.
    ///   - topic: The topic received.
    ///   - channelID: The channel id.
    ///   - operationID: The operation id.
    ///   - eventTypes: The event types received.
    ///   - retryPolicy: The retry policy, if any.
    ///   - retryTopics: The retry topic names.
    ///   - deadLetterTopic: The dead-letter topic name, if any.
    ///   - source: Where it is declared.
    public init(
        groupID: String,
        service: String?,
        topic: String,
        channelID: String,
        operationID: String,
        eventTypes: [String],
        retryPolicy: RetryPolicy?,
        retryTopics: [String],
        deadLetterTopic: String?,
        source: CatalogLocation
    ) {
        self.groupID = groupID
        self.service = service
        self.topic = topic
        self.channelID = channelID
        self.operationID = operationID
        self.eventTypes = eventTypes
        self.retryPolicy = retryPolicy
        self.retryTopics = retryTopics
        self.deadLetterTopic = deadLetterTopic
        self.source = source
    }
}

/// How a consumer group retries a message whose handler failed (`x-dabba-retry` on a channel).
public struct RetryPolicy: Sendable, Hashable {
    /// The delay of each retry tier, in order: a failed message goes to tier 1 and is handled again after
    /// `delays[0]`, then to tier 2, and so on.
    public var delays: [Duration]
    /// Whether a message that failed every tier goes to a dead-letter topic (`true`) or is dropped after being
    /// logged (`false`).
    public var deadLetter: Bool

    /// Creates a retry policy.
    /// - Parameters:
    ///   - delays: The delay of each tier.
    ///   - deadLetter: Whether there is a dead-letter topic.
    public init(delays: [Duration], deadLetter: Bool = true) {
        self.delays = delays
        self.deadLetter = deadLetter
    }
}

/// A service publishing events to one topic: an AsyncAPI `send` operation.
public struct ProducerSpec: Sendable, Hashable {
    /// The service that publishes, from `x-dabba-service`, if declared.
    public var service: String?
    /// The topic published to.
    public var topic: String
    /// The id of the channel the operation sends to.
    public var channelID: String
    /// The id of the AsyncAPI operation.
    public var operationID: String
    /// The event types published, in declaration order.
    public var eventTypes: [String]
    /// Where the operation is declared: its `action`.
    public var source: CatalogLocation

    /// Creates a producer specification.
    /// - Parameters:
    ///   - service: The publishing service, if any.
    ///   - topic: The topic.
    ///   - channelID: The channel id.
    ///   - operationID: The operation id.
    ///   - eventTypes: The event types published.
    ///   - source: Where it is declared.
    public init(
        service: String?,
        topic: String,
        channelID: String,
        operationID: String,
        eventTypes: [String],
        source: CatalogLocation
    ) {
        self.service = service
        self.topic = topic
        self.channelID = channelID
        self.operationID = operationID
        self.eventTypes = eventTypes
        self.source = source
    }
}
