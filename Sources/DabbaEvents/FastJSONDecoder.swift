import DabbaSchema
import Foundation

/// A `Decoder` that reads the common, simple shape of JSON straight from bytes, without building a document first:
/// objects, arrays, strings without escapes, integers, decimals, booleans, null and RFC 3339 dates.
///
/// It is the fast path of ``JSONEventCodec``: anything outside that subset (an escaped string, a number it cannot
/// read exactly, a duplicate key, invalid JSON) and any error at all, including a type's own validation error,
/// makes the codec decode the payload again with Foundation's `JSONDecoder`, so results and error messages are
/// always Foundation's. The decoder only ever succeeds where Foundation would succeed with the same value.
/// `codingPath` is always empty on this path (errors are reported by the Foundation pass).
///
/// A payload costs one allocation for its ``FastJSONContext`` (which also holds the positions of every object's
/// members and every array's elements) plus the box `Codable` requires per container; a member costs none: the
/// `Decoder` and the containers are two-word values referring to the context, and the scalar overloads synthesized
/// `init(from:)`s call read straight from the bytes.
struct FastJSONDecoder {
    /// Thrown when the input or the requested type is outside the fast subset, or is invalid.
    struct Unsupported: Error {}

    let bytes: UnsafeBufferPointer<UInt8>

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Decodes the whole input as one value.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        // Empty input is not JSON: Foundation says why.
        guard let base = bytes.baseAddress, !bytes.isEmpty else { throw Unsupported() }
        let input = FastJSONInput(base: base, count: bytes.count)
        let start = input.skipWhitespace(0)
        let context = FastJSONContext.make(input: input, topLevel: start)
        let value = try input.decodeValue(type, at: start, context: context)
        // The top-level container recorded where the value ended; a type that read none (or a scalar) did not.
        var end = context.topLevelEnd
        if end < 0 {
            end = start
            try input.skipValue(at: &end)
        }
        guard input.skipWhitespace(end) == input.count else { throw Unsupported() }
        return value
    }
}

/// The state one payload's containers share: the input, and the positions of every object's members (key start,
/// key length, value start) and every array's elements, appended as containers are made. Slots live in the object's
/// tail allocation, spilling to a heap buffer for large payloads.
final class FastJSONContext: ManagedBuffer<FastJSONContext.Header, Int32> {
    struct Header {
        let input: FastJSONInput
        /// Where the top-level value starts, and where it ends once its container has scanned it (-1 before).
        let topLevelStart: Int
        var topLevelEnd: Int
        var used: Int
        var capacity: Int
        /// Slots beyond the tail allocation, or nil.
        var spilled: UnsafeMutablePointer<Int32>?
    }

    static let inlineSlots = 96

    static func make(input: FastJSONInput, topLevel start: Int) -> FastJSONContext {
        let buffer = FastJSONContext.create(minimumCapacity: inlineSlots) { _ in
            Header(input: input, topLevelStart: start, topLevelEnd: -1, used: 0, capacity: inlineSlots, spilled: nil)
        }
        // `create` returns the dynamic type it was called on.
        return unsafeDowncast(buffer, to: FastJSONContext.self)
    }

    deinit {
        _ = withUnsafeMutablePointerToHeader { header in header.pointee.spilled?.deallocate() }
    }

    var topLevelEnd: Int { withUnsafeMutablePointerToHeader { $0.pointee.topLevelEnd } }

    /// The slots as one pointer (tail allocation or spill buffer).
    @inline(__always)
    func slots<R>(_ body: (UnsafeMutablePointer<Int32>, inout Header) throws -> R) rethrows -> R {
        try withUnsafeMutablePointers { header, tail in try body(header.pointee.spilled ?? tail, &header.pointee) }
    }

    /// Appends one slot value; returns nothing, the caller knows its index (`used` before the call).
    @inline(__always)
    func append(_ value: Int) throws {
        // Positions fit in 32 bits (payloads are far below 2 GiB); anything else is Foundation's.
        guard value < Int(Int32.max) else { throw FastJSONDecoder.Unsupported() }
        withUnsafeMutablePointers { header, tail in
            if header.pointee.used == header.pointee.capacity {
                let capacity = header.pointee.capacity * 2
                let grown = UnsafeMutablePointer<Int32>.allocate(capacity: capacity)
                grown.update(from: header.pointee.spilled ?? tail, count: header.pointee.used)
                header.pointee.spilled?.deallocate()
                header.pointee.spilled = grown
                header.pointee.capacity = capacity
            }
            (header.pointee.spilled ?? tail)[header.pointee.used] = Int32(truncatingIfNeeded: value)
            header.pointee.used += 1
        }
    }

