/// A topic to create with ``KafkaAdmin/createTopics(_:timeout:)``.
public struct NewTopic: Sendable, Hashable {
    /// The topic name.
    public var name: String
    /// The number of partitions.
    public var partitions: Int32
    /// Replicas per partition; -1 asks for the broker's `default.replication.factor` (brokers 2.4 and later).
    public var replicationFactor: Int32
    /// Topic-level configuration, such as `retention.ms` or `cleanup.policy`.
    public var configs: [String: String]

    /// Describes a topic to create.
    /// - Parameters:
    ///   - name: The topic name.
    ///   - partitions: The number of partitions (at least 1).
    ///   - replicationFactor: Replicas per partition; -1 for the broker's default.
    ///   - configs: Topic-level configuration entries.
    public init(name: String, partitions: Int32, replicationFactor: Int32 = -1, configs: [String: String] = [:]) {
        self.name = name
        self.partitions = partitions
        self.replicationFactor = replicationFactor
        self.configs = configs
    }
}

/// A topic as the cluster's metadata describes it.
public struct TopicDescription: Sendable, Hashable {
    /// The topic name.
    public var name: String
    /// The partitions, ordered by id.
    public var partitions: [PartitionDescription]

    /// Replicas per partition: the largest replica count of any partition (0 for a topic without partitions).
    public var replicationFactor: Int { partitions.map(\.replicas.count).max() ?? 0 }

    /// Creates a description.
    /// - Parameters:
    ///   - name: The topic name.
    ///   - partitions: Its partitions.
    public init(name: String, partitions: [PartitionDescription]) {
        self.name = name
        self.partitions = partitions
    }
}

/// One partition of a ``TopicDescription``.
public struct PartitionDescription: Sendable, Hashable {
    /// The partition id.
    public var id: Int32
    /// The broker id of the leader (-1 when there is none).
    public var leader: Int32
    /// The broker ids holding a replica.
    public var replicas: [Int32]
    /// The broker ids of the in-sync replicas.
    public var isr: [Int32]

    /// Creates a partition description.
    /// - Parameters:
    ///   - id: The partition id.
    ///   - leader: The leader's broker id.
    ///   - replicas: The replicas' broker ids.
    ///   - isr: The in-sync replicas' broker ids.
    public init(id: Int32, leader: Int32, replicas: [Int32], isr: [Int32]) {
        self.id = id
        self.leader = leader
        self.replicas = replicas
        self.isr = isr
    }
}

/// One configuration entry of a topic, from ``KafkaAdmin/describeTopicConfigs(_:timeout:)``.
public struct ConfigEntry: Sendable, Hashable {
    /// The value; nil when the broker withholds it (sensitive entries) or it is unset.
    public var value: String?
    /// Whether the value is the built-in default.
    public var isDefault: Bool
    /// Whether the entry cannot be changed.
    public var isReadOnly: Bool
    /// Whether the value is secret (and therefore not returned).
    public var isSensitive: Bool
    /// Where the value comes from.
    public var source: ConfigSource

    /// Creates an entry.
    /// - Parameters:
    ///   - value: The value.
    ///   - isDefault: Whether it is the default.
    ///   - isReadOnly: Whether it is read-only.
    ///   - isSensitive: Whether it is sensitive.
    ///   - source: Where the value comes from.
    public init(value: String?, isDefault: Bool, isReadOnly: Bool, isSensitive: Bool, source: ConfigSource) {
        self.value = value
        self.isDefault = isDefault
        self.isReadOnly = isReadOnly
        self.isSensitive = isSensitive
        self.source = source
    }
}

/// Where a configuration value comes from (Kafka's `ConfigSource`). A struct so new sources can be added.
public struct ConfigSource: Sendable, Hashable, CustomStringConvertible {
    /// The protocol value.
    public let rawValue: Int32
    /// Creates a source from its protocol value.
    /// - Parameter rawValue: The protocol value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// Unknown (also what brokers answering DescribeConfigs v0 report).
    public static let unknown = ConfigSource(rawValue: 0)
    /// Set on this topic (`kafka-configs --alter --entity-type topics`): a dynamic topic override.
    public static let dynamicTopic = ConfigSource(rawValue: 1)
    /// A dynamic per-broker setting.
    public static let dynamicBroker = ConfigSource(rawValue: 2)
    /// A dynamic cluster-wide default.
    public static let dynamicDefaultBroker = ConfigSource(rawValue: 3)
    /// The broker's `server.properties`.
    public static let staticBroker = ConfigSource(rawValue: 4)
    /// The built-in default.
    public static let defaultConfig = ConfigSource(rawValue: 5)

    public var description: String {
        switch self {
        case .dynamicTopic: "dynamicTopic"
        case .dynamicBroker: "dynamicBroker"
        case .dynamicDefaultBroker: "dynamicDefaultBroker"
        case .staticBroker: "staticBroker"
        case .defaultConfig: "default"
        case .unknown: "unknown"
        default: "source(\(rawValue))"
        }
    }
}

/// How far a consumer group is behind on one partition, from ``KafkaAdmin/groupLag(group:topics:timeout:)``.
public struct PartitionLag: Sendable, Hashable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The group's committed offset (the next offset it will read), or nil when it has committed nothing.
    public var committed: Int64?
    /// The oldest offset still in the log.
    public var lowWatermark: Int64
    /// The offset the next produced message will get.
    public var highWatermark: Int64
    /// Messages not yet consumed: `highWatermark - committed`, or `highWatermark - lowWatermark` when nothing is
    /// committed. Never negative.
    public var lag: Int64

    /// Creates a lag entry.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - partition: The partition.
    ///   - committed: The committed offset, if any.
    ///   - lowWatermark: The low watermark.
    ///   - highWatermark: The high watermark.
    public init(topic: String, partition: Int32, committed: Int64?, lowWatermark: Int64, highWatermark: Int64) {
        self.topic = topic
        self.partition = partition
        self.committed = committed
        self.lowWatermark = lowWatermark
        self.highWatermark = highWatermark
        self.lag = max(0, highWatermark - (committed ?? lowWatermark))
    }

    public var description: String {
        "\(topic)[\(partition)] committed \(committed.map(String.init) ?? "none") high \(highWatermark) lag \(lag)"
    }
}
