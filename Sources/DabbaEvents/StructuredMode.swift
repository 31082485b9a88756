import DabbaCatalog
import DabbaKafka
import Foundation

/// CloudEvents structured content mode (the Kafka protocol binding's `application/cloudevents+json`): the
/// attributes and the payload in one JSON value, one `content-type` header.
///
/// Writing: the attributes in a fixed order, `data` last — the payload as it is when its content type is JSON
/// (`application/json` or `…+json`), else base64 in `data_base64`. W3C trace context stays in the `traceparent` and
/// `tracestate` headers, where tracing instrumentations look for it in either mode.
///
/// Reading: ``envelopeSpans(of:into:)`` finds the attributes and `data` in one pass over the bytes, without building
/// a JSON tree, for the common shape (strings without escapes, `data` holding JSON). Anything else — escapes,
/// `data_base64`, non-string extension values, malformed input — is left to the general reader, whose errors are
/// the ones reported.
enum StructuredMode {
    /// The `content-type` of a structured-mode record.
    static let contentType = "application/cloudevents+json"

    private static let contentTypeHeader = KafkaHeader(name: "content-type", string: contentType)

    /// The record headers of a structured-mode event: its content type and the trace context.
    static func headers(of envelope: EventEnvelope) -> [KafkaHeader] {
        var headers = [contentTypeHeader]
        if let traceParent = envelope.traceParent { headers.append(KafkaHeader(name: "traceparent", string: traceParent)) }
        if let traceState = envelope.traceState { headers.append(KafkaHeader(name: "tracestate", string: traceState)) }
        return headers
    }