    var used: Int { withUnsafeMutablePointerToHeader { $0.pointee.used } }

    /// Records where the top-level value ends, if `start` is where it starts.
    @inline(__always)
    func noteEnd(of start: Int, at end: Int) {
        withUnsafeMutablePointerToHeader { header in
            if start == header.pointee.topLevelStart { header.pointee.topLevelEnd = end }
        }
    }
}

/// The payload bytes and the scanning primitives; two words, passed by value.
struct FastJSONInput {
    let base: UnsafePointer<UInt8>
    let count: Int

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    @inline(__always)
    subscript(position: Int) -> UInt8 { base[position] }

    @inline(__always)
    func skipWhitespace(_ start: Int) -> Int {
        var position = start
        while position < count {
            switch base[position] {
            case 0x20, 0x0A, 0x0D, 0x09: position += 1
            default: return position
            }
        }
        return position
    }

    @inline(__always)
    func expect(_ byte: UInt8, at position: inout Int) throws {
        guard position < count, base[position] == byte else { throw FastJSONDecoder.Unsupported() }
        position += 1
    }

    /// The byte range of a string's contents (after the opening quote); the position ends after the closing quote.
    /// Strings with escapes or control characters are outside the subset, and so is invalid UTF-8 (Foundation
    /// refuses it anywhere: in values, in keys, in members a type ignores).
    @inline(__always)
    func scanString(at position: inout Int) throws -> Range<Int> {
        try expect(UInt8(ascii: "\""), at: &position)
        let start = position
        var high: UInt8 = 0
        while position < count {
            let byte = base[position]
            if byte == UInt8(ascii: "\"") {
                position += 1
                // ASCII is valid UTF-8 as it is; anything else is checked.
                if high >= 0x80,
                    !UTF8Validation.isValid(UnsafeRawBufferPointer(start: base + start, count: position - 1 - start))
                {
                    throw FastJSONDecoder.Unsupported()
                }
                return start..<(position - 1)
            }
            guard byte != UInt8(ascii: "\\"), byte >= 0x20 else { throw FastJSONDecoder.Unsupported() }
            high |= byte
            position += 1
        }
        throw FastJSONDecoder.Unsupported()
    }

    /// The deepest nesting of arrays and objects the fast path reads: deeper input goes to Foundation, which
    /// rejects it with its own limit (the same), instead of recursing until the thread's stack runs out.
    static let maximumDepth = 512

    /// Skips any value, checking only what the fast path can read later.
    /// - Parameters:
    ///   - position: Where the value starts; moved past it.
    ///   - depth: How many arrays and objects enclose the value.
    func skipValue(at position: inout Int, depth: Int = 0) throws {
        guard position < count else { throw FastJSONDecoder.Unsupported() }
        switch base[position] {
        case UInt8(ascii: "\""): _ = try scanString(at: &position)
        case UInt8(ascii: "{"): try scanObject(at: &position, depth: depth + 1) { _, _ in }
        case UInt8(ascii: "["): try scanArray(at: &position, depth: depth + 1) { _ in }
        case UInt8(ascii: "t"): try literal("true", at: &position)
        case UInt8(ascii: "f"): try literal("false", at: &position)
        case UInt8(ascii: "n"): try literal("null", at: &position)
        default: _ = try scanNumber(at: &position)
        }
    }

    /// Walks an object: `member` sees each key's byte range and where its value starts; the value is then skipped.
    /// `depth` counts the object itself and the arrays and objects around it (deeper than ``maximumDepth`` throws).
    @inline(__always)
    func scanObject(
        at position: inout Int, depth: Int = 1, _ member: (_ key: Range<Int>, _ value: Int) throws -> Void
    ) throws {
        guard depth <= Self.maximumDepth else { throw FastJSONDecoder.Unsupported() }
        try expect(UInt8(ascii: "{"), at: &position)
        position = skipWhitespace(position)
        if position < count, base[position] == UInt8(ascii: "}") {
            position += 1
            return
        }
        while true {
            let key = try scanString(at: &position)
            position = skipWhitespace(position)
            try expect(UInt8(ascii: ":"), at: &position)
            position = skipWhitespace(position)
            try member(key, position)
            try skipValue(at: &position, depth: depth)
            guard try nextItem(at: &position, closedBy: UInt8(ascii: "}")) else { return }
        }
    }

