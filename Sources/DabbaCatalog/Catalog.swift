import DabbaSchema
import Foundation

/// The topic catalog: every Kafka topic, event type, consumer group and producer declared by the AsyncAPI
/// documents of a `Topics/` directory, validated as a whole.
///
/// Load it with ``load(directory:relativeTo:)``; see `Docs/catalog.md` for the file format.
///
/// ```swift
/// let catalog = try Catalog.load(directory: URL(fileURLWithPath: "Topics"))
/// let placed = catalog.event(named: "payments.payment.requested")
/// ```
public struct Catalog: Sendable {
    /// The documents, one per file, in file-name order.
    public let documents: [CatalogDocument]
    /// The declared (main) topics, in file order and then declaration order.
    public let topics: [TopicSpec]
    /// The declared topics, each followed by the retry and dead-letter topics derived from it.
    public let allTopics: [TopicSpec]
    /// The event types, in file order and then declaration order.
    public let events: [EventSpec]
    /// The consumer groups (receive operations), one per group and topic, in declaration order.
    public let consumerGroups: [ConsumerGroupSpec]
    /// The producers (send operations), in declaration order.
    public let producers: [ProducerSpec]

    private let topicIndex: [String: Int]
    private let eventIndex: [String: Int]

    init(
        documents: [CatalogDocument],
        topics: [TopicSpec],
        allTopics: [TopicSpec],
        events: [EventSpec],
        consumerGroups: [ConsumerGroupSpec],
        producers: [ProducerSpec]
    ) {
        self.documents = documents
        self.topics = topics
        self.allTopics = allTopics
        self.events = events
        self.consumerGroups = consumerGroups
        self.producers = producers
        self.topicIndex = Dictionary(
            allTopics.enumerated().map { ($0.element.name, $0.offset) },
            uniquingKeysWith: { first, _ in first }
        )
        self.eventIndex = Dictionary(
            events.enumerated().map { ($0.element.type, $0.offset) },
            uniquingKeysWith: { first, _ in first }
        )
    }

    /// The topic, declared or derived, with the given name.
    /// - Parameter name: A Kafka topic name.
    /// - Returns: The topic, or `nil` when the catalog has none of that name.
    public func topic(named name: String) -> TopicSpec? {
        topicIndex[name].map { allTopics[$0] }
    }

    /// The event type with the given name.
    /// - Parameter type: An event type such as `payments.payment.requested`.
    /// - Returns: The event, or `nil` when the catalog has none of that name.
    public func event(named type: String) -> EventSpec? {
        eventIndex[type].map { events[$0] }
    }

    /// The event types published to a topic.
    /// - Parameter topic: A main topic name.
    /// - Returns: The events on that topic, in declaration order; empty for an unknown or derived topic.
    public func events(onTopic topic: String) -> [EventSpec] {
        events.filter { $0.topic == topic }
    }

    /// The consumer groups receiving a topic.
    /// - Parameter topic: A main topic name.
    /// - Returns: The groups, in declaration order.
    public func consumerGroups(onTopic topic: String) -> [ConsumerGroupSpec] {
        consumerGroups.filter { $0.topic == topic }
    }

    /// The consumer group with the given id receiving the given topic.
    /// - Parameters:
    ///   - groupID: The consumer group id.
    ///   - topic: The main topic.
    /// - Returns: The group, or `nil`.
    public func consumerGroup(_ groupID: String, onTopic topic: String) -> ConsumerGroupSpec? {
        consumerGroups.first { $0.groupID == groupID && $0.topic == topic }
    }

    /// The producers publishing to a topic.
    /// - Parameter topic: A main topic name.
    /// - Returns: The producers, in declaration order.
    public func producers(onTopic topic: String) -> [ProducerSpec] {
        producers.filter { $0.topic == topic }
    }

    /// The retry topics of a consumer group on a topic, tier 1 first.
    /// - Parameters:
    ///   - topic: The main topic.
    ///   - group: The consumer group id.
    /// - Returns: The retry topics; empty when the channel has no `x-dabba-retry` or the group does not receive it.
    public func retryTopics(for topic: String, group: String) -> [TopicSpec] {
        allTopics.filter {
            if case .retry(_, _, group, topic) = $0.kind { return true }
            return false
        }
    }

    /// The dead-letter topic of a consumer group on a topic.
    /// - Parameters:
    ///   - topic: The main topic.
    ///   - group: The consumer group id.
    /// - Returns: The dead-letter topic, or `nil` when there is none.
    public func deadLetterTopic(for topic: String, group: String) -> TopicSpec? {
        allTopics.first {
            if case .deadLetter(group, topic) = $0.kind { return true }
            return false
        }
    }
}
