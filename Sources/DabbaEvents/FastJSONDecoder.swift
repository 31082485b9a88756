import Foundation

/// A `Decoder` that reads the common, simple shape of JSON straight from bytes, without building a document first:
/// objects, arrays, strings without escapes, integers, decimals, booleans and null.
///
/// It is the fast path of ``JSONEventCodec``: anything outside that subset (an escaped string, a number it cannot
/// read exactly, a duplicate key, invalid JSON) and any error at all, including a type's own validation error,
/// makes the codec decode the payload again with Foundation's `JSONDecoder`, so results and error messages are
/// always Foundation's. The decoder only ever succeeds where Foundation would succeed with the same value.
/// `codingPath` is always empty on this path (errors are reported by the Foundation pass).
final class FastJSONDecoder {
    /// Thrown when the input or the requested type is outside the fast subset, or is invalid.
    struct Unsupported: Error {}

    let bytes: UnsafeBufferPointer<UInt8>
    let dateDecoding: (String) -> Date?
    /// Every keyed container's members, three integers each (key start, key end, value start), in one growing
    /// buffer: containers refer to their slice, so a payload's objects cost one allocation between them.
    private(set) var members: [Int] = []

    init(bytes: UnsafeBufferPointer<UInt8>, dateDecoding: @escaping (String) -> Date?) {
        self.bytes = bytes
        self.dateDecoding = dateDecoding
        members.reserveCapacity(48)
    }

    /// Scans the object at `position` and records its members; returns where they are in ``members``.
    func scanMembers(at position: inout Int) throws -> Range<Int> {
        let first = members.count
        try scanObject(at: &position) { key, value in
            // A repeated key is outside the subset (which occurrence wins is Foundation's business).
            var index = first
            while index < members.count {
                if bytesEqual(members[index]..<members[index + 1], key) { throw Unsupported() }
                index += 3
            }
            members.append(key.lowerBound)
            members.append(key.upperBound)
            members.append(value)
        }
        return first..<members.count
    }

    /// Whether two ranges of the input hold the same bytes.
    @inline(__always)
    func bytesEqual(_ first: Range<Int>, _ second: Range<Int>) -> Bool {
        guard first.count == second.count else { return false }
        guard let base = bytes.baseAddress else { return first.isEmpty }
        return memcmp(base + first.lowerBound, base + second.lowerBound, first.count) == 0
    }

    /// Where the value of member `name` starts, among the members at `slots` of ``members``.
    func valueStart(named name: String, in slots: Range<Int>) -> Int? {
        var name = name
        return name.withUTF8 { key -> Int? in
            guard let base = bytes.baseAddress else { return nil }
            var index = slots.lowerBound
            while index < slots.upperBound {
                let start = members[index]
                let length = members[index + 1] - start
                if length == key.count,
                    length == 0 || key.baseAddress.map({ memcmp(base + start, $0, length) == 0 }) == true
                {
                    return members[index + 2]
                }
                index += 3
            }
            return nil
        }
    }

    /// The key names of the members at `slots`.
    func keyNames(in slots: Range<Int>) -> [String] {
        stride(from: slots.lowerBound, to: slots.upperBound, by: 3).map { index in
            String(decoding: UnsafeBufferPointer(rebasing: bytes[members[index]..<members[index + 1]]), as: UTF8.self)
        }
    }