    /// Walks an array: `element` sees where each element starts; the element is then skipped. `depth` as for
    /// ``scanObject(at:depth:_:)``.
    @inline(__always)
    func scanArray(at position: inout Int, depth: Int = 1, _ element: (_ start: Int) throws -> Void) throws {
        guard depth <= Self.maximumDepth else { throw FastJSONDecoder.Unsupported() }
        try expect(UInt8(ascii: "["), at: &position)
        position = skipWhitespace(position)
        if position < count, base[position] == UInt8(ascii: "]") {
            position += 1
            return
        }
        while true {
            try element(position)
            try skipValue(at: &position, depth: depth)
            guard try nextItem(at: &position, closedBy: UInt8(ascii: "]")) else { return }
        }
    }

    /// After an item: true at a comma (moved past it), false at the closing bracket (moved past it).
    @inline(__always)
    private func nextItem(at position: inout Int, closedBy closing: UInt8) throws -> Bool {
        position = skipWhitespace(position)
        guard position < count else { throw FastJSONDecoder.Unsupported() }
        if base[position] == UInt8(ascii: ",") {
            position = skipWhitespace(position + 1)
            return true
        }
        try expect(closing, at: &position)
        return false
    }

    func literal(_ word: StaticString, at position: inout Int) throws {
        let length = word.utf8CodeUnitCount
        guard position + length <= count, memcmp(base + position, word.utf8Start, length) == 0 else {
            throw FastJSONDecoder.Unsupported()
        }
        position += length
    }

    @inline(__always)
    func isNull(at position: Int) -> Bool {
        position + 4 <= count && base[position] == UInt8(ascii: "n") && base[position + 1] == UInt8(ascii: "u")
            && base[position + 2] == UInt8(ascii: "l") && base[position + 3] == UInt8(ascii: "l")
    }

    /// A JSON number's range and whether it is a plain integer (no fraction, no exponent). Leading zeros and other
    /// invalid forms are outside the subset.
    func scanNumber(at position: inout Int) throws -> (range: Range<Int>, isInteger: Bool) {
        let start = position
        if position < count, base[position] == UInt8(ascii: "-") { position += 1 }
        let digitsStart = position
        while position < count, base[position] &- 0x30 < 10 { position += 1 }
        let integerDigits = position - digitsStart
        guard integerDigits > 0, integerDigits == 1 || base[digitsStart] != 0x30 else {
            throw FastJSONDecoder.Unsupported()
        }
        var isInteger = true
        if position < count, base[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            let fractionStart = position
            while position < count, base[position] &- 0x30 < 10 { position += 1 }
            guard position > fractionStart else { throw FastJSONDecoder.Unsupported() }
        }
        if position < count, base[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < count, base[position] == UInt8(ascii: "+") || base[position] == UInt8(ascii: "-") {
                position += 1
            }
            let exponentStart = position
            while position < count, base[position] &- 0x30 < 10 { position += 1 }
            guard position > exponentStart else { throw FastJSONDecoder.Unsupported() }
        }
        return (start..<position, isInteger)
    }

    /// Whether the bytes at `range` equal `key`'s UTF-8.
    @inline(__always)
    func bytesEqual(_ range: Range<Int>, _ other: Range<Int>) -> Bool {
        range.count == other.count && memcmp(base + range.lowerBound, base + other.lowerBound, range.count) == 0
    }

    // MARK: Values

    func string(at position: Int) throws -> String {
        var cursor = position
        return try string(advancing: &cursor)
    }

