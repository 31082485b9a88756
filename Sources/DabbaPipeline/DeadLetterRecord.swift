import DabbaEvents
import DabbaKafka
import DabbaPipeline
import DabbaSchema
import Foundation

/// A dead-letter record with its failure context decoded from Spring's and Dabba's headers.
struct DeadLetterRecord {
    let message: KafkaMessage
    let headers: [KafkaHeader]

    init(_ message: KafkaMessage) {
        self.message = message
        self.headers = message.headers
    }

    var originalTopic: String? { headers.string(named: SpringDeadLetterHeaders.originalTopic) }
    var originalPartition: Int64? { SpringDeadLetterHeaders.decodeInteger(headers.bytes(named: SpringDeadLetterHeaders.originalPartition)) }
    var originalOffset: Int64? { SpringDeadLetterHeaders.decodeInteger(headers.bytes(named: SpringDeadLetterHeaders.originalOffset)) }
    var consumerGroup: String? { headers.string(named: SpringDeadLetterHeaders.originalConsumerGroup) }
    var errorType: String? { headers.string(named: SpringDeadLetterHeaders.exceptionFQCN) }
    var errorMessage: String? { headers.string(named: SpringDeadLetterHeaders.exceptionMessage) }
    var attempts: Int? { headers.string(named: RetryHeaders.attempt).flatMap { Int($0) } }
    var failedAt: Date? { headers.string(named: RetryHeaders.failedAt).flatMap { RFC3339.parse($0) } }
    var replayCount: Int { headers.string(named: RetryHeaders.replayCount).flatMap { Int($0) } ?? 0 }
    var eventType: String? { headers.string(named: "ce_type") }
    var eventID: String? { headers.string(named: "ce_id") }

    /// When the record failed: the failed-at header, else the record's timestamp.
    var failureTime: Date? {
        failedAt ?? message.timestampMilliseconds.map { Date(timeIntervalSince1970: Double($0) / 1000) }
    }

    /// The record for the original topic: key, value and the original headers, without the dead-letter and retry
    /// diagnostics, and with the replay count incremented (the loop guard reads it).
    func replay(to topic: String) -> ProducerMessage {
        var replayed = headers.filter { header in
            !header.name.hasPrefix("kafka_dlt-") && !header.name.hasPrefix("dabba-")
        }
        replayed.append(KafkaHeader(name: RetryHeaders.replayCount, string: String(replayCount + 1)))
        return ProducerMessage(topic: topic, key: message.key, value: message.value, headers: replayed)
    }

    /// The record as one JSON object: position, key, event, failure context and data.
    func json() -> [String: Any] {
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

/// Which dead-letter records a command applies to.
struct DeadLetterFilter {
    var errorType: String?
    var key: String?
    var eventType: String?
    var since: Date?
    var until: Date?

    /// Whether a record matches every given criterion. An error type matches the full name or its last component
    /// (`HandlerFailure` matches `DabbaPipeline.HandlerFailure`).
    func matches(_ record: DeadLetterRecord) -> Bool {
        if let errorType {
            guard let recorded = record.errorType,
                recorded == errorType || recorded.hasSuffix(".\(errorType)")
            else { return false }
        }
        if let key, record.message.keyString != key { return false }
        if let eventType, record.eventType != eventType { return false }
        if let since { guard let time = record.failureTime, time >= since else { return false } }
        if let until { guard let time = record.failureTime, time <= until else { return false } }
        return true
    }
}
