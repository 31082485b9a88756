/// Consumer-group settings with at-least-once defaults: offsets are stored only for messages the application marks
/// processed, and committed on an interval, on partition revocation and on close.
public struct ConsumerConfiguration: Sendable {
    /// Where to start when the group has no committed offset for a partition.
    public struct OffsetReset: Sendable, Hashable {
        let value: String
        /// The oldest retained message.
        public static let earliest = OffsetReset(value: "earliest")
        /// Only messages produced after the assignment.
        public static let latest = OffsetReset(value: "latest")
        /// Fail with an error instead of guessing.
        public static let error = OffsetReset(value: "error")
    }

    /// How partitions are spread across group members.
    public struct AssignmentStrategy: Sendable, Hashable {
        let value: String
        /// Range, then round-robin (librdkafka's default, eager rebalancing).
        public static let rangeRoundRobin = AssignmentStrategy(value: "range,roundrobin")
        /// Range assignor (eager).
        public static let range = AssignmentStrategy(value: "range")
        /// Round-robin assignor (eager).
        public static let roundRobin = AssignmentStrategy(value: "roundrobin")
        /// Cooperative sticky (incremental rebalancing: members keep unaffected partitions during a rebalance).
        public static let cooperativeSticky = AssignmentStrategy(value: "cooperative-sticky")
    }

    /// Which transactional records a consumer sees.
    public struct IsolationLevel: Sendable, Hashable {
        let value: String
        /// Only records of committed transactions (and non-transactional records).
        public static let readCommitted = IsolationLevel(value: "read_committed")
        /// Every record, including those of open and aborted transactions.
        public static let readUncommitted = IsolationLevel(value: "read_uncommitted")
    }

    /// Connection and client settings.
    public var client: ClientConfiguration
    /// The consumer group.
    public var groupID: String
    /// A static member id (`group.instance.id`): a restart within the session timeout keeps the assignment.
    public var instanceID: String?
    /// Where to start without a committed offset.
    public var offsetReset: OffsetReset
    /// How often stored offsets are committed. They are also committed on revocation and on close.
    public var commitInterval: Duration
    /// How long the group waits for a silent member before rebalancing its partitions away.
    public var sessionTimeout: Duration
    /// How long a member may go without fetching before it leaves the group.
    public var maxPollInterval: Duration
    /// Partition assignment strategy.
    public var assignmentStrategy: AssignmentStrategy
    /// Transaction isolation for reads.
    public var isolationLevel: IsolationLevel
    /// How many messages Dabba hands to the application per internal batch.
    public var batchSize: Int
    /// How many fetched batches may wait for the application; beyond that, fetching pauses (bounded memory).
    public var maxBufferedBatches: Int
    /// How long a revocation waits for the application's in-flight work (see `KafkaConsumer`'s `onRevoke`).
    public var revocationTimeout: Duration
    /// Whether offsets stored by ``KafkaConsumer/markProcessed(_:)`` are committed automatically (on the
    /// interval, on revocation, on close). Turn it off when offsets are committed through a producer's
    /// transaction (exactly-once) or by explicit ``KafkaConsumer/commit(_:)`` calls.
    public var commitsStoredOffsets: Bool
    /// Whether the fetch thread parses each record's headers before handing the batch over. librdkafka parses
    /// headers on first access; doing it while the application handles the previous batch moves that work off the
    /// application's path. Turn it on when most records' headers are read (typed events: their envelope is in
    /// headers; pipelines do); off (the default), a consumer that never reads headers pays nothing for them.
    public var parsesHeadersOnFetch: Bool
    /// The most record data librdkafka pre-fetches ahead of the application, in KiB (`queued.max.messages.kbytes`;
    /// default 65,536, librdkafka's own): the main term of a consumer's memory besides the records it holds. Lower
    /// it to fit many consumers in little memory, but keep at least about a second of consumption in it: librdkafka
    /// 2.0.2 stops fetching a partition for a while whenever the queue is full, so a queue that drains faster than
    /// that stalls the consumer (Docs/performance.md has measurements).
    public var prefetchKilobytes: Int
    /// Extra librdkafka properties beyond ``ClientConfiguration/properties``, applied last.
    public var properties: [String: String]

    /// Creates consumer-group settings.
    /// - Parameters:
    ///   - client: Connection settings.
    ///   - groupID: The consumer group to join.
    public init(client: ClientConfiguration, groupID: String) {
        self.client = client
        self.groupID = groupID
        self.instanceID = nil
        self.offsetReset = .earliest
        self.commitInterval = .seconds(5)
        self.sessionTimeout = .seconds(45)
        self.maxPollInterval = .seconds(300)
        self.assignmentStrategy = .rangeRoundRobin
        self.isolationLevel = .readCommitted
        self.batchSize = 1024
        self.maxBufferedBatches = 8
        self.prefetchKilobytes = 65_536
        self.commitsStoredOffsets = true
        self.revocationTimeout = .seconds(20)
        self.parsesHeadersOnFetch = false
        self.properties = [:]
    }

    /// Creates consumer-group settings for the given comma-separated bootstrap servers.
    /// - Parameters:
    ///   - bootstrap: `host:port` list, comma-separated.
    ///   - groupID: The consumer group to join.
    public init(bootstrap: String, groupID: String) {
        self.init(client: ClientConfiguration(bootstrap: bootstrap), groupID: groupID)
    }

    var librdkafkaProperties: [(String, String)] {
        var properties = client.librdkafkaProperties
        properties += [
            ("group.id", groupID),
            // At-least-once: librdkafka commits only offsets the application stored after processing.
            ("enable.auto.commit", commitsStoredOffsets ? "true" : "false"),
            ("enable.auto.offset.store", "false"),
            ("auto.commit.interval.ms", String(commitInterval.milliseconds)),
            ("auto.offset.reset", offsetReset.value),
            ("session.timeout.ms", String(sessionTimeout.milliseconds)),
            ("max.poll.interval.ms", String(maxPollInterval.milliseconds)),
            ("partition.assignment.strategy", assignmentStrategy.value),
            ("isolation.level", isolationLevel.value),
            // librdkafka 2.0.2 backs a partition's fetcher off for a full second whenever its pre-fetch queue
            // reaches queued.min.messages; a high threshold keeps it from stalling a fast consumer, while
            // queued.max.messages.kbytes still bounds memory.
            ("queued.min.messages", "1000000"),
            ("queued.max.messages.kbytes", String(prefetchKilobytes)),
            ("fetch.error.backoff.ms", "100"),
        ]
        if let instanceID { properties.append(("group.instance.id", instanceID)) }
        properties += client.properties.sorted { $0.key < $1.key }
        properties += self.properties.sorted { $0.key < $1.key }
        return properties
    }
}