    /// Reads a string and moves past it.
    @inline(__always)
    func string(advancing position: inout Int) throws -> String {
        let range = try scanString(at: &position)
        return String(decoding: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), as: UTF8.self)
    }

    func bool(at position: Int) throws -> Bool {
        guard position < count else { throw FastJSONDecoder.Unsupported() }
        var cursor = position
        if base[position] == UInt8(ascii: "t") {
            try literal("true", at: &cursor)
            return true
        }
        try literal("false", at: &cursor)
        return false
    }

    /// An integer of any fixed width, exactly; a fraction, an exponent, a leading zero or an overflow is outside
    /// the subset.
    @inline(__always)
    func integer<T: FixedWidthInteger>(_ type: T.Type, at position: Int) throws -> T {
        var cursor = position
        return try integer(type, advancing: &cursor)
    }

    /// Reads an integer and moves past it.
    @inline(__always)
    func integer<T: FixedWidthInteger>(_ type: T.Type, advancing position: inout Int) throws -> T {
        var index = position
        let negative = index < count && base[index] == UInt8(ascii: "-")
        if negative {
            guard T.isSigned else { throw FastJSONDecoder.Unsupported() }
            index += 1
        }
        let digitsStart = index
        var value: T = 0
        while index < count {
            let digit = base[index] &- 0x30
            guard digit < 10 else { break }
            let (shifted, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (next, overflow2) =
                negative ? shifted.subtractingReportingOverflow(T(digit)) : shifted.addingReportingOverflow(T(digit))
            guard !overflow1, !overflow2 else { throw FastJSONDecoder.Unsupported() }
            value = next
            index += 1
        }
        let digits = index - digitsStart
        guard digits > 0, digits == 1 || base[digitsStart] != 0x30 else { throw FastJSONDecoder.Unsupported() }
        // A fraction or an exponent makes it a non-integer: Foundation's business.
        if index < count {
            let next = base[index]
            guard next != UInt8(ascii: "."), next | 0x20 != UInt8(ascii: "e") else {
                throw FastJSONDecoder.Unsupported()
            }
        }
        position = index
        return value
    }

    func double(at position: Int) throws -> Double {
        var cursor = position
        return try double(advancing: &cursor)
    }

    /// Reads a number as a `Double` and moves past it.
    func double(advancing position: inout Int) throws -> Double {
        let (range, _) = try scanNumber(at: &position)
        let text = String(decoding: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw FastJSONDecoder.Unsupported() }
        // The fast path must never succeed where Foundation fails. Foundation refuses a number that underflows to
        // zero (`1e-400`) and, as of Swift 6.3, some zeros with an exponent (`0e1`, `0.00e5`, not `0e10`): a zero is
        // read here only when written as plain digits (`0`, `-0.0`); any other is Foundation's to decide.
        if value == 0, !isPlainZero(range) { throw FastJSONDecoder.Unsupported() }
        return value
    }

    /// Whether a number is written as zeros without an exponent (`0`, `-0.00`).
    private func isPlainZero(_ range: Range<Int>) -> Bool {
        for index in range {
            let byte = base[index]
            if byte | 0x20 == UInt8(ascii: "e") { return false }
            if byte >= UInt8(ascii: "1"), byte <= UInt8(ascii: "9") { return false }
        }
        return true
    }

    func date(at position: Int) throws -> Date {
        var cursor = position
        return try date(advancing: &cursor)
    }

    /// Reads an RFC 3339 timestamp and moves past it.
    func date(advancing position: inout Int) throws -> Date {
        let range = try scanString(at: &position)
        guard let date = RFC3339.parse(utf8: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count))
        else { throw FastJSONDecoder.Unsupported() }
        return date
    }

    /// Decodes a value of any type at `position`: scalars and dates straight from the bytes (without going through
    /// `init(from:)`), the types Foundation treats specially left to Foundation, anything else through its
    /// `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type, at position: Int, context: FastJSONContext) throws -> T {
        if let special = try readSpecial(type, at: position) { return special }
        if let fast = type as? any FastJSONDecodable.Type {
            var reader = FastJSONReader(input: self, position: position)
            return try reader.decodeFast(fast, as: type)
        }
        return try T(from: FastValueDecoder(context: context, position: position))
    }

    /// The types read without `init(from:)`: a metadata comparison each, cheaper than a conformance lookup.
    @inline(__always)
    func readSpecial<T>(_ type: T.Type, at position: Int) throws -> T? {
        func cast<V>(_ value: V) throws -> T {
            guard let typed = value as? T else { throw FastJSONDecoder.Unsupported() }
            return typed
        }
        switch ObjectIdentifier(type) {
        case ObjectIdentifier(String.self): return try cast(string(at: position))
        case ObjectIdentifier(Int.self): return try cast(integer(Int.self, at: position))
        case ObjectIdentifier(Bool.self): return try cast(bool(at: position))
        case ObjectIdentifier(Double.self): return try cast(double(at: position))
        case ObjectIdentifier(Date.self): return try cast(date(at: position))
        case ObjectIdentifier(Int64.self): return try cast(integer(Int64.self, at: position))
        case ObjectIdentifier(Int32.self): return try cast(integer(Int32.self, at: position))
        case ObjectIdentifier(UInt.self): return try cast(integer(UInt.self, at: position))
        case ObjectIdentifier(UInt64.self): return try cast(integer(UInt64.self, at: position))
        // Foundation has its own JSON representation or range checks for these: leave them to it.
        case ObjectIdentifier(Data.self), ObjectIdentifier(URL.self), ObjectIdentifier(Decimal.self),
            ObjectIdentifier(Float.self), ObjectIdentifier(Int8.self), ObjectIdentifier(Int16.self),
            ObjectIdentifier(UInt8.self), ObjectIdentifier(UInt16.self), ObjectIdentifier(UInt32.self):
            throw FastJSONDecoder.Unsupported()
        default: return nil
        }
    }
}