    /// Decodes the whole input as one value.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        var position = skipWhitespace(0)
        let value = try decodeValue(type, at: &position)
        guard skipWhitespace(position) == bytes.count else { throw Unsupported() }
        return value
    }

    // MARK: Scanning

    @inline(__always)
    func skipWhitespace(_ start: Int) -> Int {
        var position = start
        while position < bytes.count {
            switch bytes[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return position
            }
        }
        return position
    }

    @inline(__always)
    func expect(_ byte: UInt8, at position: inout Int) throws {
        guard position < bytes.count, bytes[position] == byte else { throw Unsupported() }
        position += 1
    }

    /// The byte range of a string's contents (after the opening quote); the position ends after the closing quote.
    /// Strings with escapes or control characters are outside the subset.
    func scanString(at position: inout Int) throws -> Range<Int> {
        try expect(UInt8(ascii: "\""), at: &position)
        let start = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                return start..<(position - 1)
            }
            guard byte != UInt8(ascii: "\\"), byte >= 0x20 else { throw Unsupported() }
            position += 1
        }
        throw Unsupported()
    }

    /// Skips any value, checking only what the fast path can read later.
    func skipValue(at position: inout Int) throws {
        guard position < bytes.count else { throw Unsupported() }
        switch bytes[position] {
        case UInt8(ascii: "\""):
            _ = try scanString(at: &position)
        case UInt8(ascii: "{"): try scanObject(at: &position) { _, _ in }
        case UInt8(ascii: "["): try scanArray(at: &position) { _ in }
        case UInt8(ascii: "t"): try literal("true", at: &position)
        case UInt8(ascii: "f"): try literal("false", at: &position)
        case UInt8(ascii: "n"): try literal("null", at: &position)
        default:
            _ = try scanNumber(at: &position)
        }
    }

    /// Walks an object: `member` sees each key's byte range and where its value starts; the value is then skipped.
    func scanObject(at position: inout Int, _ member: (_ key: Range<Int>, _ value: Int) throws -> Void) throws {
        try expect(UInt8(ascii: "{"), at: &position)
        position = skipWhitespace(position)
        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            let key = try scanString(at: &position)
            position = skipWhitespace(position)
            try expect(UInt8(ascii: ":"), at: &position)
            position = skipWhitespace(position)
            try member(key, position)
            try skipValue(at: &position)
            guard try nextItem(at: &position, closedBy: UInt8(ascii: "}")) else { return }
        }
    }

    /// Walks an array: `element` sees where each element starts; the element is then skipped.
    func scanArray(at position: inout Int, _ element: (_ start: Int) throws -> Void) throws {
        try expect(UInt8(ascii: "["), at: &position)
        position = skipWhitespace(position)
        if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            try element(position)
            try skipValue(at: &position)
            guard try nextItem(at: &position, closedBy: UInt8(ascii: "]")) else { return }
        }
    }

    /// After an item: true at a comma (moved past it), false at the closing bracket (moved past it).
    private func nextItem(at position: inout Int, closedBy closing: UInt8) throws -> Bool {
        position = skipWhitespace(position)
        guard position < bytes.count else { throw Unsupported() }
        if bytes[position] == UInt8(ascii: ",") {
            position = skipWhitespace(position + 1)
            return true
        }
        try expect(closing, at: &position)
        return false
    }

    func literal(_ word: StaticString, at position: inout Int) throws {
        let count = word.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw Unsupported() }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[position + $0] == expected[$0] }
        }
        guard matches else { throw Unsupported() }
        position += count
    }

    func isNull(at position: Int) -> Bool {
        position + 4 <= bytes.count && bytes[position] == UInt8(ascii: "n") && bytes[position + 1] == UInt8(ascii: "u")
            && bytes[position + 2] == UInt8(ascii: "l") && bytes[position + 3] == UInt8(ascii: "l")
    }

    /// A JSON number's range and whether it is a plain integer (no fraction, no exponent). Leading zeros and other
    /// invalid forms are outside the subset.
    func scanNumber(at position: inout Int) throws -> (range: Range<Int>, isInteger: Bool) {
        let start = position
        if position < bytes.count, bytes[position] == UInt8(ascii: "-") { position += 1 }
        let digitsStart = position
        while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
        let integerDigits = position - digitsStart
        guard integerDigits > 0, integerDigits == 1 || bytes[digitsStart] != 0x30 else { throw Unsupported() }
        var isInteger = true
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            let fractionStart = position
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            guard position > fractionStart else { throw Unsupported() }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            let exponentStart = position
            while position < bytes.count, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            guard position > exponentStart else { throw Unsupported() }
        }
        return (start..<position, isInteger)
    }

    // MARK: Values

    func string(at position: inout Int) throws -> String {
        let range = try scanString(at: &position)
        guard let text = String(validating: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self) else {
            throw Unsupported()
        }
        return text
    }

    func bool(at position: inout Int) throws -> Bool {
        guard position < bytes.count else { throw Unsupported() }
        if bytes[position] == UInt8(ascii: "t") {
            try literal("true", at: &position)
            return true
        }
        try literal("false", at: &position)
        return false
    }

    /// An integer of any fixed width, exactly; a fraction, an exponent or an overflow is outside the subset.
    func integer<T: FixedWidthInteger>(_ type: T.Type, at position: inout Int) throws -> T {
        let (range, isInteger) = try scanNumber(at: &position)
        guard isInteger else { throw Unsupported() }
        var index = range.lowerBound
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative {
            guard T.isSigned else { throw Unsupported() }
            index += 1
        }
        var value: T = 0
        while index < range.upperBound {
            let digit = T(bytes[index] - 0x30)
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) =
                negative ? shifted.subtractingReportingOverflow(digit) : shifted.addingReportingOverflow(digit)
            guard !overflow1, !overflow2 else { throw Unsupported() }
            value = next
            index += 1
        }
        return value
    }

    func double(at position: inout Int) throws -> Double {
        let (range, _) = try scanNumber(at: &position)
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw Unsupported() }
        return value
    }

    func cast<T>(_ value: Any) throws -> T {
        guard let typed = value as? T else { throw Unsupported() }
        return typed
    }

    func decodeValue<T: Decodable>(_ type: T.Type, at position: inout Int) throws -> T {
        // The types Foundation's JSONDecoder treats specially, and the scalars, without going through init(from:);
        // one conformance check instead of a comparison per type.
        if let special = type as? any FastJSONSpecialValue.Type {
            return try cast(special.read(from: self, at: &position))
        }
        let nested = FastValueDecoder(parent: self, position: position)
        let value = try T(from: nested)
        // A type that read no container consumed nothing: leave it to Foundation.
        guard let end = nested.end else { throw Unsupported() }
        position = end
        return value
    }
}

