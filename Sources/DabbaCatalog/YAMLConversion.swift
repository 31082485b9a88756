import DabbaSchema
import Yams

/// A line and column in a YAML file, counting from 1.
struct TextPosition: Hashable, Sendable {
    var line: Int
    var column: Int
}

/// Where each value of a converted YAML document came from, so errors found on the JSON form can name a line.
struct SourceMap: Sendable {
    /// The position of each value, by pointer.
    var values: [JSONPointer: TextPosition] = [:]
    /// The position of the mapping key that introduced each value, by the value's pointer.
    var keys: [JSONPointer: TextPosition] = [:]

    /// The position of the value at `pointer`, or of its closest ancestor that has one.
    func position(of pointer: JSONPointer) -> TextPosition {
        var current: JSONPointer? = pointer
        while let candidate = current {
            if let position = values[candidate] { return position }
            current = candidate.parent
        }
        return TextPosition(line: 1, column: 1)
    }

    /// The position of the key that introduced the value at `pointer`, falling back to the value's position.
    func keyPosition(of pointer: JSONPointer) -> TextPosition {
        keys[pointer] ?? position(of: pointer)
    }
}

/// A problem found while turning YAML nodes into JSON values.
struct YAMLConversionIssue: Sendable {
    var position: TextPosition
    var message: String
}

/// Converts composed YAML nodes into ``JSONValue``s following the YAML 1.2 core schema.
///
/// Plain scalars resolve to null (`~`, `null`, empty), booleans (`true`/`false` in three casings), integers
/// (decimal, `0o` octal, `0x` hex) and floats; everything else, and every quoted or block scalar, stays a string.
/// YAML 1.1 forms such as `yes`, `on`, `1_000` and unquoted timestamps are strings, which keeps dates in examples
/// as the strings a `format: date-time` schema expects.
struct YAMLConverter {
    /// The most values a document may hold once its aliases are expanded. An alias repeats its anchor's whole value,
    /// so a few hundred bytes of nested aliases can stand for billions of values (an "alias bomb"). No catalog comes
    /// near this (Topics/food-delivery.asyncapi.yaml holds about 850), and a document stopped here costs well under a
    /// second.
    static let maximumValues = 50_000

    private(set) var sourceMap = SourceMap()
    private(set) var issues: [YAMLConversionIssue] = []
    private var remainingValues = YAMLConverter.maximumValues

    /// Converts a node and everything below it.
    /// - Parameters:
    ///   - node: The composed node.
    ///   - pointer: The pointer the node will have in the resulting document.
    /// - Returns: The JSON value; an unconvertible part becomes `null` and is recorded in ``issues``.
    mutating func convert(_ node: Node, at pointer: JSONPointer = .root) -> JSONValue {
        let position =
            node.mark.map { TextPosition(line: $0.line, column: $0.column) } ?? TextPosition(line: 1, column: 1)
        remainingValues -= 1
        guard remainingValues >= 0 else {
            if remainingValues == -1 {
                issues.append(
                    .init(
                        position: position,
                        message: "the document expands to more than \(Self.maximumValues) values through YAML aliases"
                    )
                )
            }
            return .null
        }
        sourceMap.values[pointer] = position
        switch node {
        case .scalar(let scalar):
            return convertScalar(scalar, at: position)
        case .sequence(let sequence):
            var items: [JSONValue] = []
            for (index, item) in sequence.enumerated() {
                items.append(convert(item, at: pointer.appending(index)))
            }
            return .array(items)
        case .mapping(let mapping):
            var pairs: [(key: String, value: JSONValue)] = []
            for (keyNode, valueNode) in mapping {
                guard case .scalar(let keyScalar) = keyNode else {
                    issues.append(
                        .init(
                            position: keyNode.mark.map(Self.position) ?? position,
                            message: "mapping keys must be scalars"
                        )
                    )
                    continue
                }
                let key = keyScalar.string
                let keyPosition = keyScalar.mark.map(Self.position) ?? position
                if key == "<<" && keyScalar.style == .plain {
                    issues.append(.init(position: keyPosition, message: "YAML merge keys ('<<') are not supported"))
                    continue
                }
                let childPointer = pointer.appending(key)
                sourceMap.keys[childPointer] = keyPosition
                pairs.append((key: key, value: convert(valueNode, at: childPointer)))
            }
            return .object(JSONObject(pairs))
        case .alias:
            // `compose` already replaces aliases with the anchored node; this is unreachable in practice.
            issues.append(.init(position: position, message: "unresolved YAML alias"))
            return .null
        }
    }