/// The `Decoder` handed to a type's `init(from:)` for one value: two words, so the `any Decoder` existential holds it
/// without an allocation.
struct FastValueDecoder: Decoder {
    let context: FastJSONContext
    let position: Int

    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(FastKeyedContainer<Key>(try FastObject(context: context, at: position)))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try FastUnkeyedContainer(context: context, at: position)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        FastSingleValueContainer(context: context, position: position)
    }
}

/// One JSON object's members, indexed in the context's slots when the object is first opened: the part of a keyed
/// container that does not depend on its key type.
struct FastObject {
    let context: FastJSONContext
    /// The object's first slot (three per member) and member count.
    let firstSlot: Int32
    let memberCount: Int32

    init(context: FastJSONContext, at position: Int) throws {
        self.context = context
        let first = context.used
        let input = context.withUnsafeMutablePointerToHeader { $0.pointee.input }
        var cursor = position
        var count = 0
        try input.scanObject(at: &cursor) { key, value in
            // A repeated key is outside the subset (which occurrence wins is Foundation's business).
            let repeated = context.slots { slots, _ in
                var index = first
                while index < first + count * 3 {
                    let start = Int(slots[index])
                    if Int(slots[index + 1]) == key.count, input.bytesEqual(start..<(start + key.count), key) {
                        return true
                    }
                    index += 3
                }
                return false
            }
            if repeated { throw FastJSONDecoder.Unsupported() }
            try context.append(key.lowerBound)
            try context.append(key.count)
            try context.append(value)
            count += 1
        }
        context.noteEnd(of: position, at: cursor)
        firstSlot = Int32(truncatingIfNeeded: first)
        memberCount = Int32(truncatingIfNeeded: count)
    }

    var input: FastJSONInput { context.withUnsafeMutablePointerToHeader { $0.pointee.input } }

    /// The value start of the member whose key has these bytes.
    @inline(__always)
    func valueStart(named name: UnsafeBufferPointer<UInt8>) -> Int? {
        context.slots { slots, header in
            var index = Int(firstSlot)
            let end = index + Int(memberCount) * 3
            while index < end {
                if Int(slots[index + 1]) == name.count {
                    if name.isEmpty { return Int(slots[index + 2]) }
                    if let nameBase = name.baseAddress,
                        memcmp(header.input.base + Int(slots[index]), nameBase, name.count) == 0
                    {
                        return Int(slots[index + 2])
                    }
                }
                index += 3
            }
            return nil
        }
    }

    /// The members' key names, in document order.
    var keyNames: [String] {
        context.slots { slots, header in
            (0..<Int(memberCount)).map { member in
                let index = Int(firstSlot) + member * 3
                return String(
                    decoding: UnsafeBufferPointer(start: header.input.base + Int(slots[index]), count: Int(slots[index + 1])),
                    as: UTF8.self
                )
            }
        }
    }
}

