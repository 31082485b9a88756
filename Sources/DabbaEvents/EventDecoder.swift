import DabbaKafka
import DabbaSchema
import Foundation

/// Reads CloudEvents envelopes (binary or structured mode) and decodes payloads into registered types.
public struct EventDecoder: Sendable {
    /// The types this decoder knows.
    public let registry: EventRegistry
    private let codecs: [String: any EventCodec]
    private let defaultCodec: any EventCodec
    /// The registered types by the bytes of their names, so a record's `ce_type` is matched without a `String`.
    private let entries: ByteStringTable<EventRegistry.Entry>
    /// The header values most records repeat (event type names, data schema URIs, content types), so reading them
    /// allocates nothing.
    private let knownValues: KnownHeaderValues

    /// Creates a decoder.
    /// - Parameters:
    ///   - registry: The event types to decode.
    ///   - codecs: Codecs by content type; JSON is always available.
    public init(registry: EventRegistry, codecs: [any EventCodec] = []) {
        self.registry = registry
        let json = JSONEventCodec()
        var byType: [String: any EventCodec] = [json.contentType: json]
        for codec in codecs { byType[codec.contentType] = codec }
        self.codecs = byType
        self.defaultCodec = json
        let registered = registry.eventTypes.compactMap { type in registry.entry(for: type).map { (type, $0) } }
        self.entries = ByteStringTable(registered)
        let schemaURIs = registered.map { EventEnvelope.dataSchemaURI(type: $0.0, version: $0.1.version) }
        self.knownValues = KnownHeaderValues(
            registry.eventTypes + schemaURIs + Array(byType.keys) + [Self.structuredContentType, EventEnvelope.specVersion]
        )
    }

    /// Decodes a record into a registered event.
    /// - Parameter message: The record.
    /// - Returns: The event, or why it could not be decoded.
    public func decode(_ message: KafkaMessage) -> Result<DecodedEvent, EventDecodingError> {
        var headers = BinaryModeHeaders(message)
        if headers.isStructuredMode { return decodeStructured(message, headers: headers) }
        if let problem = headers.problem(message, knownValues: knownValues) { return .failure(problem) }
        // `problem` returned nil, so the type is there.
        guard let typeBytes = headers.type, let entry = entries.value(typeBytes) else {
            return .failure(unknownType(String(decoding: headers.type ?? .init(start: nil, count: 0), as: UTF8.self),
                                        id: headers.id.map { String(decoding: $0, as: UTF8.self) }, message))
        }
        // nil: the built-in JSON codec, which the registry entry calls directly.
        let codec: (any EventCodec)?
        if let contentType = headers.contentType, !BinaryModeHeaders.equals(contentType, "application/json") {
            switch self.codec(for: String(decoding: contentType, as: UTF8.self)) {
            case .success(let found): codec = found is JSONEventCodec ? nil : found
            case .failure(let reason):
                let envelope = headers.envelope(knownValues: knownValues)
                return .failure(
                    EventDecodingError(
                        .unsupportedContentType, reason.description, message: message, eventType: envelope.type, eventID: envelope.id
                    )
                )
            }
        } else {
            codec = nil
        }
        do {
            // The payload is decoded in place from the record's value, without a copy; the envelope is made once it
            // decoded, straight into the event.
            return .success(
                try message.withUnsafeValue { value in
                    try entry.decodeBinary(
                        value ?? UnsafeRawBufferPointer(start: nil, count: 0), codec, headers, knownValues, message
                    )
                }
            )
        } catch {
            let envelope = headers.envelope(knownValues: knownValues)
            return .failure(
                EventDecodingError(
                    .invalidPayload, Self.describe(error), message: message, eventType: envelope.type,
                    eventID: envelope.id
                )
            )
        }
    }