    private static func position(_ mark: Mark) -> TextPosition {
        TextPosition(line: mark.line, column: mark.column)
    }

    private mutating func convertScalar(_ scalar: Node.Scalar, at position: TextPosition) -> JSONValue {
        let text = scalar.string
        switch scalar.tag.description {
        case Tag.Name.implicit.rawValue:
            guard scalar.style == .plain || scalar.style == .any else { return .string(text) }
            return resolvePlain(text, at: position)
        case Tag.Name.nonSpecific.rawValue, Tag.Name.str.rawValue:
            return .string(text)
        case Tag.Name.null.rawValue:
            return .null
        case Tag.Name.bool.rawValue:
            if let value = Self.bool(text) { return .bool(value) }
        case Tag.Name.int.rawValue:
            if let value = Self.integer(text) { return .integer(value) }
        case Tag.Name.float.rawValue:
            if let value = Self.integer(text) { return .double(Double(value)) }
            if let value = Self.float(text) { return .double(value) }
        default:
            issues.append(.init(position: position, message: "unsupported YAML tag '\(scalar.tag.description)'"))
            return .null
        }
        issues.append(
            .init(
                position: position,
                message: "'\(text)' is not a valid value for the tag '\(scalar.tag.description)'"
            )
        )
        return .null
    }

    private mutating func resolvePlain(_ text: String, at position: TextPosition) -> JSONValue {
        if ["", "~", "null", "Null", "NULL"].contains(text) { return .null }
        if let value = Self.bool(text) { return .bool(value) }
        if Self.looksLikeInteger(text) {
            if let value = Self.integer(text) { return .integer(value) }
            issues.append(.init(position: position, message: "integer '\(text)' does not fit in 64 bits"))
            return .null
        }
        if [".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN"]
            .contains(text)
        {
            issues.append(.init(position: position, message: "'\(text)' has no JSON representation"))
            return .null
        }
        if let value = Self.float(text) { return .double(value) }
        return .string(text)
    }

    private static func bool(_ text: String) -> Bool? {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: return nil
        }
    }

    private static func isDigits(_ text: Substring, radix: Int) -> Bool {
        !text.isEmpty && text.allSatisfy { $0.isASCII && $0.hexDigitValue.map { $0 < radix } == true }
    }

    private static func looksLikeInteger(_ text: String) -> Bool {
        if text.hasPrefix("0o") { return isDigits(text.dropFirst(2), radix: 8) }
        if text.hasPrefix("0x") { return isDigits(text.dropFirst(2), radix: 16) }
        let digits = text.hasPrefix("-") || text.hasPrefix("+") ? text.dropFirst() : Substring(text)
        return isDigits(digits, radix: 10)
    }

    private static func integer(_ text: String) -> Int64? {
        if text.hasPrefix("0o") { return Int64(text.dropFirst(2), radix: 8) }
        if text.hasPrefix("0x") { return Int64(text.dropFirst(2), radix: 16) }
        guard looksLikeInteger(text) else { return nil }
        return Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text)
    }

    /// YAML 1.2 core float: `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
    private static func float(_ text: String) -> Double? {
        var rest = Substring(text)
        if rest.hasPrefix("-") || rest.hasPrefix("+") { rest = rest.dropFirst() }
        let mantissaEnd = rest.firstIndex(where: { $0 == "e" || $0 == "E" }) ?? rest.endIndex
        let mantissa = rest[..<mantissaEnd]
        let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let isDecimalDigits: (Substring) -> Bool = { $0.allSatisfy { $0.isASCII && $0.isNumber } }
        switch parts.count {
        case 1:
            guard !parts[0].isEmpty, isDecimalDigits(parts[0]) else { return nil }
        case 2:
            guard isDecimalDigits(parts[0]), isDecimalDigits(parts[1]), !(parts[0].isEmpty && parts[1].isEmpty) else {
                return nil
            }
        default:
            return nil
        }
        if mantissaEnd != rest.endIndex {
            var exponent = rest[rest.index(after: mantissaEnd)...]
            if exponent.hasPrefix("-") || exponent.hasPrefix("+") { exponent = exponent.dropFirst() }
            guard !exponent.isEmpty, isDecimalDigits(exponent) else { return nil }
        }
        guard let value = Double(text.hasPrefix("+") ? String(text.dropFirst()) : text), value.isFinite else {
            return nil
        }
        return value
    }
}