struct FastKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: FastObject

    init(_ object: FastObject) {
        self.object = object
    }

    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] { object.keyNames.compactMap { Key(stringValue: $0) } }

    @inline(__always)
    func valueStart(_ key: Key) -> Int? {
        var name = key.stringValue
        return name.withUTF8 { object.valueStart(named: $0) }
    }

    @inline(__always)
    func require(_ key: Key) throws -> Int {
        guard let start = valueStart(key) else { throw FastJSONDecoder.Unsupported() }
        return start
    }

    /// The value start of `key`, or nil when it is absent or null (`decodeIfPresent`).
    @inline(__always)
    func present(_ key: Key) -> Int? {
        guard let start = valueStart(key), !object.input.isNull(at: start) else { return nil }
        return start
    }

    var input: FastJSONInput { object.input }

    func contains(_ key: Key) -> Bool { valueStart(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool { input.isNull(at: try require(key)) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try input.decodeValue(type, at: try require(key), context: object.context)
    }

    // The scalar overloads synthesized `init(from:)`s call, without the generic path.
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try input.string(at: try require(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try input.integer(Int.self, at: try require(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try input.integer(Int64.self, at: try require(key))
    }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        try input.integer(Int32.self, at: try require(key))
    }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try input.integer(UInt.self, at: try require(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        try input.integer(UInt64.self, at: try require(key))
    }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try input.bool(at: try require(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try input.double(at: try require(key)) }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try present(key).map { try input.string(at: $0) }
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try present(key).map { try input.integer(Int.self, at: $0) }
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try present(key).map { try input.integer(Int64.self, at: $0) }
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try present(key).map { try input.bool(at: $0) }
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try present(key).map { try input.double(at: $0) }
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try present(key).map { try input.decodeValue(type, at: $0, context: object.context) }
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        KeyedDecodingContainer(FastKeyedContainer<NestedKey>(try FastObject(context: object.context, at: try require(key))))
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try FastUnkeyedContainer(context: object.context, at: try require(key))
    }

    func superDecoder() throws -> any Decoder { throw FastJSONDecoder.Unsupported() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw FastJSONDecoder.Unsupported() }
}

struct FastUnkeyedContainer: UnkeyedDecodingContainer {
    let context: FastJSONContext
    /// The array's first slot (one per element, its start) and element count.
    let firstSlot: Int
    let elementCount: Int
    var currentIndex = 0

    init(context: FastJSONContext, at position: Int) throws {
        self.context = context
        let first = context.used
        let input = context.withUnsafeMutablePointerToHeader { $0.pointee.input }
        var cursor = position
        var count = 0
        try input.scanArray(at: &cursor) { start in
            try context.append(start)
            count += 1
        }
        context.noteEnd(of: position, at: cursor)
        firstSlot = first
        elementCount = count
    }

    var input: FastJSONInput { context.withUnsafeMutablePointerToHeader { $0.pointee.input } }
    var codingPath: [any CodingKey] { [] }
    var count: Int? { elementCount }
    var isAtEnd: Bool { currentIndex >= elementCount }

    private func start(of element: Int) -> Int {
        context.slots { slots, _ in Int(slots[firstSlot + element]) }
    }

    mutating func next() throws -> Int {
        guard currentIndex < elementCount else { throw FastJSONDecoder.Unsupported() }
        defer { currentIndex += 1 }
        return start(of: currentIndex)
    }

    mutating func decodeNil() throws -> Bool {
        guard currentIndex < elementCount else { throw FastJSONDecoder.Unsupported() }
        guard input.isNull(at: start(of: currentIndex)) else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try input.decodeValue(type, at: try next(), context: context)
    }

    mutating func decode(_ type: String.Type) throws -> String { try input.string(at: try next()) }
    mutating func decode(_ type: Int.Type) throws -> Int { try input.integer(Int.self, at: try next()) }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        KeyedDecodingContainer(FastKeyedContainer<NestedKey>(try FastObject(context: context, at: try next())))
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try FastUnkeyedContainer(context: context, at: try next())
    }

    mutating func superDecoder() throws -> any Decoder { throw FastJSONDecoder.Unsupported() }
}

struct FastSingleValueContainer: SingleValueDecodingContainer {
    let context: FastJSONContext
    let position: Int

    var input: FastJSONInput { context.withUnsafeMutablePointerToHeader { $0.pointee.input } }
    var codingPath: [any CodingKey] { [] }

    func decodeNil() -> Bool { input.isNull(at: position) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try input.decodeValue(type, at: position, context: context)
    }

    func decode(_ type: String.Type) throws -> String { try input.string(at: position) }
    func decode(_ type: Int.Type) throws -> Int { try input.integer(Int.self, at: position) }
    func decode(_ type: Bool.Type) throws -> Bool { try input.bool(at: position) }
}
