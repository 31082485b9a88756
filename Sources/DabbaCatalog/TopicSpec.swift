/// A Kafka topic the catalog declares or derives, with everything needed to create it.
public struct TopicSpec: Sendable, Hashable {
    /// What a topic is for.
    public enum Kind: Sendable, Hashable {
        /// A topic declared by a channel of a catalog document.
        case main
        /// Retry tier `tier` (counting from 1) of consumer group `group` on main topic `of`:
        /// a failed message is re-published here and handled again once `delay` has passed.
        case retry(tier: Int, delay: Duration, group: String, of: String)
        /// The dead-letter topic of consumer group `group` on main topic `of`: where a message lands once every
        /// retry tier has failed.
        case deadLetter(group: String, of: String)
    }

    /// The most partitions a topic can have: Kafka's CreateTopics request carries the count as a 32-bit integer.
    public static let maximumPartitions = Int(Int32.max)
    /// The highest replication factor: Kafka's CreateTopics request carries it as a 16-bit integer.
    public static let maximumReplicas = Int(Int16.max)

    /// The Kafka topic name.
    public var name: String
    /// The number of partitions, 1 to ``maximumPartitions``.
    public var partitions: Int
    /// The replication factor, 1 to ``maximumReplicas``.
    public var replicas: Int
    /// Kafka topic configuration, by Kafka config name (`retention.ms`, `cleanup.policy`, ...).
    public var configs: [String: String]
    /// The id of the AsyncAPI channel that declares the topic (for derived topics, the main topic's channel).
    public var channelID: String
    /// What the topic is for.
    public var kind: Kind
    /// Where the topic is declared: the channel's `address` (for derived topics, the consumer group id that
    /// caused it).
    public var source: CatalogLocation

    /// Creates a topic specification.
    /// - Parameters:
    ///   - name: The Kafka topic name.
    ///   - partitions: The number of partitions.
    ///   - replicas: The replication factor.
    ///   - configs: Kafka topic configuration.
    ///   - channelID: The declaring channel's id.
    ///   - kind: What the topic is for.
    ///   - source: Where it is declared.
    public init(
        name: String,
        partitions: Int,
        replicas: Int,
        configs: [String: String],
        channelID: String,
        kind: Kind,
        source: CatalogLocation
    ) {
        self.name = name
        self.partitions = partitions
        self.replicas = replicas
        self.configs = configs
        self.channelID = channelID
        self.kind = kind
        self.source = source
    }

    /// Whether the topic is compacted (`cleanup.policy` includes `compact`): Kafka keeps at least the latest record
    /// of each key, so the topic holds a table's current state (and a record with a null value deletes its key).
    public var isCompacted: Bool {
        configs["cleanup.policy"]?.split(separator: ",").contains { $0 == "compact" } ?? false
    }

    /// Whether this is a retry or dead-letter topic rather than a declared one.
    public var isDerived: Bool {
        if case .main = kind { return false }
        return true
    }

    /// The main topic this topic belongs to: its own name for a main topic.
    public var mainTopic: String {
        switch kind {
        case .main: return name
        case .retry(_, _, _, let of), .deadLetter(_, let of): return of
        }
    }

    /// The consumer group a retry or dead-letter topic belongs to; `nil` for a main topic.
    public var group: String? {
        switch kind {
        case .main: return nil
        case .retry(_, _, let group, _), .deadLetter(let group, _): return group
        }
    }
}

extension TopicSpec {
    /// The name of retry tier `tier` (counting from 1) of consumer group `group` on `topic`:
    /// `<topic>.<group>.retry.<tier>`.
    /// - Parameters:
    ///   - topic: The main topic.
    ///   - group: The consumer group id.
    ///   - tier: The tier, counting from 1.
    /// - Returns: The derived topic name.
    public static func retryTopicName(for topic: String, group: String, tier: Int) -> String {
        "\(topic).\(group).retry.\(tier)"
    }

    /// The name of the dead-letter topic of consumer group `group` on `topic`: `<topic>.<group>.dlq`.
    /// - Parameters:
    ///   - topic: The main topic.
    ///   - group: The consumer group id.
    /// - Returns: The derived topic name.
    public static func deadLetterTopicName(for topic: String, group: String) -> String {
        "\(topic).\(group).dlq"
    }

    /// The longest legal Kafka topic name.
    public static let maximumNameLength = 249

    /// Why `name` is not a legal Kafka topic name, or `nil` when it is.
    ///
    /// Kafka accepts 1 to 249 characters from `[a-zA-Z0-9._-]`, except the names `.` and `..`.
    /// - Parameter name: The candidate topic name.
    /// - Returns: A reason suitable for an error message, or `nil`.
    public static func nameProblem(_ name: String) -> String? {
        if name.isEmpty { return "a topic name cannot be empty" }
        if name == "." || name == ".." { return "'\(name)' is not a legal topic name" }
        if name.count > maximumNameLength {
            return "topic name '\(name)' is \(name.count) characters long; Kafka allows at most \(maximumNameLength)"
        }
        let illegal = name.unicodeScalars.filter { scalar in
            !(scalar.isASCII
                && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || scalar == "." || scalar == "_" || scalar == "-"))
        }
        if let first = illegal.first {
            return "topic name '\(name)' contains '\(first)'; Kafka allows only letters, digits, '.', '_' and '-'"
        }
        return nil
    }
}