    /// A structured-mode record: the envelope and data come from the JSON value.
    private func decodeStructured(
        _ message: KafkaMessage, headers: BinaryModeHeaders
    ) -> Result<DecodedEvent, EventDecodingError> {
        if let event = decodeStructuredInPlace(message, headers: headers) { return .success(event) }
        let envelope: EventEnvelope
        let data: Data
        switch Self.readStructured(message, headers: headers) {
        case .success(let read): (envelope, data) = read
        case .failure(let error): return .failure(error)
        }
        guard let entry = registry.entry(for: envelope.type) else {
            return .failure(unknownType(envelope.type, id: envelope.id, message))
        }
        let codec: any EventCodec
        switch envelope.dataContentType.map({ self.codec(for: $0) }) ?? .success(defaultCodec) {
        case .success(let found): codec = found
        case .failure(let reason):
            return .failure(
                EventDecodingError(
                    .unsupportedContentType, reason.description, message: message, eventType: envelope.type, eventID: envelope.id
                )
            )
        }
        do {
            return .success(try data.withUnsafeBytes { try entry.decodeStructured($0, codec, envelope, message) })
        } catch {
            return .failure(
                EventDecodingError(
                    .invalidPayload, Self.describe(error), message: message, eventType: envelope.type,
                    eventID: envelope.id
                )
            )
        }
    }

    /// The common structured-mode record (JSON data, strings without escapes, a registered type) read in place, as
    /// fast as binary mode: the attributes' bytes go where binary mode's headers would, the payload is decoded from
    /// the value's `data` bytes. nil for anything else, and for anything wrong: the general reader then names it.
    private func decodeStructuredInPlace(_ message: KafkaMessage, headers: BinaryModeHeaders) -> DecodedEvent? {
        var fields = headers
        return message.withUnsafeValue { value -> DecodedEvent? in
            guard let value, let data = StructuredMode.envelopeSpans(of: value, into: &fields),
                fields.problem(message, knownValues: knownValues) == nil,
                let typeBytes = fields.type, let entry = entries.value(typeBytes)
            else { return nil }
            if let contentType = fields.contentType {
                guard BinaryModeHeaders.equals(contentType, "application/json") else { return nil }
            } else {
                // Absent means JSON (the general reader says so too).
                fields.contentType = BinaryModeHeaders.bytes(of: "application/json")
            }
            return try? entry.decodeBinary(data, nil, fields, knownValues, message)
        }
    }

    /// The codec for a `content-type` value (parameters and case ignored), or why there is none.
    private func codec(for contentType: String) -> Result<any EventCodec, CodecNotFound> {
        if contentType == defaultCodec.contentType { return .success(defaultCodec) }
        let mediaType = Self.mediaType(contentType) ?? defaultCodec.contentType
        guard let registered = codecs[mediaType] else {
            return .failure(CodecNotFound(description: "no codec for content type '\(mediaType)'"))
        }
        return .success(registered)
    }

    private struct CodecNotFound: Error, CustomStringConvertible {
        let description: String
    }

    private func unknownType(_ type: String, id: String?, _ message: KafkaMessage) -> EventDecodingError {
        EventDecodingError(
            .unknownEventType,
            "event type '\(type)' is not registered (known: \(registry.eventTypes.joined(separator: ", ")))",
            message: message, eventType: type, eventID: id
        )
    }

    static let structuredContentType = "application/cloudevents+json"

    /// Reads the envelope and the payload bytes of a record without decoding the payload.
    /// - Parameter message: The record.
    /// - Returns: The envelope and payload, or why the envelope is invalid.
    public static func readEnvelope(_ message: KafkaMessage) -> Result<(EventEnvelope, Data), EventDecodingError> {
        var headers = BinaryModeHeaders(message)
        if headers.isStructuredMode { return readStructured(message, headers: headers) }
        let knownValues = KnownHeaderValues([])
        if let problem = headers.problem(message, knownValues: knownValues) { return .failure(problem) }
        return .success(
            (headers.envelope(knownValues: knownValues), message.withUnsafeValue { bytes in bytes.map { Data($0) } ?? Data() })
        )
    }

