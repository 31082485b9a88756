internal import CLibPQ
import DabbaInbox

#if canImport(Darwin)
import Darwin
#elseif canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Conversions between ``SQLValue`` and PostgreSQL's text format.
///
/// Parameters are sent as text with an unspecified type (`0`), so the server infers each one's type from where it
/// is used, as it does for a quoted literal: `.integer(5)` fits an `int4`, `bigint` or `numeric` column alike, and
/// `.text("42")` a `text` one. Blobs are sent as `bytea` in hex (`\x…`); `.null` as SQL NULL.
///
/// Results are converted by their column's type: `int2`/`int4`/`int8` → ``SQLValue/integer(_:)``,
/// `float4`/`float8`/`numeric` → ``SQLValue/double(_:)``, `bytea` → ``SQLValue/blob(_:)``, NULL →
/// ``SQLValue/null``, and every other type (`text`, `bool` as `t`/`f`, `timestamptz`, `uuid`, `jsonb`, …) →
/// ``SQLValue/text(_:)`` in PostgreSQL's text format.
enum PostgresValues {
    /// Type OIDs from `pg_type` (fixed since PostgreSQL's first releases).
    enum TypeOID {
        static let bytea: Oid = 17
        static let int8: Oid = 20
        static let int2: Oid = 21
        static let int4: Oid = 23
        static let float4: Oid = 700
        static let float8: Oid = 701
        static let numeric: Oid = 1700
    }

    /// A parameter's type OID (0: inferred by the server) and text, nil for NULL.
    static func encode(_ value: SQLValue) -> (type: Oid, text: String?) {
        switch value {
        case .null: return (0, nil)
        case .integer(let number): return (0, String(number))
        case .double(let number):
            if number.isNaN { return (0, "NaN") }
            if number.isInfinite { return (0, number < 0 ? "-Infinity" : "Infinity") }
            // Swift's description is the shortest text that reads back as the same Double.
            return (0, "\(number)")
        case .text(let text): return (0, text)
        case .blob(let bytes): return (TypeOID.bytea, hex(bytes))
        }
    }

    /// Calls `body` with C arrays of the parameters' types and NUL-terminated texts, valid only during the call.
    static func withEncoded<Result>(
        _ parameters: [SQLValue],
        _ body: (UnsafePointer<Oid>?, UnsafePointer<UnsafePointer<CChar>?>?, UnsafePointer<Int32>?) -> Result
    ) -> Result {
        let encoded = parameters.map(encode)
        let texts: [UnsafeMutablePointer<CChar>?] = encoded.map { $0.text.flatMap { strdup($0) } }
        defer { for text in texts { free(text) } }
        let types = encoded.map(\.type)
        let values = texts.map { $0.map { UnsafePointer($0) } }
        return types.withUnsafeBufferPointer { types in
            values.withUnsafeBufferPointer { values in
                // All parameters in text format: a nil formats array means text for all.
                body(types.baseAddress, values.baseAddress, nil)
            }
        }
    }

    /// Converts one non-NULL result value (text format, NUL-terminated) by its column type.
    static func decode(_ value: UnsafePointer<CChar>, length: Int, type: Oid) -> SQLValue {
        let text = String(decoding: UnsafeRawBufferPointer(start: value, count: length), as: UTF8.self)
        switch type {
        case TypeOID.int2, TypeOID.int4, TypeOID.int8:
            return Int64(text).map(SQLValue.integer) ?? .text(text)
        case TypeOID.float4, TypeOID.float8, TypeOID.numeric:
            return Double(text).map(SQLValue.double) ?? .text(text)
        case TypeOID.bytea:
            var count = 0
            let bytes = value.withMemoryRebound(to: UInt8.self, capacity: length + 1) { PQunescapeBytea($0, &count) }
            guard let bytes else { return .blob([]) }
            defer { PQfreemem(bytes) }
            return .blob(Array(UnsafeBufferPointer(start: bytes, count: count)))
        default:
            return .text(text)
        }
    }

    /// `\x` followed by two lowercase hex digits per byte: `bytea`'s hex input format.
    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
        text.reserveCapacity(2 + bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
