import Foundation
import Synchronization

/// A payload type that ``JSONEventCodec`` writes straight to JSON bytes, without `Codable`'s `Encoder` machinery,
/// to exactly the bytes `JSONEncoder` writes for it (the codec's settings: sorted keys, slashes unescaped, dates as
/// RFC 3339 strings).
///
/// Conform with the `@FastJSON` macro (product `DabbaEventMacros`), which writes ``encode(fastJSON:)`` to write what
/// the synthesized `Encodable` conformance writes: every stored property (or those a nested `CodingKeys` enum lists,
/// under its keys), `nil` optionals left out. Values the writer does not write itself (a `Double`, a string that
/// needs escapes, a type that is not `FastJSONEncodable`) are written by `JSONEncoder` in place, and any error makes
/// the codec encode the whole payload through `JSONEncoder` again, so errors are Foundation's.
public protocol FastJSONEncodable: Encodable {
    /// Writes the value at the writer's position.
    /// - Parameter writer: The writer.
    /// - Throws: Any error makes the codec encode the payload through `JSONEncoder` instead.
    func encode(fastJSON writer: inout FastJSONWriter) throws
}

/// Writes JSON bytes for ``FastJSONEncodable`` conformances, byte for byte as ``JSONEventCodec``'s `JSONEncoder`
/// would.
public struct FastJSONWriter {
    /// The bytes written so far.
    var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(256)
    }

    /// Encodes a whole payload.
    static func encode<T: FastJSONEncodable>(_ value: T) throws -> [UInt8] {
        var writer = FastJSONWriter()
        try value.encode(fastJSON: &writer)
        return writer.bytes
    }

    // MARK: Objects

    /// Writes an object whose members are written by `member`, in the order `JSONEncoder` sorts their keys.
    /// - Parameters:
    ///   - type: The type being written (its key order is worked out once per type).
    ///   - keys: The type's keys, in declaration order (only read the first time).
    ///   - member: Writes member `index`'s value and returns true, or returns false to leave the member out
    ///     (a `nil` optional).
    /// - Throws: What `member` throws, or when a key needs escaping (the payload then goes to `JSONEncoder`).
    public mutating func writeObject<T>(
        _ type: T.Type,
        keys: @autoclosure () -> [String],
        member: (_ index: Int, _ writer: inout FastJSONWriter) throws -> Bool
    ) throws {
        let layout = try FastJSONObjectLayout.of(type, keys: keys)
        bytes.append(UInt8(ascii: "{"))
        var wroteAny = false
        for entry in layout.members {
            let mark = bytes.count
            if wroteAny { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: entry.quotedKey)
            if try member(entry.index, &self) {
                wroteAny = true
            } else {
                bytes.removeSubrange(mark...)
            }
        }
        bytes.append(UInt8(ascii: "}"))
    }

    // MARK: Values

    /// Writes a string: in place when it needs no escaping, else through `JSONEncoder`.
    public mutating func encode(_ value: String) throws {
        var value = value
        let written = value.withUTF8 { utf8 -> Bool in
            for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                return false
            }
            bytes.append(UInt8(ascii: "\""))
            bytes.append(contentsOf: utf8)
            bytes.append(UInt8(ascii: "\""))
            return true
        }
        if !written { try encodeThroughFoundation(value) }
    }

    /// Writes a Boolean.
    public mutating func encode(_ value: Bool) throws {
        bytes.append(contentsOf: value ? Self.trueBytes : Self.falseBytes)
    }

    /// Writes an integer.
    public mutating func encode<Integer: FixedWidthInteger & Encodable>(_ value: Integer) throws {
        if Integer.isSigned, let signed = Int64(exactly: value) {
            writeInteger(magnitude: signed.magnitude, negative: signed < 0)
        } else if let unsigned = UInt64(exactly: value) {
            writeInteger(magnitude: unsigned, negative: false)
        } else {
            try encodeThroughFoundation(value)
        }
    }

    /// Writes an `Int` (the common case, without generic dispatch).
    public mutating func encode(_ value: Int) throws {
        writeInteger(magnitude: UInt64(value.magnitude), negative: value < 0)
    }

    /// Writes an `Int64`.
    public mutating func encode(_ value: Int64) throws {
        writeInteger(magnitude: value.magnitude, negative: value < 0)
    }

    /// Writes a `UInt64`.
    public mutating func encode(_ value: UInt64) throws {
        writeInteger(magnitude: value, negative: false)
    }

    private mutating func writeInteger(magnitude: UInt64, negative: Bool) {
        // At most 20 digits and a sign, written backwards into a small buffer, then appended at once.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 21) { buffer in
            var position = 21
            var rest = magnitude
            repeat {
                let (quotient, digit) = rest.quotientAndRemainder(dividingBy: 10)
                position -= 1
                buffer[position] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: digit)
                rest = quotient
            } while rest > 0
            if negative {
                position -= 1
                buffer[position] = UInt8(ascii: "-")
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[position...]))
        }
    }

    /// Writes a date as the codec does: an RFC 3339 string with milliseconds, UTC.
    public mutating func encode(_ value: Date) throws {
        try encode(RFC3339.format(value))
    }

    /// Writes a value that writes itself.
    public mutating func encode<T: FastJSONEncodable>(_ value: T) throws {
        try value.encode(fastJSON: &self)
    }

    /// Writes an array of values that write themselves.
    public mutating func encode<T: FastJSONEncodable>(_ values: [T]) throws {
        try writeArray(values) { value, writer in try value.encode(fastJSON: &writer) }
    }

    /// Writes an array of strings.
    public mutating func encode(_ values: [String]) throws {
        try writeArray(values) { value, writer in try writer.encode(value) }
    }

    /// Writes an array of integers.
    public mutating func encode<Integer: FixedWidthInteger & Encodable>(_ values: [Integer]) throws {
        try writeArray(values) { value, writer in try writer.encode(value) }
    }

    /// Writes any other value through `JSONEncoder`, in place (its own keys sorted, its dates as RFC 3339 strings).
    public mutating func encode<T: Encodable>(_ value: T) throws {
        try encodeThroughFoundation(value)
    }

    private mutating func writeArray<Element>(
        _ values: [Element], _ write: (Element, inout FastJSONWriter) throws -> Void
    ) throws {
        bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: ",")) }
            try write(value, &self)
        }
        bytes.append(UInt8(ascii: "]"))
    }

    private mutating func encodeThroughFoundation<T: Encodable>(_ value: T) throws {
        bytes.append(contentsOf: try JSONEventCodec.encoder.encode(value))
    }

    private static let trueBytes = Array("true".utf8)
    private static let falseBytes = Array("false".utf8)
}

