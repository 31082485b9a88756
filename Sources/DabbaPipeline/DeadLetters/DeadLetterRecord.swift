import DabbaEvents
import DabbaKafka
import Foundation

/// A dead-letter record with its failure context decoded from Spring's and Dabba's headers (for `dabba dlq`).
///
/// Every field reads untrusted bytes: a header that is missing, of the wrong size or not a number gives nil (or the
/// default), never a trap.
package struct DeadLetterRecord {
    /// The dead-letter record.
    package let message: KafkaMessage
    /// Its headers, in order.
    package let headers: [KafkaHeader]

    /// Reads a dead-letter record's headers.
    /// - Parameter message: The record from the dead-letter topic.
    package init(_ message: KafkaMessage) {
        self.message = message
        self.headers = message.headers
        // Binary mode names the event in headers; otherwise the value is read once here (structured mode).
        if headers.string(named: "ce_type") == nil, case .success(let read) = EventDecoder.readEnvelope(message) {
            structuredEnvelope = read.0
        } else {
            structuredEnvelope = nil
        }
    }

    /// The envelope of a structured-mode record (in its value), or nil.
    private let structuredEnvelope: EventEnvelope?

    /// The topic of the failed record.
    package var originalTopic: String? { headers.string(named: SpringDeadLetterHeaders.originalTopic) }
    /// The partition of the failed record (Spring's 4-byte big-endian encoding; 8 bytes accepted).
    package var originalPartition: Int64? {
        SpringDeadLetterHeaders.decodeInteger(headers.bytes(named: SpringDeadLetterHeaders.originalPartition))
    }
    /// The offset of the failed record (Spring's 8-byte big-endian encoding; 4 bytes accepted).
    package var originalOffset: Int64? {
        SpringDeadLetterHeaders.decodeInteger(headers.bytes(named: SpringDeadLetterHeaders.originalOffset))
    }
    /// The consumer group that failed.
    package var consumerGroup: String? { headers.string(named: SpringDeadLetterHeaders.originalConsumerGroup) }
    /// The error's type name.
    package var errorType: String? { headers.string(named: SpringDeadLetterHeaders.exceptionFQCN) }
    /// The error message.
    package var errorMessage: String? { headers.string(named: SpringDeadLetterHeaders.exceptionMessage) }
    /// How many deliveries were attempted.
    package var attempts: Int? { headers.string(named: RetryHeaders.attempt).flatMap { Int($0) } }
    /// When the last failure happened, from the failed-at header.
    package var failedAt: Date? { headers.string(named: RetryHeaders.failedAt).flatMap { RFC3339.parse($0) } }
    /// How many times the record was replayed already (0 when the header is absent, not a number or negative).
    package var replayCount: Int {
        max(0, headers.string(named: RetryHeaders.replayCount).flatMap { Int($0) } ?? 0)
    }
    /// The CloudEvents type of the failed event (binary or structured mode).
    package var eventType: String? { headers.string(named: "ce_type") ?? structuredEnvelope?.type }
    /// The CloudEvents id of the failed event (binary or structured mode).
    package var eventID: String? { headers.string(named: "ce_id") ?? structuredEnvelope?.id }


    /// When the record failed: the failed-at header, else the record's timestamp.
    package var failureTime: Date? {
        failedAt ?? message.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// The record for the original topic: key, value and the original headers, without the dead-letter and retry
    /// diagnostics, and with the replay count incremented (the loop guard reads it).
    package func replay(to topic: String) -> ProducerMessage {
        var replayed = headers.filter { header in
            !header.name.hasPrefix("kafka_dlt-") && !header.name.hasPrefix("dabba-")
        }
        // Saturating: a header claiming Int.max replays must not trap the tool that reads it.
        let count = replayCount
        replayed.append(KafkaHeader(name: RetryHeaders.replayCount, string: String(count < .max ? count + 1 : count)))
        return ProducerMessage(topic: topic, key: message.key, value: message.value, headers: replayed)
    }

    /// The record as one JSON object: position, key, event, failure context and data.
    package func json() -> [String: Any] {
        var event: [String: Any] = [:]
        if case .success(let (envelope, _)) = EventDecoder.readEnvelope(message) {
            event = [
                "type": envelope.type, "id": envelope.id, "source": envelope.source,
                "time": jsonString(envelope.time.map(RFC3339.format)),
            ]
        }
        var failure: [String: Any] = [
            "originalTopic": jsonString(originalTopic),
            "consumerGroup": jsonString(consumerGroup),
            "errorType": jsonString(errorType),
            "errorMessage": jsonString(errorMessage),
            "failedAt": jsonString(failureTime.map(RFC3339.format)),
            "replayCount": replayCount,
        ]
        failure["originalPartition"] = originalPartition.map { $0 as Any } ?? NSNull()
        failure["originalOffset"] = originalOffset.map { $0 as Any } ?? NSNull()
        failure["attempts"] = attempts.map { $0 as Any } ?? NSNull()
        let data: Any = message.withUnsafeValue { bytes -> Any in
            guard let bytes else { return NSNull() }
            let raw = Data(bytes)
            if let object = try? JSONSerialization.jsonObject(with: raw, options: [.fragmentsAllowed]) { return object }
            return String(decoding: raw, as: UTF8.self)
        }
        return [
            "topic": message.topic, "partition": Int(message.partition), "offset": message.offset,
            "key": jsonString(message.keyString), "event": event, "failure": failure, "data": data,
        ]
    }
}

/// A JSON value for an optional string: the string, or `null`.
private func jsonString(_ value: String?) -> Any {
    value.map { $0 as Any } ?? NSNull()
}