/// A type the fast path reads itself (scalars, dates) or leaves to Foundation (types with a Foundation-specific
/// JSON representation, and narrow numbers whose range checks are Foundation's).
protocol FastJSONSpecialValue {
    static func read(from decoder: FastJSONDecoder, at position: inout Int) throws -> Self
}

extension String: FastJSONSpecialValue {
    static func read(from decoder: FastJSONDecoder, at position: inout Int) throws -> String {
        try decoder.string(at: &position)
    }
}

extension Bool: FastJSONSpecialValue {
    static func read(from decoder: FastJSONDecoder, at position: inout Int) throws -> Bool {
        try decoder.bool(at: &position)
    }
}

extension Double: FastJSONSpecialValue {
    static func read(from decoder: FastJSONDecoder, at position: inout Int) throws -> Double {
        try decoder.double(at: &position)
    }
}

extension Date: FastJSONSpecialValue {
    static func read(from decoder: FastJSONDecoder, at position: inout Int) throws -> Date {
        guard let date = decoder.dateDecoding(try decoder.string(at: &position)) else {
            throw FastJSONDecoder.Unsupported()
        }
        return date
    }
}

/// Integers read exactly.
protocol FastJSONExactInteger: FastJSONSpecialValue, FixedWidthInteger {}

extension FastJSONExactInteger {
    static func read(from decoder: FastJSONDecoder, at position: inout Int) throws -> Self {
        try decoder.integer(Self.self, at: &position)
    }
}

extension Int: FastJSONExactInteger {}
extension Int64: FastJSONExactInteger {}
extension Int32: FastJSONExactInteger {}
extension UInt: FastJSONExactInteger {}
extension UInt64: FastJSONExactInteger {}

/// Left to Foundation.
protocol FastJSONForeignValue: FastJSONSpecialValue {}

extension FastJSONForeignValue {
    static func read(from decoder: FastJSONDecoder, at position: inout Int) throws -> Self {
        throw FastJSONDecoder.Unsupported()
    }
}

extension Data: FastJSONForeignValue {}
extension URL: FastJSONForeignValue {}
extension Decimal: FastJSONForeignValue {}
extension Float: FastJSONForeignValue {}
extension Int8: FastJSONForeignValue {}
extension Int16: FastJSONForeignValue {}
extension UInt8: FastJSONForeignValue {}
extension UInt16: FastJSONForeignValue {}
extension UInt32: FastJSONForeignValue {}

/// The `Decoder` handed to a type's `init(from:)` for one value at `position`.
final class FastValueDecoder: Decoder {
    let parent: FastJSONDecoder
    let position: Int
    /// Where the value ended, once a container consumed it.
    var end: Int?

