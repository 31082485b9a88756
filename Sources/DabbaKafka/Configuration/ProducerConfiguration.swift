/// Producer settings with safe defaults: idempotent, `acks=all`, and the Java client's murmur2 partitioner.
public struct ProducerConfiguration: Sendable {
    /// Which replicas must acknowledge a write.
    public struct Acks: Sendable, Hashable {
        let value: String
        /// The leader and all in-sync replicas (`acks=all`): no acknowledged message is lost while one replica lives.
        public static let all = Acks(value: "all")
        /// The leader only (`acks=1`).
        public static let leader = Acks(value: "1")
        /// No acknowledgement (`acks=0`); messages may be lost silently. Not allowed with idempotence.
        public static let none = Acks(value: "0")
    }

    /// How keyed messages are mapped to partitions.
    public struct Partitioner: Sendable, Hashable {
        let value: String
        /// murmur2 of the key, like the Java client's default partitioner; unkeyed messages go to random partitions.
        /// Java, Go (Sarama's/franz-go's Java-compatible modes) and Python clients agree with it.
        public static let murmur2Random = Partitioner(value: "murmur2_random")
        /// murmur2 of the key; unkeyed messages all hash the empty key.
        public static let murmur2 = Partitioner(value: "murmur2")
        /// CRC32 of the key (librdkafka's own default), random for unkeyed messages.
        public static let consistentRandom = Partitioner(value: "consistent_random")
    }

    /// Message compression.
    public struct Compression: Sendable, Hashable {
        let value: String
        /// No compression.
        public static let none = Compression(value: "none")
        /// gzip.
        public static let gzip = Compression(value: "gzip")
        /// snappy.
        public static let snappy = Compression(value: "snappy")
        /// lz4.
        public static let lz4 = Compression(value: "lz4")
        /// zstd.
        public static let zstd = Compression(value: "zstd")
    }

    /// Connection and client settings.
    public var client: ClientConfiguration
    /// Idempotent delivery: no duplicates and no reordering from the producer's own retries.
    public var idempotent: Bool
    /// Acknowledgement level.
    public var acks: Acks
    /// Key-to-partition mapping.
    public var partitioner: Partitioner
    /// Compression codec.
    public var compression: Compression
    /// How long to wait to fill a batch before sending it (`linger.ms`).
    public var linger: Duration
    /// How long librdkafka keeps trying to deliver a message before failing it (`message.timeout.ms`). For a
    /// transactional producer it is capped at ``transactionTimeout``, as librdkafka requires.
    public var messageTimeout: Duration
    /// The most messages waiting in the local queue; beyond it, sending waits for deliveries (backpressure).
    public var maxQueuedMessages: Int
    /// The most kilobytes waiting in the local queue.
    public var maxQueuedKilobytes: Int
    /// The largest message the producer accepts (`message.max.bytes`).
    public var maxMessageBytes: Int
    /// A transactional id enables ``KafkaProducer/beginTransaction()`` and friends. It must be stable per
    /// producing instance and input partition set so that a restarted instance fences its predecessor.
    public var transactionalID: String?
    /// How long a transaction may stay open before the broker aborts it.
    public var transactionTimeout: Duration
    /// When true, the delivery reports of ``KafkaProducer/enqueue(_:)`` are published on
    /// ``KafkaProducer/deliveryReports``, which must then be consumed. When false, failed deliveries of enqueued
    /// messages are logged, counted, and make the next ``KafkaProducer/flush(timeout:)`` throw.
    public var publishesDeliveryReports: Bool

    /// Creates producer settings with safe defaults.
    /// - Parameter client: Connection settings.
    public init(client: ClientConfiguration) {
        self.client = client
        self.idempotent = true
        self.acks = .all
        self.partitioner = .murmur2Random
        self.compression = .none
        self.linger = .milliseconds(5)
        self.messageTimeout = .seconds(300)
        self.maxQueuedMessages = 100_000
        self.maxQueuedKilobytes = 1_048_576
        self.maxMessageBytes = 1_000_000
        self.transactionalID = nil
        self.transactionTimeout = .seconds(60)
        self.publishesDeliveryReports = false
    }

    /// Creates producer settings for the given comma-separated bootstrap servers.
    /// - Parameter bootstrap: `host:port` list, comma-separated.
    public init(bootstrap: String) {
        self.init(client: ClientConfiguration(bootstrap: bootstrap))
    }

    /// The message timeout, capped at the transaction timeout for transactional producers.
    var effectiveMessageTimeout: Duration {
        transactionalID == nil ? messageTimeout : min(messageTimeout, transactionTimeout)
    }

    var librdkafkaProperties: [(String, String)] {
        var properties = client.librdkafkaProperties
        properties += [
            ("enable.idempotence", idempotent ? "true" : "false"),
            ("acks", acks.value),
            ("partitioner", partitioner.value),
            ("compression.codec", compression.value),
            ("linger.ms", String(linger.milliseconds)),
            // librdkafka requires message.timeout.ms <= transaction.timeout.ms for transactional producers.
            ("message.timeout.ms", String(effectiveMessageTimeout.milliseconds)),
            ("queue.buffering.max.messages", String(maxQueuedMessages)),
            ("queue.buffering.max.kbytes", String(maxQueuedKilobytes)),
            ("message.max.bytes", String(maxMessageBytes)),
        ]
        if let transactionalID {
            properties.append(("transactional.id", transactionalID))
            properties.append(("transaction.timeout.ms", String(transactionTimeout.milliseconds)))
        }
        properties += client.properties.sorted { $0.key < $1.key }
        return properties
    }
}
