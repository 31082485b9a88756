/// A JSON value.
///
/// Numbers keep the distinction the wire format allows: integers that fit in
/// `Int64` are stored exactly as ``integer(_:)``; anything else (fractions,
/// exponents, integers beyond 64 bits) is stored as ``double(_:)``.
///
/// Equality follows the JSON data model rather than the Swift enum layout:
/// `.integer(1) == .double(1.0)`, and objects compare without regard to key
/// order; strings compare by exact code points. `hash(into:)` is consistent with that, so values can be used in
/// `Set`s (which `uniqueItems` and `enum` rely on).
public enum JSONValue: Sendable {
    /// JSON `null`.
    case null
    /// JSON `true` / `false`.
    case bool(Bool)
    /// A JSON number without fraction or exponent that fits in `Int64`.
    case integer(Int64)
    /// Any other JSON number. Never NaN or infinite when produced by the parser.
    case double(Double)
    /// A JSON string.
    case string(String)
    /// A JSON array.
    case array([JSONValue])
    /// A JSON object, keeping key insertion order.
    case object(JSONObject)
}

// MARK: - Accessors

extension JSONValue {
    /// The string payload, or `nil` if this is not a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The object payload, or `nil` if this is not an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The array payload, or `nil` if this is not an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The boolean payload, or `nil` if this is not a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The number as an exact `Int64`: integers, and doubles with no fractional
    /// part that are representable. `nil` otherwise.
    public var int64Value: Int64? {
        switch self {
        case .integer(let value):
            return value
        case .double(let value):
            return Int64(exactly: value)
        default:
            return nil
        }
    }

    /// The number as a `Double` (integers are converted, possibly rounding
    /// beyond 2^53). `nil` if this is not a number.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value):
            return Double(value)
        case .double(let value):
            return value
        default:
            return nil
        }
    }

    /// `true` if this is JSON `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// `true` if this is a number (integer or double).
    public var isNumber: Bool {
        switch self {
        case .integer, .double: return true
        default: return false
        }
    }

    /// The JSON Schema type name of this value: `null`, `boolean`, `integer`
    /// (for integers and integral doubles), `number`, `string`, `array` or `object`.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .integer: return "integer"
        case .double(let value): return value.isIntegral ? "integer" : "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// Member lookup for objects; `nil` for missing keys and non-objects.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// Element lookup for arrays; `nil` when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// Resolves an RFC 6901 JSON Pointer (e.g. `/components/schemas/Order`)
    /// against this value. The empty pointer is the value itself. Returns
    /// `nil` if the pointer is malformed or does not resolve.
    public func value(atPointer pointer: String) -> JSONValue? {
        guard let tokens = JSONPointer.tokens(of: pointer) else { return nil }
        return JSONPointer.resolve(tokens, in: self)
    }
}

extension Double {
    /// Finite with no fractional part; JSON Schema treats such numbers as integers.
    var isIntegral: Bool {
        isFinite && rounded(.towardZero) == self
    }
}

// MARK: - Equality

extension JSONValue: Hashable {
    /// JSON data-model equality: numbers compare by mathematical value
    /// (`1 == 1.0`), objects ignore key order, other kinds never equal each other.
    public static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null):
            return true
        case (.bool(let a), .bool(let b)):
            return a == b
        case (.integer(let a), .integer(let b)):
            return a == b
        case (.double(let a), .double(let b)):
            return a == b
        case (.integer(let a), .double(let b)), (.double(let b), .integer(let a)):
            return JSONNumber.compare(integer: a, double: b) == 0
        case (.string(let a), .string(let b)):
            // Code points, not canonical equivalence (see ExactString).
            return a.hasSameCodePoints(as: b)
        case (.array(let a), .array(let b)):
            return a == b
        case (.object(let a), .object(let b)):
            return a == b
        default:
            return false
        }
    }

    /// Hashes consistently with ``==(_:_:)``: an integral double that fits in
    /// `Int64` hashes like the integer.
    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null:
            hasher.combine(0 as UInt8)
        case .bool(let value):
            hasher.combine(1 as UInt8)
            hasher.combine(value)
        case .integer(let value):
            hasher.combine(2 as UInt8)
            hasher.combine(value)
        case .double(let value):
            hasher.combine(2 as UInt8)
            if let exact = Int64(exactly: value) {
                hasher.combine(exact)
            } else {
                hasher.combine(value)
            }
        case .string(let value):
            hasher.combine(3 as UInt8)
            hasher.combine(value)
        case .array(let value):
            hasher.combine(4 as UInt8)
            hasher.combine(value)
        case .object(let value):
            hasher.combine(5 as UInt8)
            hasher.combine(value)
        }
    }
}

// MARK: - Literals

extension JSONValue: ExpressibleByNilLiteral {
    /// Creates ``null``.
    public init(nilLiteral: ()) { self = .null }
}

extension JSONValue: ExpressibleByBooleanLiteral {
    /// Creates a ``bool(_:)``.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension JSONValue: ExpressibleByIntegerLiteral {
    /// Creates an ``integer(_:)``.
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension JSONValue: ExpressibleByFloatLiteral {
    /// Creates a ``double(_:)``.
    public init(floatLiteral value: Double) { self = .double(value) }
}

extension JSONValue: ExpressibleByStringLiteral {
    /// Creates a ``string(_:)``.
    public init(stringLiteral value: String) { self = .string(value) }
}

extension JSONValue: ExpressibleByArrayLiteral {
    /// Creates an ``array(_:)``.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
}

extension JSONValue: ExpressibleByDictionaryLiteral {
    /// Creates an ``object(_:)`` keeping the literal's key order.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
}

extension JSONValue: CustomStringConvertible {
    /// Compact JSON text of the value.
    public var description: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}