    /// The envelope of a record's headers and value in either content mode (for tools that hold a record's parts
    /// rather than a consumed message: outbox rows, dead letters, test records).
    /// - Parameters:
    ///   - headers: The record's headers.
    ///   - value: The record's value.
    /// - Returns: The envelope, or nil when the record carries no valid CloudEvents envelope.
    public static func envelope(headers: [KafkaHeader], value: [UInt8]?) -> EventEnvelope? {
        let record = KafkaMessage.inMemory(topic: "", value: value, headers: headers)
        guard case .success(let read) = readEnvelope(record) else { return nil }
        return read.0
    }

    /// Reads a structured-mode record (`application/cloudevents+json`): attributes and data in the value; trace
    /// context may also come in headers.
    private static func readStructured(
        _ message: KafkaMessage, headers: BinaryModeHeaders
    ) -> Result<(EventEnvelope, Data), EventDecodingError> {
        var extraHeaders: [String: String] = [:]
        extraHeaders["traceparent"] = headers.traceParent.map { String(decoding: $0, as: UTF8.self) }
        extraHeaders["tracestate"] = headers.traceState.map { String(decoding: $0, as: UTF8.self) }
        return readStructured(message, extraHeaders: extraHeaders)
    }

    private static func readStructured(
        _ message: KafkaMessage,
        extraHeaders: [String: String]
    ) -> Result<(EventEnvelope, Data), EventDecodingError> {
        func invalid(_ reason: String, type: String? = nil, id: String? = nil) -> Result<(EventEnvelope, Data), EventDecodingError> {
            .failure(EventDecodingError(.invalidEnvelope, reason, message: message, eventType: type, eventID: id))
        }
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(message.withUnsafeValue { bytes in bytes.map { Data($0) } ?? Data() })
        } catch {
            return invalid("structured-mode CloudEvent is not valid JSON: \(error)")
        }
        guard let object = parsed.objectValue else { return invalid("structured-mode CloudEvent is not a JSON object") }
        func string(_ name: String) -> String? { object[name]?.stringValue }
        let type = string("type")
        let id = string("id")
        guard string("specversion") == EventEnvelope.specVersion else {
            return invalid("structured-mode CloudEvent needs \"specversion\": \"1.0\"", type: type, id: id)
        }
        guard let id, !id.isEmpty else { return invalid("structured-mode CloudEvent has no \"id\"", type: type) }
        guard let source = string("source"), !source.isEmpty else {
            return invalid("structured-mode CloudEvent has no \"source\"", type: type, id: id)
        }
        guard let type, !type.isEmpty else { return invalid("structured-mode CloudEvent has no \"type\"", id: id) }
        var envelope = EventEnvelope(id: id, source: source, type: type)
        if let time = string("time") {
            guard let date = RFC3339.parse(time) else {
                return invalid("\"time\" '\(time)' is not an RFC 3339 timestamp", type: type, id: id)
            }
            envelope.time = date
        }
        envelope.subject = string("subject")
        envelope.dataSchema = string("dataschema")
        envelope.dataContentType = string("datacontenttype") ?? "application/json"
        envelope.traceParent = string("traceparent") ?? extraHeaders["traceparent"]
        envelope.traceState = string("tracestate") ?? extraHeaders["tracestate"]
        let core: Set<String> = [
            "specversion", "id", "source", "type", "time", "subject", "dataschema", "datacontenttype", "data",
            "data_base64", "traceparent", "tracestate",
        ]
        envelope.correlationID = string("correlationid")
        envelope.causationID = string("causationid")
        for (name, value) in object where !core.contains(name) && name != "correlationid" && name != "causationid" {
            switch value {
            case .string(let text): envelope.extensions[name] = text
            case .integer(let number): envelope.extensions[name] = String(number)
            case .bool(let flag): envelope.extensions[name] = String(flag)
            default: continue
            }
        }
        let data: Data
        if let base64 = string("data_base64") {
            guard let decoded = Data(base64Encoded: base64) else {
                return invalid("\"data_base64\" is not valid base64", type: type, id: id)
            }
            data = decoded
        } else if let value = object["data"] {
            if case .string(let text) = value, mediaType(envelope.dataContentType) != "application/json" {
                data = Data(text.utf8)
            } else {
                data = value.serialized()
            }
        } else {
            data = Data()
        }
        return .success((envelope, data))
    }

    /// The media type without parameters, lowercased (`application/json; charset=utf-8` → `application/json`).
    static func mediaType(_ contentType: String?) -> String? {
        guard let contentType else { return nil }
        // The common case, without splitting or allocating.
        if contentType == "application/json" { return contentType }
        // On the bytes: generic collection adaptors (reversed, dropping) cost microseconds per record unspecialized.
        let essence = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }
        func isSpace(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        var start = essence.startIndex
        var end = essence.endIndex
        while start < end, isSpace(essence[start]) { start = essence.index(after: start) }
        while end > start, isSpace(essence[essence.index(before: end)]) { end = essence.index(before: end) }
        return String(decoding: essence[start..<end], as: UTF8.self).lowercased()
    }

    /// A decoding error in words, naming the field path.
    static func describe(_ error: any Error) -> String {
        guard let decodingError = error as? DecodingError else { return "\(error)" }
        func path(_ codingPath: [any CodingKey]) -> String {
            let joined = codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: "/")
            return "/" + joined
        }
        switch decodingError {
        case .keyNotFound(let key, let context):
            return "missing field '\(key.stringValue)' at \(path(context.codingPath))"
        case .typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type) — \(context.debugDescription)"
        case .valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type), found null"
        case .dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        @unknown default:
            return "\(decodingError)"
        }
    }
}

