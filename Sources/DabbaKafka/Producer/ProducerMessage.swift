/// A message to produce.
public struct ProducerMessage: Sendable {
    /// The destination topic.
    public var topic: String
    /// An explicit partition, or nil to let the partitioner choose from the key.
    public var partition: Int32?
    /// The key; messages with equal keys go to the same partition and stay in order.
    public var key: [UInt8]?
    /// The value, or nil for a tombstone.
    public var value: [UInt8]?
    /// Record headers, in order.
    public var headers: [KafkaHeader]
    /// The record timestamp in milliseconds since the Unix epoch, or nil for the time of sending.
    public var timestampMilliseconds: Int64?

    /// Creates a message from bytes.
    /// - Parameters:
    ///   - topic: The destination topic.
    ///   - key: The key bytes, or nil for an unkeyed message.
    ///   - value: The value bytes, or nil for a tombstone.
    ///   - headers: Record headers.
    ///   - partition: An explicit partition, or nil to use the partitioner.
    ///   - timestampMilliseconds: The record timestamp, or nil for now.
    @inlinable
    public init(
        topic: String,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
        partition: Int32? = nil,
        timestampMilliseconds: Int64? = nil
    ) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
        self.timestampMilliseconds = timestampMilliseconds
    }

    /// Creates a message from UTF-8 strings.
    /// - Parameters:
    ///   - topic: The destination topic.
    ///   - key: The key, or nil for an unkeyed message.
    ///   - value: The value.
    ///   - headers: Record headers.
    ///   - partition: An explicit partition, or nil to use the partitioner.
    public init(topic: String, key: String?, value: String, headers: [KafkaHeader] = [], partition: Int32? = nil) {
        self.init(topic: topic, key: key.map { Array($0.utf8) }, value: Array(value.utf8), headers: headers,
                  partition: partition)
    }
}

/// The outcome of one message's delivery.
public struct DeliveryReport: Sendable {
    /// The id ``KafkaProducer/enqueue(_:)`` returned for the message (0 for ``KafkaProducer/send(_:)``).
    public var messageID: UInt64
    /// The topic written to.
    public var topic: String
    /// The partition written to (-1 if the message never reached a partition).
    public var partition: Int32
    /// The offset the broker assigned (-1 if unknown or failed).
    public var offset: Int64
    /// Why the delivery failed, or nil if it succeeded.
    public var error: KafkaError?
    /// For failed deliveries only: the key, so the application can retry or park the message.
    public var failedKey: [UInt8]?
    /// For failed deliveries only: the value, so the application can retry or park the message.
    public var failedValue: [UInt8]?

    /// Whether the broker acknowledged the message.
    @inlinable
    public var isDelivered: Bool { error == nil }
}

/// A partition offset: used for committing, seeking and transactional offsets.
public struct TopicPartitionOffset: Sendable, Hashable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The offset; for commits, the offset of the next message to read.
    public var offset: Int64

    /// Creates a partition offset.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - partition: The partition.
    ///   - offset: The offset.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var description: String { "\(topic)[\(partition)]@\(offset)" }
}

/// A topic and partition.
public struct TopicPartition: Sendable, Hashable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32

    /// Creates a topic partition.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - partition: The partition.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}
