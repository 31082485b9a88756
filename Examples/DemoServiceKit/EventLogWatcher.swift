import DabbaEvents
import DabbaKafka
import DabbaPipeline
import Foundation
import Logging
import Synchronization

/// A dead-lettered record and why.
public struct DeadLetter: Sendable, Hashable {
    /// The dead-letter topic.
    public var topic: String
    /// The consumer group that gave up on it.
    public var group: String
    /// The event id.
    public var eventID: String
    /// The error message the pipeline wrote.
    public var reason: String
}

/// Reads a system's main topic and its groups' dead-letter topics from the outside, with a throwaway consumer group
/// that commits nothing: each distinct event of the main topic is passed on once, in log order per partition;
/// records read again after one of its own rebalances are skipped by offset, and records carrying an event id seen
/// before (redeliveries after a crash) are counted, not passed on. The demos' and tests' observers are built on it.
public final class EventLogWatcher: Sendable {
    /// What the watcher saw besides the events themselves.
    public struct Counts: Sendable {
        /// Distinct events on the main topics.
        public var events = 0
        /// Records with an event id seen before.
        public var duplicateDeliveries = 0
        /// Dead-lettered records.
        public var deadLetters: [DeadLetter] = []
        /// The earliest record timestamp of the main topics' events (ms).
        public var firstMilliseconds: Int64?
        /// The latest.
        public var lastMilliseconds: Int64?
    }

    private struct State {
        var observedUpTo: [TopicPartition: Int64] = [:]
        var seenEventIDs: Set<String> = []
        var counts = Counts()
    }

    private let state = Mutex(State())
    private let consumer: KafkaConsumer
    private let mainTopics: Set<String>
    private let onEvent: @Sendable (KafkaMessage, _ type: String, _ timestampMilliseconds: Int64) -> Void
    /// The topics watched.
    public let topics: [String]

    /// Creates a watcher of one main topic (call ``run()`` to start reading).
    public convenience init(
        bootstrap: String, mainTopic: String, deadLetterTopics: [String], groupPrefix: String, logger: Logger,
        onEvent: @escaping @Sendable (KafkaMessage, _ type: String, _ timestampMilliseconds: Int64) -> Void
    ) throws {
        try self.init(
            bootstrap: bootstrap, mainTopics: [mainTopic], deadLetterTopics: deadLetterTopics, groupPrefix: groupPrefix,
            logger: logger, onEvent: onEvent)
    }

    /// Creates a watcher (call ``run()`` to start reading).
    /// - Parameters:
    ///   - bootstrap: The brokers.
    ///   - mainTopics: The topics whose events are passed on.
    ///   - deadLetterTopics: Dead-letter topics to watch.
    ///   - groupPrefix: The throwaway group's name prefix.
    ///   - logger: The logger.
    ///   - onEvent: Called once per distinct event of the main topics, with its type and record timestamp.
    /// - Throws: ``KafkaError`` if the consumer cannot be created.
    public init(
        bootstrap: String, mainTopics: [String], deadLetterTopics: [String], groupPrefix: String, logger: Logger,
        onEvent: @escaping @Sendable (KafkaMessage, _ type: String, _ timestampMilliseconds: Int64) -> Void
    ) throws {
        var configuration = ConsumerConfiguration(
            bootstrap: bootstrap, groupID: "\(groupPrefix)-\(UUID().uuidString.prefix(8))")
        configuration.offsetReset = .earliest
        configuration.client.properties["topic.metadata.refresh.interval.ms"] = "1000"
        configuration.sessionTimeout = .seconds(6)
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        topics = mainTopics + deadLetterTopics
        try consumer.subscribe(topics: topics)
        self.mainTopics = Set(mainTopics)
        self.onEvent = onEvent
    }

    /// Whether the consumer has its partitions.
    public var isAssigned: Bool { !consumer.assignment.isEmpty }

    private static let codec = JSONEventCodec()

    /// A record's JSON payload as an event type, or nil when it does not decode (the observers count those).
    public static func payload<E: Decodable>(_ type: E.Type, of message: KafkaMessage) -> E? {
        guard let value = message.value else { return nil }
        return try? codec.decode(type, from: Data(value))
    }

    /// The counts so far.
    public var counts: Counts { state.withLock { $0.counts } }

    /// Reads until ``stop()``.
    /// - Throws: ``KafkaError`` on a fatal consumer error.
    public func run() async throws {
        for try await message in consumer.messages {
            observe(message)
        }
    }

    /// Stops reading and leaves the group.
    public func stop() async {
        try? await consumer.close()
    }

    private func observe(_ message: KafkaMessage) {
        let id = message.header("ce_id") ?? "\(message.topic)/\(message.partition)/\(message.offset)"
        let type = message.header("ce_type") ?? ""
        let timestamp = message.timestampMilliseconds ?? Int64(Date().timeIntervalSince1970 * 1000)
        let isNew = state.withLock { state -> Bool in
            let partition = message.topicPartition
            guard message.offset >= state.observedUpTo[partition, default: 0] else { return false }
            state.observedUpTo[partition] = message.offset + 1
            if !mainTopics.contains(message.topic) {
                let group = message.header(RetryHeaders.group) ?? "?"
                let reason = message.header(RetryHeaders.errorMessage) ?? "?"
                state.counts.deadLetters.append(
                    DeadLetter(topic: message.topic, group: group, eventID: id, reason: reason))
                return false
            }
            guard state.seenEventIDs.insert(id).inserted else {
                state.counts.duplicateDeliveries += 1
                return false
            }
            state.counts.events += 1
            state.counts.firstMilliseconds = min(state.counts.firstMilliseconds ?? timestamp, timestamp)
            state.counts.lastMilliseconds = max(state.counts.lastMilliseconds ?? timestamp, timestamp)
            return true
        }
        // One consumer task calls this, so events reach `onEvent` in log order per partition.
        if isNew { onEvent(message, type, timestamp) }
    }
}