    init(parent: FastJSONDecoder, position: Int) {
        self.parent = parent
        self.position = position
    }

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        var cursor = position
        let container = try FastKeyedContainer<Key>(parent: parent, at: &cursor)
        end = cursor
        return KeyedDecodingContainer(container)
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        var cursor = position
        let container = try FastUnkeyedContainer(parent: parent, at: &cursor)
        end = cursor
        return container
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        var cursor = position
        try parent.skipValue(at: &cursor)
        end = cursor
        return FastSingleValueContainer(parent: parent, position: position)
    }
}

struct FastKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let parent: FastJSONDecoder
    /// Where this object's members are in the parent's member buffer.
    let slots: Range<Int>

    init(parent: FastJSONDecoder, at position: inout Int) throws {
        self.parent = parent
        self.slots = try parent.scanMembers(at: &position)
    }

    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] { parent.keyNames(in: slots).compactMap { Key(stringValue: $0) } }

    func valueStart(_ key: Key) -> Int? { parent.valueStart(named: key.stringValue, in: slots) }

    func contains(_ key: Key) -> Bool { valueStart(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        guard let start = valueStart(key) else { throw FastJSONDecoder.Unsupported() }
        return parent.isNull(at: start)
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        guard var start = valueStart(key) else { throw FastJSONDecoder.Unsupported() }
        return try parent.decodeValue(type, at: &start)
    }

    // The scalar overloads synthesized `init(from:)`s call, without the generic path's dynamic casts.
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        guard var start = valueStart(key) else { throw FastJSONDecoder.Unsupported() }
        return try parent.string(at: &start)
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        guard var start = valueStart(key) else { throw FastJSONDecoder.Unsupported() }
        return try parent.integer(Int.self, at: &start)
    }

    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        guard var start = valueStart(key) else { throw FastJSONDecoder.Unsupported() }
        return try parent.integer(Int64.self, at: &start)
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        guard var start = valueStart(key) else { throw FastJSONDecoder.Unsupported() }
        return try parent.bool(at: &start)
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        guard var start = valueStart(key) else { throw FastJSONDecoder.Unsupported() }
        return try parent.double(at: &start)
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard var start = valueStart(key), !parent.isNull(at: start) else { return nil }
        return try parent.string(at: &start)
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        guard var start = valueStart(key), !parent.isNull(at: start) else { return nil }
        return try parent.integer(Int.self, at: &start)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard var start = valueStart(key), !parent.isNull(at: start) else { return nil }
        return try parent.decodeValue(type, at: &start)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        guard var start = valueStart(key) else { throw FastJSONDecoder.Unsupported() }
        return KeyedDecodingContainer(try FastKeyedContainer<NestedKey>(parent: parent, at: &start))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        guard var start = valueStart(key) else { throw FastJSONDecoder.Unsupported() }
        return try FastUnkeyedContainer(parent: parent, at: &start)
    }

    func superDecoder() throws -> any Decoder { throw FastJSONDecoder.Unsupported() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw FastJSONDecoder.Unsupported() }
}

struct FastUnkeyedContainer: UnkeyedDecodingContainer {
    let parent: FastJSONDecoder
    /// Where each element starts.
    let elements: [Int]
    var currentIndex = 0

    init(parent: FastJSONDecoder, at position: inout Int) throws {
        self.parent = parent
        var elements: [Int] = []
        try parent.scanArray(at: &position) { elements.append($0) }
        self.elements = elements
    }

    var codingPath: [any CodingKey] { [] }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    mutating func next() throws -> Int {
        guard currentIndex < elements.count else { throw FastJSONDecoder.Unsupported() }
        defer { currentIndex += 1 }
        return elements[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < elements.count else { throw FastJSONDecoder.Unsupported() }
        guard parent.isNull(at: elements[currentIndex]) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        var start = try next()
        return try parent.decodeValue(type, at: &start)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        var start = try next()
        return KeyedDecodingContainer(try FastKeyedContainer<NestedKey>(parent: parent, at: &start))
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        var start = try next()
        return try FastUnkeyedContainer(parent: parent, at: &start)
    }

    mutating func superDecoder() throws -> any Decoder { throw FastJSONDecoder.Unsupported() }
}

struct FastSingleValueContainer: SingleValueDecodingContainer {
    let parent: FastJSONDecoder
    let position: Int

    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool { parent.isNull(at: position) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        var start = position
        return try parent.decodeValue(type, at: &start)
    }
}
