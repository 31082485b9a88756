import DabbaKafka
import DabbaSchema
import Foundation

/// A consumed record decoded into a registered event.
///
/// Immutable; a class so that passing it through a pipeline's stages shares it instead of copying the envelope's
/// strings, the payload and the record each time.
public final class DecodedEvent: Sendable {
    /// The CloudEvents attributes.
    public let envelope: EventEnvelope
    /// The decoded payload; use ``payload(as:)`` or a `switch` with `as` patterns.
    public let payload: any Event
    /// The Kafka record it came from.
    public let message: KafkaMessage

    init(envelope: EventEnvelope, payload: any Event, message: KafkaMessage) {
        self.envelope = envelope
        self.payload = payload
        self.message = message
    }

    /// The payload as a specific type, or nil if it is another type.
    /// - Parameter type: The expected type.
    public func payload<E: Event>(as type: E.Type) -> E? { payload as? E }

    /// The record key (the event's partition key).
    public var key: String? { message.keyString }
}

/// Reads CloudEvents envelopes (binary or structured mode) and decodes payloads into registered types.
public struct EventDecoder: Sendable {
    /// The types this decoder knows.
    public let registry: EventRegistry
    private let codecs: [String: any EventCodec]
    private let defaultCodec: any EventCodec
    /// The header values most records repeat (event type names, content types), so reading them allocates nothing.
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
        let schemaURIs = registry.eventTypes.compactMap { type in
            registry.schemaVersion(of: type).map { EventEnvelope.dataSchemaURI(type: type, version: $0) }
        }
        self.knownValues = KnownHeaderValues(
            registry.eventTypes + schemaURIs + Array(byType.keys) + [Self.structuredContentType]
        )
    }

    /// Decodes a record into a registered event.
    /// - Parameter message: The record.
    /// - Returns: The event, or why it could not be decoded.
    public func decode(_ message: KafkaMessage) -> Result<DecodedEvent, EventDecodingError> {
        let envelope: EventEnvelope
        let structuredPayload: Data?
        switch Self.readEnvelope(message, knownValues: knownValues) {
        case .success(let read): (envelope, structuredPayload) = read
        case .failure(let error): return .failure(error)
        }
        guard let decode = registry.decoder(for: envelope.type) else {
            return .failure(
                EventDecodingError(
                    .unknownEventType,
                    "event type '\(envelope.type)' is not registered (known: \(registry.eventTypes.joined(separator: ", ")))",
                    message: message, eventType: envelope.type, eventID: envelope.id
                )
            )
        }
        let codec: any EventCodec
        if envelope.dataContentType == nil || envelope.dataContentType == defaultCodec.contentType {
            codec = defaultCodec
        } else {
            let contentType = Self.mediaType(envelope.dataContentType) ?? defaultCodec.contentType
            guard let registered = codecs[contentType] else {
                return .failure(
                    EventDecodingError(
                        .unsupportedContentType, "no codec for content type '\(contentType)'",
                        message: message, eventType: envelope.type, eventID: envelope.id
                    )
                )
            }
            codec = registered
        }
        do {
            // A binary-mode payload is decoded in place from the record's value, without a copy.
            let payload =
                try structuredPayload.map { data in try data.withUnsafeBytes { try decode($0, codec) } }
                ?? message.withUnsafeValue { value in
                    try decode(value ?? UnsafeRawBufferPointer(start: nil, count: 0), codec)
                }
            return .success(DecodedEvent(envelope: envelope, payload: payload, message: message))
        } catch {
            return .failure(
                EventDecodingError(
                    .invalidPayload, Self.describe(error), message: message, eventType: envelope.type,
                    eventID: envelope.id
                )
            )
        }
    }

    static let structuredContentType = "application/cloudevents+json"

    /// Reads the envelope and the payload bytes of a record without decoding the payload.
    /// - Parameter message: The record.
    /// - Returns: The envelope and payload, or why the envelope is invalid.
    public static func readEnvelope(_ message: KafkaMessage) -> Result<(EventEnvelope, Data), EventDecodingError> {
        readEnvelope(message, knownValues: KnownHeaderValues([])).map { envelope, structuredPayload in
            (envelope, structuredPayload ?? message.withUnsafeValue { bytes in bytes.map { Data($0) } ?? Data() })
        }
    }

    /// Reads the envelope; the payload is returned only for a structured-mode record (in binary mode it is the
    /// record's value, which the caller reads in place).
    static func readEnvelope(
        _ message: KafkaMessage, knownValues: KnownHeaderValues
    ) -> Result<(EventEnvelope, Data?), EventDecodingError> {
        // Locals rather than a dictionary: this runs for every consumed event.
        var specVersion: String?
        var id: String?
        var source: String?
        var type: String?
        var time: String?
        var parsedTime: Date?
        var hasTime = false
        var subject: String?
        var dataSchema: String?
        var contentType: String?
        var traceParent: String?
        var traceState: String?
        var correlationID: String?
        var causationID: String?
        var extensions: [String: String] = [:]
        message.forEachRawHeader { name, value in
            guard let value, let field = CloudEventsHeader(name) else { return }
            let bytes = value.assumingMemoryBound(to: UInt8.self)
            if field == .time {
                // Parsed in place; the text is kept only to report a malformed time.
                parsedTime = RFC3339.parse(utf8: bytes)
                time = parsedTime == nil ? String(decoding: bytes, as: UTF8.self) : nil
                hasTime = true
                return
            }
            switch field {
            case .specVersion: specVersion = knownValues.string(bytes)
            case .id: id = String(decoding: bytes, as: UTF8.self)
            case .source: source = String(decoding: bytes, as: UTF8.self)
            case .type: type = knownValues.string(bytes)
            case .time: break
            case .subject: subject = String(decoding: bytes, as: UTF8.self)
            case .dataSchema: dataSchema = knownValues.string(bytes)
            case .contentType: contentType = knownValues.string(bytes)
            case .traceParent: traceParent = String(decoding: bytes, as: UTF8.self)
            case .traceState: traceState = String(decoding: bytes, as: UTF8.self)
            case .correlationID: correlationID = String(decoding: bytes, as: UTF8.self)
            case .causationID: causationID = String(decoding: bytes, as: UTF8.self)
            case .otherExtension:
                extensions[String(decoding: UnsafeBufferPointer(rebasing: name[3...]), as: UTF8.self)] =
                    String(decoding: bytes, as: UTF8.self)
            }
        }
        if let contentType, mediaType(contentType) == structuredContentType {
            var headers: [String: String] = [:]
            headers["traceparent"] = traceParent
            headers["tracestate"] = traceState
            return readStructured(message, extraHeaders: headers).map { ($0, Optional($1)) }
        }
        func missing(_ header: String) -> Result<(EventEnvelope, Data?), EventDecodingError> {
            .failure(
                EventDecodingError(
                    .invalidEnvelope,
                    "missing CloudEvents header '\(header)' (binary mode needs ce_specversion, ce_id, ce_source, ce_type)",
                    message: message, eventType: type, eventID: id
                )
            )
        }
        guard let specVersion else { return missing("ce_specversion") }
        guard specVersion == EventEnvelope.specVersion else {
            return .failure(
                EventDecodingError(
                    .invalidEnvelope, "unsupported CloudEvents spec version '\(specVersion)' (expected 1.0)",
                    message: message, eventType: type, eventID: id
                )
            )
        }
        guard let id, !id.isEmpty else { return missing("ce_id") }
        guard let source, !source.isEmpty else { return missing("ce_source") }
        guard let type, !type.isEmpty else { return missing("ce_type") }
        var envelope = EventEnvelope(id: id, source: source, type: type)
        if hasTime {
            guard let parsedTime else {
                return .failure(
                    EventDecodingError(
                        .invalidEnvelope, "ce_time '\(time ?? "")' is not an RFC 3339 timestamp", message: message,
                        eventType: type, eventID: id
                    )
                )
            }
            envelope.time = parsedTime
        }
        envelope.subject = subject
        envelope.dataSchema = dataSchema
        envelope.dataContentType = contentType
        envelope.traceParent = traceParent
        envelope.traceState = traceState
        envelope.correlationID = correlationID
        envelope.causationID = causationID
        envelope.extensions = extensions
        return .success((envelope, nil))
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
        let essence = contentType.prefix { $0 != ";" }
        let trimmed = essence.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed()
        return String(trimmed).lowercased()
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

/// Header values many records share, kept as ready-made strings: a matching header value is returned without
/// allocating or validating (event type names and content types are the same on most records of a topic).
struct KnownHeaderValues: Sendable {
    private let values: [(bytes: [UInt8], string: String)]

    init(_ strings: [String]) {
        values = strings.map { (Array($0.utf8), $0) }
    }

    /// The known string with these bytes, or a new one.
    func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        for value in values where value.bytes.count == bytes.count {
            let equal = value.bytes.withUnsafeBufferPointer { known in
                guard let knownBase = known.baseAddress, let base = bytes.baseAddress else { return bytes.isEmpty }
                return memcmp(knownBase, base, bytes.count) == 0
            }
            if equal { return value.string }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