extension KafkaConsumer {
    /// The consumer's messages decoded into registered events. A record that cannot be decoded arrives as a
    /// failure carrying its position and reason — it is never skipped silently; mark it processed (or send it to a
    /// dead-letter topic) like any other message.
    /// - Parameter decoder: The decoder with the registered event types.
    /// - Returns: A sequence of `(message, result)` pairs.
    public func events(_ decoder: EventDecoder) -> some AsyncSequence<IncomingEvent, any Error> {
        messages.map { message in IncomingEvent(message: message, result: decoder.decode(message)) }
    }
}

/// A consumed record and the outcome of decoding it.
public struct IncomingEvent: Sendable {
    /// The record.
    public let message: KafkaMessage
    /// The decoded event, or why decoding failed.
    public let result: Result<DecodedEvent, EventDecodingError>
}

/// The record headers the CloudEvents Kafka binding (binary mode) defines, matched on the raw name bytes so the
/// per-event envelope read creates no `String` for a header name.
enum CloudEventsHeader {
    case specVersion, id, source, type, time, subject, dataSchema, contentType, traceParent, traceState
    case correlationID, causationID, otherExtension

    init?(_ name: UnsafeBufferPointer<UInt8>) {
        guard let base = name.baseAddress else { return nil }
        func equals(_ literal: StaticString) -> Bool {
            literal.utf8CodeUnitCount == name.count && memcmp(literal.utf8Start, base, name.count) == 0
        }
        switch name.count {
        case 5 where equals("ce_id"): self = .id
        case 7 where equals("ce_type"): self = .type
        case 7 where equals("ce_time"): self = .time
        case 9 where equals("ce_source"): self = .source
        case 10 where equals("ce_subject"): self = .subject
        case 10 where equals("tracestate"): self = .traceState
        case 11 where equals("traceparent"): self = .traceParent
        case 12 where equals("content-type"): self = .contentType
        case 13 where equals("ce_dataschema"): self = .dataSchema
        case 13 where equals("ce_tracestate"): self = .traceState
        case 14 where equals("ce_specversion"): self = .specVersion
        case 14 where equals("ce_traceparent"): self = .traceParent
        case 14 where equals("ce_causationid"): self = .causationID
        case 16 where equals("ce_correlationid"): self = .correlationID
        default:
            guard name.count > 3, name[0] == UInt8(ascii: "c"), name[1] == UInt8(ascii: "e"),
                name[2] == UInt8(ascii: "_")
            else { return nil }
            self = .otherExtension
        }
    }
}
