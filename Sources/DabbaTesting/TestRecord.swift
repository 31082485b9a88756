import DabbaEvents
import DabbaKafka
import Foundation

/// A copy of a consumed record's observable parts, kept after the consumer is gone.
public struct TestRecord: Sendable, Hashable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The offset.
    public var offset: Int64
    /// The key as UTF-8 text, if any.
    public var key: String?
    /// The value bytes, if any.
    public var value: [UInt8]?
    /// The headers, in record order.
    public var headers: [KafkaHeader]
    /// The record timestamp in milliseconds since the Unix epoch, if it has one.
    public var timestampMilliseconds: Int64?

    /// Copies a consumed message.
    /// - Parameter message: The message.
    public init(_ message: KafkaMessage) {
        topic = message.topic
        partition = message.partition
        offset = message.offset
        key = message.keyString
        value = message.value
        headers = message.headers
        timestampMilliseconds = message.timestampMilliseconds
    }

    /// The value as UTF-8 text, if any.
    public var valueString: String? { value.map { String(decoding: $0, as: UTF8.self) } }

    /// A header's value as text (the first one of that name).
    /// - Parameter name: The header name.
    /// - Returns: The value, or `nil` when there is no such header.
    public func header(_ name: String) -> String? { headers.string(named: name) }

    /// The CloudEvents type (`ce_type`, or `type` in a structured-mode value), if the record carries one.
    public var eventType: String? { header("ce_type") ?? structuredEnvelope?.type }

    /// The CloudEvents id (`ce_id`, or `id` in a structured-mode value), if the record carries one.
    public var eventID: String? { header("ce_id") ?? structuredEnvelope?.id }

    private var structuredEnvelope: EventEnvelope? { EventDecoder.envelope(headers: headers, value: value) }

    /// Decodes the value as an event payload.
    /// - Parameters:
    ///   - type: The event type.
    ///   - codec: The codec (JSON by default).
    /// - Returns: The payload.
    /// - Throws: A decoding error, or ``WaitTimeout``-style text when the record has no value.
    public func decode<E: Event>(_ type: E.Type, codec: any EventCodec = JSONEventCodec()) throws -> E {
        try codec.decode(E.self, from: payload)
    }

    /// The event payload's bytes: the value in binary mode, its `data` in structured mode.
    public var payload: Data {
        let record = KafkaMessage.inMemory(topic: topic, value: value, headers: headers)
        if case .success(let read) = EventDecoder.readEnvelope(record) { return read.1 }
        return Data(value ?? [])
    }

    /// `topic[partition]@offset key=… ce_type=…`: one line for failure messages.
    public var description: String {
        var text = "\(topic)[\(partition)]@\(offset)"
        text += " key=\(key ?? "nil")"
        if let eventType { text += " ce_type=\(eventType)" }
        return text
    }
}

/// An event read back from a topic: its record and its decoded payload.
public struct TestEvent<E: Event>: Sendable {
    /// The record.
    public var record: TestRecord
    /// The decoded payload.
    public var event: E
}
