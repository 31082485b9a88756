import DabbaCatalog

/// One non-blocking retry tier: its topic and how long an event waits there.
public struct RetryTier: Sendable, Hashable {
    /// The retry topic.
    public var topic: String
    /// The delay before an event in this tier is processed again.
    public var delay: Duration

    /// Creates a tier.
    public init(topic: String, delay: Duration) {
        self.topic = topic
        self.delay = delay
    }
}

/// The topics a pipeline reads and writes for its consumer group: main topics, their retry tiers and dead-letter
/// topics. Usually derived from the `Topics/` catalog.
public struct PipelineTopology: Sendable {
    /// The topics the handlers' events arrive on.
    public var mainTopics: [String]
    /// Retry tiers per main topic, in order.
    public var retryTiers: [String: [RetryTier]]
    /// Dead-letter topic per main topic.
    public var deadLetterTopics: [String: String]

    /// Creates a topology by hand.
    /// - Parameters:
    ///   - mainTopics: The topics to consume.
    ///   - retryTiers: Retry tiers per main topic.
    ///   - deadLetterTopics: Dead-letter topic per main topic.
    public init(mainTopics: [String], retryTiers: [String: [RetryTier]] = [:], deadLetterTopics: [String: String] = [:]) {
        self.mainTopics = mainTopics
        self.retryTiers = retryTiers
        self.deadLetterTopics = deadLetterTopics
    }

    /// The topology of a consumer group as the catalog declares it: every channel its receive operations name,
    /// with the channel's retry tiers and dead-letter topic for this group.
    /// - Parameters:
    ///   - catalog: The loaded catalog.
    ///   - groupID: The consumer group.
    /// - Throws: ``PipelineError`` when the catalog declares no receive operation for the group.
    public init(catalog: Catalog, groupID: String) throws {
        let groups = catalog.consumerGroups.filter { $0.groupID == groupID }
        guard !groups.isEmpty else {
            throw PipelineError(
                .configuration,
                "the catalog has no receive operation for consumer group '\(groupID)' (groups: \(Set(catalog.consumerGroups.map(\.groupID)).sorted().joined(separator: ", ")))"
            )
        }
        var mainTopics: [String] = []
        var retryTiers: [String: [RetryTier]] = [:]
        var deadLetterTopics: [String: String] = [:]
        for group in groups where !mainTopics.contains(group.topic) {
            mainTopics.append(group.topic)
            if let policy = group.retryPolicy {
                retryTiers[group.topic] = zip(group.retryTopics, policy.delays).map { RetryTier(topic: $0, delay: $1) }
            }
            if let deadLetter = group.deadLetterTopic { deadLetterTopics[group.topic] = deadLetter }
        }
        self.init(mainTopics: mainTopics, retryTiers: retryTiers, deadLetterTopics: deadLetterTopics)
    }

    /// Every topic the pipeline consumes: main topics and retry tiers.
    public var consumedTopics: [String] {
        mainTopics + mainTopics.flatMap { retryTiers[$0]?.map(\.topic) ?? [] }
    }

    /// Every topic the pipeline needs to exist.
    public var allTopics: [String] {
        consumedTopics + mainTopics.compactMap { deadLetterTopics[$0] }
    }

    /// Whether a topic is one of the retry tiers.
    func isRetryTopic(_ topic: String) -> Bool { tierPosition(of: topic) != nil }

    /// The main topic and tier index (0-based) of a retry topic.
    func tierPosition(of topic: String) -> (main: String, index: Int)? {
        for (main, tiers) in retryTiers {
            if let index = tiers.firstIndex(where: { $0.topic == topic }) { return (main, index) }
        }
        return nil
    }

    /// The main topic a consumed topic belongs to.
    func mainTopic(of topic: String) -> String { tierPosition(of: topic)?.main ?? topic }

    /// The tier after the one `topic` is (the first tier for a main topic), if any.
    func nextTier(after topic: String) -> RetryTier? {
        if let position = tierPosition(of: topic) {
            let tiers = retryTiers[position.main] ?? []
            return position.index + 1 < tiers.count ? tiers[position.index + 1] : nil
        }
        return retryTiers[topic]?.first
    }
}

/// A pipeline set-up or infrastructure failure.
public struct PipelineError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The pipeline, catalog or options are inconsistent.
        public static let configuration = Code("configuration")
        /// A topic the pipeline needs does not exist. Thrown only by DabbaService's `PipelineService.run`, which
        /// checks the topics at start (the runner itself does not).
        public static let missingTopic = Code("missingTopic")
        /// A failed event could not be parked in a retry or dead-letter topic.
        public static let parkingFailed = Code("parkingFailed")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What went wrong.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}
