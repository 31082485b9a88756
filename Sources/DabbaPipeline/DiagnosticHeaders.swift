import DabbaEvents
import DabbaKafka
import Foundation

/// Header names Dabba writes on retry and dead-letter records.
public enum RetryHeaders {
    /// The delivery number the record will cause (2 for the first retry tier).
    public static let attempt = "dabba-attempt"
    /// When the record may be processed, in milliseconds since the epoch (decimal text).
    public static let dueAt = "dabba-retry-due-at"
    /// The topic of the first delivery.
    public static let originalTopic = "dabba-original-topic"
    /// The partition of the first delivery (decimal text).
    public static let originalPartition = "dabba-original-partition"
    /// The offset of the first delivery (decimal text).
    public static let originalOffset = "dabba-original-offset"
    /// The record timestamp of the first delivery (ms, decimal text).
    public static let originalTimestamp = "dabba-original-timestamp"
    /// The last failure's error type.
    public static let errorType = "dabba-error-type"
    /// The last failure's message (capped).
    public static let errorMessage = "dabba-error-message"
    /// When the last failure happened (RFC 3339).
    public static let failedAt = "dabba-failed-at"
    /// The consumer group that failed.
    public static let group = "dabba-consumer-group"
    /// On replayed records: how many times the record was replayed from a dead-letter topic.
    public static let replayCount = "dabba-replay-count"

    static let all: Set<String> = [
        attempt, dueAt, originalTopic, originalPartition, originalOffset, originalTimestamp, errorType, errorMessage,
        failedAt, group,
    ]
}

/// Spring for Apache Kafka's dead-letter header names, written with Spring's encodings (partition as a 4-byte and
/// offset/timestamp as 8-byte big-endian integers, the rest UTF-8) so existing tooling reads Dabba's DLQs.
public enum SpringDeadLetterHeaders {
    /// Original topic (UTF-8).
    public static let originalTopic = "kafka_dlt-original-topic"
    /// Original partition (4-byte big-endian int).
    public static let originalPartition = "kafka_dlt-original-partition"
    /// Original offset (8-byte big-endian long).
    public static let originalOffset = "kafka_dlt-original-offset"
    /// Original timestamp (8-byte big-endian long, ms).
    public static let originalTimestamp = "kafka_dlt-original-timestamp"
    /// Original timestamp type (`CreateTime`).
    public static let originalTimestampType = "kafka_dlt-original-timestamp-type"
    /// The consumer group that failed (UTF-8).
    public static let originalConsumerGroup = "kafka_dlt-original-consumer-group"
    /// The error's type name (UTF-8; Spring writes a Java class name, Dabba the Swift type).
    public static let exceptionFQCN = "kafka_dlt-exception-fqcn"
    /// The error message (UTF-8, capped).
    public static let exceptionMessage = "kafka_dlt-exception-message"
    /// A short error description standing in for Spring's stack trace (UTF-8, capped).
    public static let exceptionStacktrace = "kafka_dlt-exception-stacktrace"

    static let all: Set<String> = [
        originalTopic, originalPartition, originalOffset, originalTimestamp, originalTimestampType,
        originalConsumerGroup, exceptionFQCN, exceptionMessage, exceptionStacktrace,
    ]

    /// A big-endian 4-byte encoding.
    public static func encode(_ value: Int32) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// A big-endian 8-byte encoding.
    public static func encode(_ value: Int64) -> [UInt8] {
        withUnsafeBytes(of: value.bigEndian) { Array($0) }
    }

    /// Decodes a big-endian integer of 4 or 8 bytes.
    public static func decodeInteger(_ bytes: [UInt8]?) -> Int64? {
        guard let bytes, bytes.count == 4 || bytes.count == 8 else { return nil }
        var value: Int64 = 0
        for byte in bytes { value = value << 8 | Int64(byte) }
        return bytes.count == 4 ? Int64(Int32(truncatingIfNeeded: value)) : value
    }
}

/// Where a failing record originally came from: its first delivery's position, carried through retry tiers.
package struct Origin: Sendable {
    /// The topic of the first delivery.
    package var topic: String
    /// Its partition.
    package var partition: Int32
    /// Its offset.
    package var offset: Int64
    /// Its record timestamp (ms; 0 when unknown).
    package var timestamp: Int64

    /// The origin a retry record's headers carry, or the record's own position when they carry none (or garbage).
    /// - Parameter message: The record being handled.
    package init(message: KafkaMessage) {
        let headers = message.headers
        if let topic = headers.string(named: RetryHeaders.originalTopic),
            let partition = headers.string(named: RetryHeaders.originalPartition).flatMap({ Int32($0) }),
            let offset = headers.string(named: RetryHeaders.originalOffset).flatMap({ Int64($0) })
        {
            self.topic = topic
            self.partition = partition
            self.offset = offset
            self.timestamp = headers.string(named: RetryHeaders.originalTimestamp).flatMap { Int64($0) } ?? 0
        } else {
            topic = message.topic
            partition = message.partition
            offset = message.offset
            timestamp = message.timestampMilliseconds ?? 0
        }
    }
}

/// Caps a UTF-8 string at `limit` bytes without splitting a character.
func capped(_ text: String, _ limit: Int) -> String {
    guard text.utf8.count > limit else { return text }
    var result = ""
    for character in text {
        if result.utf8.count + character.utf8.count > limit - 3 { break }
        result.append(character)
    }
    return result + "..."
}
