import Foundation

/// A payload type that ``JSONEventCodec`` reads straight from the JSON bytes, without `Codable`'s `Decoder`
/// machinery: no containers, no coding keys, no dynamic dispatch per field.
///
/// Conform with the `@FastJSON` macro (product `DabbaEventMacros`), which writes ``init(fastJSON:)`` to read exactly
/// what the synthesized `Decodable` conformance reads (the same keys, `CodingKeys` included, optionals absent or
/// `null`), so the type keeps its `Codable` conformance and decodes to the same value either way:
///
/// ```swift
/// import DabbaEventMacros
///
/// @FastJSON
/// struct OrderPlaced: Event {
///     static let eventType = "food.order.placed"
///     var orderID: String
///     var total: Int
///     var note: String?
///     var partitionKey: String? { orderID }
/// }
/// ```
///
/// The fast path only ever succeeds where Foundation's `JSONDecoder` would succeed with the same value: anything it
/// does not read itself (an escaped string, a number with a fraction where an integer is expected, a duplicate or
/// missing key, invalid JSON) makes the codec decode the payload again through `Codable`, whose errors name the field.
/// Nested types read their own way: a `FastJSONDecodable` one straight from the bytes, any other `Decodable` one
/// through `Codable`.
///
/// Hand-written conformances are possible: read an object with ``FastJSONReader/beginObject()`` and
/// ``FastJSONReader/nextKey()``, each value with a `decode` method, and throw ``FastJSONReader/unsupported()`` for
/// anything else (a missing key, a repeated one).
public protocol FastJSONDecodable: Decodable, SendableMetatype {
    /// Reads the value at the reader's position, leaving the reader after it.
    /// - Parameter reader: The reader, positioned at the value.
    /// - Throws: Any error makes the codec decode the payload through `Codable` instead.
    init(fastJSON reader: inout FastJSONReader) throws
}

/// Reads JSON values from bytes for ``FastJSONDecodable`` conformances. It only reads what it can read exactly as
/// Foundation's `JSONDecoder` would; everything else throws, which sends the payload to the `Codable` path.
public struct FastJSONReader {
    let input: FastJSONInput
    /// The position of the next value (or key) to read.
    var position: Int
    /// Made when a nested type decodes through `Codable`.
    private var context: FastJSONContext?
    /// How many objects and arrays are open: a recursive type on deeply nested input stops at
    /// ``FastJSONInput/maximumDepth`` (and goes to Foundation) rather than exhausting the stack.
    private var depth = 0

    init(input: FastJSONInput, position: Int) {
        self.input = input
        self.position = position
    }

    /// Decodes a whole payload: one value, with nothing but whitespace around it.
    /// - Parameters:
    ///   - type: The type.
    ///   - bytes: The payload.
    /// - Returns: The value.
    /// - Throws: When the payload is outside what the fast path reads (decode it through `Codable` then).
    public static func decode<T: FastJSONDecodable>(_ type: T.Type, from bytes: UnsafeRawBufferPointer) throws -> T {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { throw FastJSONDecoder.Unsupported() }
        let input = FastJSONInput(base: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        var reader = FastJSONReader(input: input, position: input.skipWhitespace(0))
        let value = try T(fastJSON: &reader)
        guard input.skipWhitespace(reader.position) == input.count else { throw FastJSONDecoder.Unsupported() }
        return value
    }

    /// The error that sends a payload to the `Codable` path (for hand-written conformances: a missing or repeated
    /// key, a value of another shape).
    public static func unsupported() -> any Error { FastJSONDecoder.Unsupported() }

    // MARK: Objects

    /// Enters the object at the current position.
    /// - Throws: When the value is not an object.
    public mutating func beginObject() throws {
        guard depth < FastJSONInput.maximumDepth else { throw FastJSONDecoder.Unsupported() }
        try input.expect(UInt8(ascii: "{"), at: &position)
        depth += 1
        position = input.skipWhitespace(position)
        objectStarted = true
    }

    /// Whether the next ``nextKey()`` is the object's first (no comma before it).
    private var objectStarted = false

    /// The next member's key, leaving the reader at its value (read it, or ``skipValue()``); nil after the
    /// object's closing brace.
    /// - Throws: When the object is malformed or a key has escapes.
    public mutating func nextKey() throws -> FastJSONKey? {
        guard position < input.count else { throw FastJSONDecoder.Unsupported() }
        if objectStarted {
            objectStarted = false
            if input[position] == UInt8(ascii: "}") {
                position += 1
                depth -= 1
                return nil
            }
        } else {
            position = input.skipWhitespace(position)
            guard position < input.count else { throw FastJSONDecoder.Unsupported() }
            if input[position] == UInt8(ascii: "}") {
                position += 1
                depth -= 1
                return nil
            }
            try input.expect(UInt8(ascii: ","), at: &position)
            position = input.skipWhitespace(position)
        }
        let key = try input.scanString(at: &position)
        position = input.skipWhitespace(position)
        try input.expect(UInt8(ascii: ":"), at: &position)
        position = input.skipWhitespace(position)
        return FastJSONKey(bytes: UnsafeBufferPointer(start: input.base + key.lowerBound, count: key.count))
    }

    /// Skips the value at the current position (checking it is valid JSON the fast path could read).
    public mutating func skipValue() throws {
        try input.skipValue(at: &position)
    }

    /// Whether the value at the current position is `null`.
    public var isNull: Bool { input.isNull(at: position) }

    // MARK: Scalars

    /// Reads a string without escapes.
    public mutating func decode(_ type: String.Type) throws -> String {
        try input.string(advancing: &position)
    }

    /// Reads an integer exactly.
    public mutating func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    /// Reads an integer exactly.
    public mutating func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    /// Reads an integer exactly.
    public mutating func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    /// Reads an integer exactly.
    public mutating func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    /// Reads an integer exactly.
    public mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

    private mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        try input.integer(T.self, advancing: &position)
    }

