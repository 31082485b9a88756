import Foundation

/// Turns event payloads into bytes and back. JSON (``JSONEventCodec``) is the default; a codec for Avro or
/// Protobuf conforms to the same protocol.
public protocol EventCodec: Sendable {
    /// The `content-type` written for payloads of this codec (e.g. `application/json`).
    var contentType: String { get }
    /// Encodes a payload.
    /// - Parameter value: The payload.
    /// - Returns: The bytes.
    /// - Throws: An encoding error.
    func encode<Value: Encodable>(_ value: Value) throws -> [UInt8]
    /// Decodes a payload.
    /// - Parameters:
    ///   - type: The payload type.
    ///   - bytes: The bytes.
    /// - Returns: The payload.
    /// - Throws: A decoding error describing what did not match.
    func decode<Value: Decodable>(_ type: Value.Type, from bytes: Data) throws -> Value
    /// Decodes a payload from bytes the caller keeps alive for the duration of the call (a consumed record's
    /// value, read in place). The default copies the bytes and calls ``decode(_:from:)``; a codec that can read
    /// borrowed bytes implements it to skip the copy.
    /// - Parameters:
    ///   - type: The payload type.
    ///   - bytes: The bytes, valid only during the call.
    /// - Returns: The payload.
    /// - Throws: A decoding error describing what did not match.
    func decode<Value: Decodable>(_ type: Value.Type, borrowing bytes: UnsafeRawBufferPointer) throws -> Value
}

extension EventCodec {
    public func decode<Value: Decodable>(_ type: Value.Type, borrowing bytes: UnsafeRawBufferPointer) throws -> Value {
        try decode(type, from: Data(bytes))
    }
}

/// JSON payloads with a stable date format: RFC 3339 in UTC with milliseconds (`2026-11-21T08:43:10.123Z`).
/// Decoding accepts any RFC 3339 timestamp. Object keys are sorted, so equal events encode to equal bytes.
///
/// Encoding uses a ``FastJSONEncodable`` type's own writer (the `@FastJSON` macro), which writes the same bytes as
/// `JSONEncoder`; any other type, and any payload the writer fails on, goes through `JSONEncoder`.
///
/// Decoding reads the common shape of payloads (objects, arrays, unescaped strings, integers, decimals, booleans,
/// null, RFC 3339 dates) straight from the bytes, and hands anything else to Foundation's `JSONDecoder` (escaped
/// strings, `Data`, `URL`, `Decimal`, ...). A ``FastJSONDecodable`` type (the `@FastJSON` macro) reads itself;
/// any other `Decodable` type goes through a `Decoder` that works on the bytes. Every failure is reported by
/// Foundation's decoder, so error messages name the field path as usual.
public struct JSONEventCodec: EventCodec {
    /// `application/json`.
    public var contentType: String { "application/json" }

    /// Creates the codec.
    public init() {}

    public func encode<Value: Encodable>(_ value: Value) throws -> [UInt8] {
        if let fast = value as? any FastJSONEncodable, let bytes = try? FastJSONWriter.encode(fast) { return bytes }
        return Array(try Self.encoder.encode(value))
    }

    public func decode<Value: Decodable>(_ type: Value.Type, from bytes: Data) throws -> Value {
        try bytes.withUnsafeBytes { try decode(type, borrowing: $0) }
    }

    public func decode<Value: Decodable>(_ type: Value.Type, borrowing bytes: UnsafeRawBufferPointer) throws -> Value {
        if let fast = type as? any FastJSONDecodable.Type {
            do { return try Self.fastJSONDecode(fast, as: type, bytes) } catch {}
        }
        return try Self.decodeCodable(type, bytes)
    }

    /// How this codec decodes payloads of a type, decided once per type rather than per payload: a
    /// ``FastJSONDecodable`` type reads itself straight from the bytes, any other goes through the fast `Decoder`;
    /// either way anything they do not read (and every failure) is decoded again by Foundation's `JSONDecoder`,
    /// whose values and errors are authoritative.
    static func payloadDecoder<Value: Decodable & SendableMetatype>(
        for type: Value.Type
    ) -> @Sendable (UnsafeRawBufferPointer) throws -> Value {
        if let fast = type as? any FastJSONDecodable.Type {
            return fastJSONDecoder(fast, as: type)
        }
        return { bytes in try decodeCodable(Value.self, bytes) }
    }

    private static func fastJSONDecoder<Fast: FastJSONDecodable, Value: Decodable & SendableMetatype>(
        _ fast: Fast.Type, as type: Value.Type
    ) -> @Sendable (UnsafeRawBufferPointer) throws -> Value {
        { bytes in
            do {
                return try fastJSONDecode(Fast.self, as: Value.self, bytes)
            } catch {
                return try decoder.decode(Value.self, from: Data(bytes))
            }
        }
    }

    /// `Fast` is `Value` (it is how `Value` conforms), so the result is returned as it is, without a dynamic cast;
    /// it throws rather than returning an optional, whose metadata unspecialized code would look up every call.
    private static func fastJSONDecode<Fast: FastJSONDecodable, Value>(
        _ fast: Fast.Type, as type: Value.Type, _ bytes: UnsafeRawBufferPointer
    ) throws -> Value {
        guard Fast.self == Value.self else { throw FastJSONDecoder.Unsupported() }
        return unsafeBitCast(try FastJSONReader.decode(Fast.self, from: bytes), to: Value.self)
    }

    private static func decodeCodable<Value: Decodable>(_ type: Value.Type, _ bytes: UnsafeRawBufferPointer) throws -> Value {
        if let fast = fastDecode(type, bytes) { return fast }
        return try decoder.decode(type, from: Data(bytes))
    }

    /// The fast path reads the common shape of payloads straight from the bytes; anything else, and every failure,
    /// is decoded by Foundation's JSONDecoder, so values and error messages are always Foundation's.
    private static func fastDecode<Value: Decodable>(_ type: Value.Type, _ bytes: UnsafeRawBufferPointer) -> Value? {
        try? FastJSONDecoder(bytes: bytes.assumingMemoryBound(to: UInt8.self)).decode(type)
    }

    // JSONEncoder and JSONDecoder are thread-safe once configured (swift-foundation documents them Sendable).
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        return encoder
    }()

    /// Foundation's decoder as the codec configures it (RFC 3339 dates): what every payload the fast paths do not
    /// read goes through, and what they must agree with (the fuzz targets compare them).
    package static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not an RFC 3339 timestamp"
                )
            }
            return date
        }
        return decoder
    }()
}