    /// The record value of a structured-mode event.
    /// - Parameters:
    ///   - envelope: The attributes (trace context excluded: it travels in headers).
    ///   - payload: The encoded payload, in the envelope's data content type.
    static func value(of envelope: EventEnvelope, payload: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(320 + payload.count)
        out.append(contentsOf: #"{"specversion":"1.0""#.utf8)
        func member(_ name: StaticString, _ value: String?) {
            guard let value else { return }
            out.append(UInt8(ascii: ","))
            appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(value, to: &out)
        }
        member("id", envelope.id)
        member("source", envelope.source)
        member("type", envelope.type)
        if let time = envelope.time {
            out.append(contentsOf: #","time":""#.utf8)
            RFC3339.append(time, to: &out)
            out.append(UInt8(ascii: "\""))
        }
        member("subject", envelope.subject)
        member("datacontenttype", envelope.dataContentType)
        member("dataschema", envelope.dataSchema)
        member("correlationid", envelope.correlationID)
        member("causationid", envelope.causationID)
        for name in envelope.extensions.keys.sorted() {
            guard let value = envelope.extensions[name] else { continue }
            out.append(UInt8(ascii: ","))
            appendString(name, to: &out)
            out.append(UInt8(ascii: ":"))
            appendString(value, to: &out)
        }
        if !payload.isEmpty {
            if isJSON(envelope.dataContentType) {
                out.append(contentsOf: #","data":"#.utf8)
                out.append(contentsOf: payload)
            } else {
                out.append(contentsOf: #","data_base64":""#.utf8)
                out.append(contentsOf: Data(payload).base64EncodedData())
                out.append(UInt8(ascii: "\""))
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// Whether a data content type is JSON (absent means JSON, as CloudEvents' JSON format says).
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType, contentType != "application/json" else { return true }
        guard let mediaType = EventDecoder.mediaType(contentType) else { return true }
        return mediaType == "application/json" || mediaType.hasSuffix("+json")
    }

    private static func appendString(_ text: StaticString, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        text.withUTF8Buffer { out.append(contentsOf: $0) }
        out.append(UInt8(ascii: "\""))
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)

    /// Appends a JSON string: quotes, backslashes and control characters escaped, everything else as UTF-8.
    static func appendString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { utf8 in
            var start = 0
            for (index, byte) in utf8.enumerated() where byte < 0x20 || byte == 0x22 || byte == 0x5C {
                out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start..<index]))
                switch byte {
                case 0x22: out.append(contentsOf: #"\""#.utf8)
                case 0x5C: out.append(contentsOf: #"\\"#.utf8)
                case 0x0A: out.append(contentsOf: #"\n"#.utf8)
                case 0x0D: out.append(contentsOf: #"\r"#.utf8)
                case 0x09: out.append(contentsOf: #"\t"#.utf8)
                default:
                    out.append(contentsOf: #"\u00"#.utf8)
                    out.append(hexDigits[Int(byte >> 4)])
                    out.append(hexDigits[Int(byte & 0xF)])
                }
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    // MARK: Reading

    /// Finds the attributes and the `data` of a structured-mode value in place, filling `headers`' attribute fields
    /// with the string values' bytes (as binary mode's headers would hold them; its trace context from the record's
    /// headers stays unless the value has its own).
    /// - Returns: The bytes of `data` (empty when absent), or nil when the value is not of the common shape (the
    ///   general reader then decides, and names what is wrong).
    static func envelopeSpans(
        of value: UnsafeRawBufferPointer, into headers: inout BinaryModeHeaders
    ) -> UnsafeRawBufferPointer? {
        guard let base = value.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return nil }
        var scanner = Scanner(base: base, count: value.count)
        // Only the trace context may come from the record's headers; every attribute comes from the value.
        headers = BinaryModeHeaders(traceParent: headers.traceParent, traceState: headers.traceState)
        var data = UnsafeRawBufferPointer(start: nil, count: 0)
        guard scanner.skipSpace(), scanner.take(UInt8(ascii: "{")) else { return nil }
        guard scanner.skipSpace() else { return nil }
        if scanner.peek == UInt8(ascii: "}") {
            scanner.position += 1
        } else {
            while true {
                guard scanner.skipSpace(), let name = scanner.string(), scanner.skipSpace(),
                    scanner.take(UInt8(ascii: ":")), scanner.skipSpace()
                else { return nil }
                let nameBuffer = UnsafeBufferPointer(start: base + name.lowerBound, count: name.count)
                if equals(nameBuffer, "data") {
                    let start = scanner.position
                    guard scanner.skipValue() else { return nil }
                    data = UnsafeRawBufferPointer(start: base + start, count: scanner.position - start)
                } else {
                    // Every other member the common shape holds is a string without escapes.
                    guard let text = scanner.string() else { return nil }
                    let bytes = UnsafeBufferPointer(start: base + text.lowerBound, count: text.count)
                    guard assign(bytes, to: nameBuffer, in: &headers) else { return nil }
                }
                guard scanner.skipSpace() else { return nil }
                if scanner.take(UInt8(ascii: ",")) { continue }
                guard scanner.take(UInt8(ascii: "}")) else { return nil }
                break
            }
        }
        guard scanner.skipSpace(), scanner.position == scanner.count else { return nil }
        // Data that is a JSON string is the payload's text only for non-JSON content: the general reader decides.
        if data.first == UInt8(ascii: "\"") { return nil }
        return data
    }

    /// Puts a string attribute where binary mode's header of the same meaning goes; false for members the fast path
    /// leaves to the general reader.
    private static func assign(
        _ value: UnsafeBufferPointer<UInt8>, to name: UnsafeBufferPointer<UInt8>, in headers: inout BinaryModeHeaders
    ) -> Bool {
        switch name.count {
        case 2 where equals(name, "id"): headers.id = value
        case 4 where equals(name, "type"): headers.type = value
        case 4 where equals(name, "time"): headers.time = value
        case 6 where equals(name, "source"): headers.source = value
        case 7 where equals(name, "subject"): headers.subject = value
        case 10 where equals(name, "dataschema"): headers.dataSchema = value
        case 10 where equals(name, "tracestate"): headers.traceState = value
        case 11 where equals(name, "specversion"): headers.specVersion = value
        case 11 where equals(name, "traceparent"): headers.traceParent = value
        case 11 where equals(name, "causationid"): headers.causationID = value
        case 13 where equals(name, "correlationid"): headers.correlationID = value
        case 15 where equals(name, "datacontenttype"): headers.contentType = value
        case 11 where equals(name, "data_base64"): return false
        default:
            headers.extensions[String(decoding: name, as: UTF8.self)] = String(decoding: value, as: UTF8.self)
        }
        return true
    }

    private static func equals(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        BinaryModeHeaders.equals(bytes, literal)
    }

    /// A forward-only reader of JSON bytes.
    private struct Scanner {
        let base: UnsafePointer<UInt8>
        let count: Int
        var position = 0

        var peek: UInt8? { position < count ? base[position] : nil }

        /// Skips white space; false never (kept as a Bool so calls chain in guards).
        mutating func skipSpace() -> Bool {
            while position < count {
                switch base[position] {
                case 0x20, 0x09, 0x0A, 0x0D: position += 1
                default: return true
                }
            }
            return true
        }

        mutating func take(_ byte: UInt8) -> Bool {
            guard position < count, base[position] == byte else { return false }
            position += 1
            return true
        }

        /// A string without escapes: the range of its contents (quotes excluded), or nil.
        mutating func string() -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = position
            while position < count {
                let byte = base[position]
                if byte == UInt8(ascii: "\"") {
                    position += 1
                    return start..<(position - 1)
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                position += 1
            }
            return nil
        }

        /// Skips one JSON value (strings with escapes included); its contents are checked by the payload's decoder.
        mutating func skipValue() -> Bool {
            var depth = 0
            repeat {
                guard position < count else { return false }
                switch base[position] {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                    position += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard depth > 0 else { return false }
                    depth -= 1
                    position += 1
                case UInt8(ascii: "\""):
                    position += 1
                    while position < count, base[position] != UInt8(ascii: "\"") {
                        position += base[position] == UInt8(ascii: "\\") ? 2 : 1
                    }
                    guard position < count else { return false }
                    position += 1
                case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: ":"):
                    // At depth 0 the value itself is missing.
                    guard depth > 0 else { return false }
                    position += 1
                default:
                    // A number, true, false or null.
                    while position < count {
                        switch base[position] {
                        case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D:
                            break
                        default:
                            position += 1
                            continue
                        }
                        break
                    }
                }
            } while depth > 0
            return true
        }
    }
}

extension EventDecoder {
    /// Decodes an encoded payload as it arrives in a record written in `contentMode`: the record is made as
    /// ``EventProducer`` writes it (envelope, headers or structured value) and read back as consumers read it. For
    /// checks that a catalog's examples survive the whole trip, such as contract checks.
    /// - Parameters:
    ///   - payload: The encoded payload.
    ///   - eventType: The event type.
    ///   - version: The schema version written in `ce_dataschema`.
    ///   - contentType: The payload's media type.
    ///   - contentMode: The content mode of the record.
    /// - Returns: The decoded event, or why it could not be decoded.
    public func decode(
        payload: [UInt8], eventType: String, version: Int, contentType: String = "application/json",
        contentMode: EventContentMode
    ) -> Result<DecodedEvent, EventDecodingError> {
        let id = EventID.make()
        var envelope = EventEnvelope(id: id, source: "/dabba-contract-check", type: eventType, time: Date())
        envelope.dataContentType = contentType
        envelope.dataSchema = EventEnvelope.dataSchemaURI(type: eventType, version: version)
        envelope.correlationID = id
        let headers: [KafkaHeader]
        var value = payload
        switch contentMode {
        case .binary:
            headers = envelope.binaryHeaders
        case .structured:
            headers = StructuredMode.headers(of: envelope)
            value = StructuredMode.value(of: envelope, payload: payload)
        }
        return decode(KafkaMessage.inMemory(topic: "", value: value, headers: headers))
    }
}