    /// Reads `true` or `false`.
    public mutating func decode(_ type: Bool.Type) throws -> Bool {
        let value = try input.bool(at: position)
        position += value ? 4 : 5
        return value
    }

    /// Reads a number.
    public mutating func decode(_ type: Double.Type) throws -> Double {
        try input.double(advancing: &position)
    }

    /// Reads an RFC 3339 timestamp.
    public mutating func decode(_ type: Date.Type) throws -> Date {
        try input.date(advancing: &position)
    }

    // MARK: Other types

    /// Reads a value of a type that reads itself straight from the bytes.
    public mutating func decode<T: FastJSONDecodable>(_ type: T.Type) throws -> T {
        try T(fastJSON: &self)
    }

    /// Reads a value of any `Decodable` type: scalars and ``FastJSONDecodable`` types straight from the bytes,
    /// types with a Foundation-specific JSON form (`Data`, `URL`, `Decimal`, `Float`, narrow integers) not at all
    /// (they throw, and the payload goes to `Codable`), anything else through its `init(from:)`.
    public mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if let special = try input.readSpecial(type, at: position) {
            try input.skipValue(at: &position)
            return special
        }
        if let fast = type as? any FastJSONDecodable.Type {
            return try decodeFast(fast, as: type)
        }
        let context = self.context ?? FastJSONContext.make(input: input, topLevel: -1)
        self.context = context
        let value = try T(from: FastValueDecoder(context: context, position: position))
        try input.skipValue(at: &position)
        return value
    }

    mutating func decodeFast<F: FastJSONDecodable, T>(_ fast: F.Type, as type: T.Type) throws -> T {
        guard let value = try F(fastJSON: &self) as? T else { throw FastJSONDecoder.Unsupported() }
        return value
    }

    /// Reads an array whose elements read themselves straight from the bytes.
    public mutating func decode<Element: FastJSONDecodable>(_ type: [Element].Type) throws -> [Element] {
        try array { reader in try Element(fastJSON: &reader) }
    }

    /// Reads an array of any `Decodable` elements (see ``decode(_:)-(T.Type)``).
    public mutating func decode<Element: Decodable>(_ type: [Element].Type) throws -> [Element] {
        try array { reader in try reader.decode(Element.self) }
    }

    private mutating func array<Element>(_ element: (inout FastJSONReader) throws -> Element) throws -> [Element] {
        guard depth < FastJSONInput.maximumDepth else { throw FastJSONDecoder.Unsupported() }
        try input.expect(UInt8(ascii: "["), at: &position)
        depth += 1
        defer { depth -= 1 }
        position = input.skipWhitespace(position)
        var elements: [Element] = []
        guard position < input.count else { throw FastJSONDecoder.Unsupported() }
        if input[position] == UInt8(ascii: "]") {
            position += 1
            return elements
        }
        while true {
            elements.append(try element(&self))
            position = input.skipWhitespace(position)
            guard position < input.count else { throw FastJSONDecoder.Unsupported() }
            if input[position] == UInt8(ascii: "]") {
                position += 1
                return elements
            }
            try input.expect(UInt8(ascii: ","), at: &position)
            position = input.skipWhitespace(position)
        }
    }

    /// Steps over a `null` at the position; false (and nothing read) for any other value.
    private mutating func skipNull() -> Bool {
        guard input.isNull(at: position) else { return false }
        position += 4
        return true
    }

    /// Reads an optional value: nil for `null` (an absent key is the conformance's business).
    public mutating func decodeIfPresent<T: Decodable>(_ type: T.Type) throws -> T? {
        if skipNull() { return nil }
        return try decode(type)
    }

    /// Reads an optional string: nil for `null`.
    public mutating func decodeIfPresent(_ type: String.Type) throws -> String? {
        if skipNull() { return nil }
        return try decode(type)
    }

    /// Reads an optional integer: nil for `null`.
    public mutating func decodeIfPresent(_ type: Int.Type) throws -> Int? {
        if skipNull() { return nil }
        return try decode(type)
    }

    /// Reads an optional Boolean: nil for `null`.
    public mutating func decodeIfPresent(_ type: Bool.Type) throws -> Bool? {
        if skipNull() { return nil }
        return try decode(type)
    }

    /// Reads an optional value of a type that reads itself: nil for `null`.
    public mutating func decodeIfPresent<T: FastJSONDecodable>(_ type: T.Type) throws -> T? {
        if skipNull() { return nil }
        return try T(fastJSON: &self)
    }

    /// The value of a member read once: a repeated key throws (which occurrence wins is Foundation's business).
    /// - Parameters:
    ///   - seen: The conformance's record of the keys read so far.
    ///   - index: This member's index among the type's keys.
    public static func markSeen(_ seen: inout FastJSONSeenKeys, _ index: Int) throws {
        guard seen.insert(index) else { throw FastJSONDecoder.Unsupported() }
    }

    /// A required member's value, or the error that sends the payload to `Codable` (which names the missing key).
    public static func required<T>(_ value: T?) throws -> T {
        guard let value else { throw FastJSONDecoder.Unsupported() }
        return value
    }
}

