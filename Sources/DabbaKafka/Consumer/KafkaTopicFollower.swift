internal import CRDKafka
import Foundation
import Logging

/// One record read by a ``KafkaTopicFollower``.
public struct FollowedRecord: Sendable {
    /// The partition it was read from.
    public var partition: Int32
    /// Its offset.
    public var offset: Int64
    /// Its key, if any.
    public var key: [UInt8]?
    /// Its value; nil for a tombstone.
    public var value: [UInt8]?

    /// Creates a record (tests build them by hand).
    /// - Parameters:
    ///   - partition: The partition.
    ///   - offset: The offset.
    ///   - key: The key.
    ///   - value: The value; nil for a tombstone.
    public init(partition: Int32, offset: Int64, key: [UInt8]?, value: [UInt8]?) {
        self.partition = partition
        self.offset = offset
        self.key = key
        self.value = value
    }
}

/// Reads a whole topic from its beginning and then follows it, without joining a consumer group: every follower sees
/// every record (a control topic that each instance of a service must obey, say).
///
/// The topic may not exist yet: the follower looks for it every `retryInterval` (it never creates it) and starts
/// reading once it appears. It reads the partitions the topic has when it is found. Owns one consumer handle that
/// never subscribes or commits; its polling runs on a dedicated thread.
public final class KafkaTopicFollower: Sendable {
    private let client: RDKafkaClient
    private let topic: String
    private let retryInterval: Duration
    private let logger: Logger

    /// Creates the follower. Nothing is read until ``follow(_:)``.
    /// - Parameters:
    ///   - configuration: Connection settings; ``ClientConfiguration/properties`` apply too.
    ///   - topic: The topic to follow.
    ///   - retryInterval: How often to look for the topic while it does not exist.
    ///   - logger: Where librdkafka's log lines and read errors go.
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` naming a bad property, or `clientCreation`.
    public init(
        configuration: ClientConfiguration, topic: String, retryInterval: Duration = .seconds(1),
        logger: Logger = Logger(label: "dabba.topic-follower")
    ) throws {
        var properties = configuration.librdkafkaProperties
        properties += [
            // Needed by the consumer API even without a subscription; nothing is ever committed under it.
            ("group.id", "dabba-topic-follower-\(UUID().uuidString)"),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("allow.auto.create.topics", "false"),
            // A control topic holds little: a small prefetch keeps the follower's memory small.
            ("queued.max.messages.kbytes", "1024"),
            ("fetch.wait.max.ms", "100"),
        ]
        properties += configuration.properties.sorted { $0.key < $1.key }
        client = try RDKafkaClient.make(
            kind: .consumer, properties: properties, callbacks: ClientCallbacks(logger: logger),
            statistics: configuration.statistics
        )
        rd_kafka_poll_set_consumer(client.pointer)
        self.topic = topic
        self.retryInterval = retryInterval
        self.logger = logger
    }

    deinit {
        let client = self.client
        Blocking.detach { _ = rd_kafka_consumer_close(client.pointer) }
    }

    /// Reads the topic from its beginning, then every new record, until the calling task is cancelled.
    /// - Parameter onRecord: Called on the follower's thread for each record, in order per partition.
    public func follow(_ onRecord: @escaping @Sendable (FollowedRecord) -> Void) async {
        let client = self.client
        let topic = self.topic
        let retryInterval = self.retryInterval
        let logger = self.logger
        let assigned = UnsafeSendableFlag()
        let thread = PollThread(name: "dabba-follower") { isStopping in
            guard assigned.value else {
                if Self.assignAll(client: client, topic: topic, logger: logger) {
                    assigned.value = true
                } else {
                    Self.wait(retryInterval, unless: isStopping)
                }
                return
            }
            guard let message = rd_kafka_consumer_poll(client.pointer, 100) else { return }
            defer { rd_kafka_message_destroy(message) }
            let record = message.pointee
            guard record.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                if record.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    logger.debug("reading \(topic): \(KafkaError(responseCode: record.err, context: "consumer error"))")
                }
                return
            }
            let key = record.key.map { Array(UnsafeRawBufferPointer(start: $0, count: record.key_len)) }
            let value = record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len)) }
            onRecord(FollowedRecord(partition: record.partition, offset: record.offset, key: key, value: value))
        }
        await withTaskCancellationHandler {
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        } onCancel: {
            thread.requestStop()
        }
        await thread.stop()
    }

    /// Assigns every partition of the topic from its beginning; false while the topic does not exist.
    private static func assignAll(client: RDKafkaClient, topic: String, logger: Logger) -> Bool {
        let count: Int32?
        do {
            count = try client.withClusterMetadata(timeout: .seconds(5), servesCallbacks: false) { metadata in
                let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
                guard let entry = topics.first(where: { $0.topic.map { String(cString: $0) } == topic }),
                    entry.partition_cnt > 0
                else { return nil }
                return entry.partition_cnt
            }
        } catch {
            logger.debug("looking for \(topic): \(error)")
            return false
        }
        guard let count else { return false }
        // -2 is librdkafka's RD_KAFKA_OFFSET_BEGINNING (a macro Swift does not import).
        let starts = (0..<count).map { TopicPartitionOffset(topic: topic, partition: $0, offset: -2) }
        let result = TopicPartitionList.with(starts) { rd_kafka_assign(client.pointer, $0) }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            logger.warning("could not read \(topic): \(KafkaError(responseCode: result, context: "assign"))")
            return false
        }
        return true
    }

    /// Sleeps on the follower's own thread in short steps, so a stop request is noticed promptly.
    private static func wait(_ interval: Duration, unless isStopping: () -> Bool) {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: interval)
        while clock.now < deadline, !isStopping() { Thread.sleep(forTimeInterval: 0.05) }
    }
}

/// A flag only the follower's thread reads and writes.
private final class UnsafeSendableFlag: @unchecked Sendable {
    var value = false
}