/// The order in which `JSONEncoder` writes a type's keys, worked out once per type by asking `JSONEncoder` itself,
/// so it matches on every platform (Foundation sorts keys differently on Darwin and Linux).
struct FastJSONObjectLayout: Sendable {
    struct Member: Sendable {
        /// The member's index among the type's keys, in declaration order.
        let index: Int
        /// `"key":`
        let quotedKey: [UInt8]
    }

    /// The members in the order they are written.
    let members: [Member]

    private static let cache = Mutex<[ObjectIdentifier: FastJSONObjectLayout]>([:])

    static func of<T>(_ type: T.Type, keys: () -> [String]) throws -> FastJSONObjectLayout {
        let id = ObjectIdentifier(type)
        if let layout = cache.withLock({ $0[id] }) { return layout }
        let layout = try make(keys: keys())
        cache.withLock { $0[id] = layout }
        return layout
    }

    /// Keys that need escaping are left to `JSONEncoder` (the whole payload goes there).
    private static func make(keys: [String]) throws -> FastJSONObjectLayout {
        var positions: [String: Int] = [:]
        for (index, key) in keys.enumerated() {
            let plain = key.utf8.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }
            guard plain, positions.updateValue(index, forKey: key) == nil else { throw FastJSONWriter.Unsupported() }
        }
        // `JSONEncoder` writes a dictionary's keys in the same order as a keyed container's: read that order back.
        let order = try writtenOrder(try JSONEventCodec.encoder.encode(positions))
        guard order.sorted() == Array(keys.indices) else { throw FastJSONWriter.Unsupported() }
        return FastJSONObjectLayout(
            members: order.map { index in Member(index: index, quotedKey: Array("\"\(keys[index])\":".utf8)) }
        )
    }

    /// The values of `{"key":0,"other":1,…}` in the order written: keys without quotes or backslashes, values
    /// non-negative integers.
    private static func writtenOrder(_ json: Data) throws -> [Int] {
        var order: [Int] = []
        var iterator = json.makeIterator()
        guard iterator.next() == UInt8(ascii: "{") else { throw FastJSONWriter.Unsupported() }
        while true {
            guard iterator.next() == UInt8(ascii: "\"") else { break }
            while let byte = iterator.next(), byte != UInt8(ascii: "\"") {}
            guard iterator.next() == UInt8(ascii: ":") else { throw FastJSONWriter.Unsupported() }
            var value = 0
            var terminator: UInt8?
            while let byte = iterator.next() {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else {
                    terminator = byte
                    break
                }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            order.append(value)
            if terminator == UInt8(ascii: "}") { return order }
            guard terminator == UInt8(ascii: ",") else { throw FastJSONWriter.Unsupported() }
        }
        // `{}`: a type without keys.
        return order
    }
}

extension FastJSONWriter {
    /// What the writer leaves to `JSONEncoder`.
    struct Unsupported: Error {}
}