/// An object member's key, as bytes in the payload; compare it with string literals in a `switch`.
public struct FastJSONKey {
    let bytes: UnsafeBufferPointer<UInt8>

    /// Whether the key is exactly this literal.
    @inline(__always)
    public static func ~= (pattern: StaticString, key: FastJSONKey) -> Bool {
        guard pattern.utf8CodeUnitCount == key.bytes.count else { return false }
        guard let base = key.bytes.baseAddress else { return true }
        return memcmp(pattern.utf8Start, base, key.bytes.count) == 0
    }

    /// The key as a string.
    public var string: String { String(decoding: bytes, as: UTF8.self) }
}

/// Which of a type's keys a ``FastJSONDecodable`` conformance has read, to refuse repeated keys.
public struct FastJSONSeenKeys {
    private var low: UInt64 = 0
    private var high: Set<Int> = []

    /// No key seen yet.
    public init() {}

    /// Records key `index`; false if it was seen before.
    mutating func insert(_ index: Int) -> Bool {
        if index < 64 {
            let bit: UInt64 = 1 << UInt64(index)
            guard low & bit == 0 else { return false }
            low |= bit
            return true
        }
        return high.insert(index).inserted
    }
}

/// Where generated code keeps a member's value until the object is read. Its type comes from a closure reading the
/// property, so generated code never spells a property's type (which a nested type's extension might not resolve).
@frozen
public struct FastJSONSlot<Value> {
    /// The value, once read.
    public var value: Value?

    /// An empty slot for the type of the property `property` reads (the closure is never called).
    @inlinable
    public init<Root>(of property: (Root) -> Value) {
        value = nil
    }

    /// The value's type, to pick the reader's method at compile time.
    @inlinable
    public var type: Value.Type { Value.self }
}

extension FastJSONSlot where Value: FastJSONOptional {
    /// The type an optional property wraps.
    @inlinable
    public var wrappedType: Value.Wrapped.Type { Value.Wrapped.self }
}

/// `Optional`, for ``FastJSONSlot/wrappedType``.
public protocol FastJSONOptional {
    /// The wrapped type.
    associatedtype Wrapped
}

extension Optional: FastJSONOptional {}
