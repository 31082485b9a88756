import DabbaKafka
import Foundation

/// A record's CloudEvents headers (binary content mode) as byte ranges in place: one pass over the headers, no
/// `String` made until the envelope is built, and then only for values that are not known ahead.
///
/// The buffers point into the record's header storage, which lives as long as the record's fetch batch and is not
/// modified once parsed: use a value only while the `KafkaMessage` it was read from is alive (a ``DecodedEvent``
/// keeps both).
struct BinaryModeHeaders {
    typealias Bytes = UnsafeBufferPointer<UInt8>

    var specVersion: Bytes?
    var id: Bytes?
    var source: Bytes?
    var type: Bytes?
    var time: Bytes?
    var subject: Bytes?
    var dataSchema: Bytes?
    var contentType: Bytes?
    var traceParent: Bytes?
    var traceState: Bytes?
    var correlationID: Bytes?
    var causationID: Bytes?
    /// Other `ce_` extension attributes, by name without the prefix (rare: only built when present).
    var extensions: [String: String] = [:]
    /// `ce_time`, once ``problem(_:knownValues:)`` parsed it.
    private var parsedTime: Date?

    /// Headers with only the trace context set (for an envelope read from elsewhere, such as a structured value).
    init(traceParent: Bytes?, traceState: Bytes?) {
        self.traceParent = traceParent
        self.traceState = traceState
    }

    init(_ message: KafkaMessage) {
        message.forEachRawHeader { name, value in
            // A header with a null value carries nothing; a repeated header's last value wins.
            guard let value, let field = CloudEventsHeader(name) else { return }
            let bytes = value.assumingMemoryBound(to: UInt8.self)
            switch field {
            case .specVersion: specVersion = bytes
            case .id: id = bytes
            case .source: source = bytes
            case .type: type = bytes
            case .time: time = bytes
            case .subject: subject = bytes
            case .dataSchema: dataSchema = bytes
            case .contentType: contentType = bytes
            case .traceParent: traceParent = bytes
            case .traceState: traceState = bytes
            case .correlationID: correlationID = bytes
            case .causationID: causationID = bytes
            case .otherExtension:
                extensions[String(decoding: UnsafeBufferPointer(rebasing: name[3...]), as: UTF8.self)] =
                    String(decoding: bytes, as: UTF8.self)
            }
        }
    }

    /// Whether `content-type` says structured mode (`application/cloudevents+json`, any parameters or case).
    var isStructuredMode: Bool {
        guard let contentType else { return false }
        // The common binary-mode value, without making a string.
        if Self.equals(contentType, "application/json") { return false }
        if Self.equals(contentType, "application/cloudevents+json") { return true }
        return EventDecoder.mediaType(String(decoding: contentType, as: UTF8.self)) == EventDecoder.structuredContentType
    }

    /// Why the envelope is invalid in binary mode, or nil: `ce_specversion` must be 1.0, `ce_id`, `ce_source` and
    /// `ce_type` present and non-empty, `ce_time` (when present) an RFC 3339 timestamp. Checked on the bytes.
    mutating func problem(_ message: KafkaMessage, knownValues: KnownHeaderValues) -> EventDecodingError? {
        func invalid(_ reason: String) -> EventDecodingError {
            EventDecodingError(
                .invalidEnvelope, reason, message: message,
                eventType: type.map { knownValues.string($0) },
                eventID: id.map { String(decoding: $0, as: UTF8.self) }
            )
        }
        func missing(_ header: String) -> EventDecodingError {
            invalid("missing CloudEvents header '\(header)' (binary mode needs ce_specversion, ce_id, ce_source, ce_type)")
        }
        guard let specVersion else { return missing("ce_specversion") }
        guard Self.equals(specVersion, "1.0") else {
            return invalid(
                "unsupported CloudEvents spec version '\(String(decoding: specVersion, as: UTF8.self))' (expected 1.0)"
            )
        }
        guard let id, !id.isEmpty else { return missing("ce_id") }
        guard let source, !source.isEmpty else { return missing("ce_source") }
        guard let type, !type.isEmpty else { return missing("ce_type") }
        if let time {
            guard let date = RFC3339.parse(utf8: time) else {
                return invalid("ce_time '\(String(decoding: time, as: UTF8.self))' is not an RFC 3339 timestamp")
            }
            parsedTime = date
        }
        return nil
    }

    /// The envelope of headers that passed ``problem(_:knownValues:)``. Known values come back as shared strings
    /// without allocating.
    func envelope(knownValues: KnownHeaderValues) -> EventEnvelope {
        func text(_ bytes: Bytes?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }
        func known(_ bytes: Bytes?) -> String? { bytes.map { knownValues.string($0) } }
        let idText = text(id) ?? ""
        var envelope = EventEnvelope(
            id: idText, source: text(source) ?? "", type: known(type) ?? "", time: parsedTime
        )
        envelope.subject = text(subject)
        envelope.dataSchema = known(dataSchema)
        envelope.dataContentType = known(contentType)
        envelope.traceParent = text(traceParent)
        envelope.traceState = text(traceState)
        // The first event of a flow is its own correlation: share the id's string rather than making another.
        envelope.correlationID = correlationID.map { bytes in
            id.map { Self.equals(bytes, $0) } == true ? idText : String(decoding: bytes, as: UTF8.self)
        }
        envelope.causationID = text(causationID)
        envelope.extensions = extensions
        return envelope
    }

    /// A literal's bytes, valid for the life of the process.
    static func bytes(of literal: StaticString) -> Bytes {
        Bytes(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
    }

    @inline(__always)
    static func equals(_ bytes: Bytes, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        guard let base = bytes.baseAddress else { return true }
        return memcmp(base, literal.utf8Start, bytes.count) == 0
    }

    @inline(__always)
    static func equals(_ first: Bytes, _ second: Bytes) -> Bool {
        guard first.count == second.count else { return false }
        guard let firstBase = first.baseAddress, let secondBase = second.baseAddress else { return true }
        return memcmp(firstBase, secondBase, first.count) == 0
    }
}
