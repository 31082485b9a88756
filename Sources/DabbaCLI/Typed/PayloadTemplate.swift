import DabbaEvents
import DabbaSchema
import Foundation

/// A JSON payload whose string values may hold placeholders, so that each of many generated events is distinct:
///
/// - `{{seq}}`: the message's sequence number, from 0;
/// - `{{uuid}}`: a new random UUID (lowercase);
/// - `{{now}}`: the current time, RFC 3339 in UTC with milliseconds;
/// - `{{random:MIN:MAX}}`: a random integer from MIN to MAX inclusive.
///
/// A string that is exactly one number-valued placeholder (`"{{seq}}"`, `"{{random:1:100}}"`) becomes a JSON
/// number, so integer fields validate; otherwise the placeholders are replaced inside the string
/// (`"order-{{seq}}"` → `"order-7"`). Whitespace inside the braces is allowed (`{{ seq }}`); an unknown name is an
/// error, so a typo never goes out as literal text. Object keys are never templated.
struct PayloadTemplate: Sendable {
    /// The placeholders, for messages.
    static let placeholderList = "{{seq}}, {{uuid}}, {{now}}, {{random:MIN:MAX}}"

    /// What one placeholder produces.
    enum Placeholder: Sendable, Hashable {
        case sequence
        case uuid
        case now
        case random(ClosedRange<Int64>)

        var isNumeric: Bool {
            switch self {
            case .sequence, .random: true
            case .uuid, .now: false
            }
        }
    }

    /// A piece of a templated string.
    enum Segment: Sendable, Hashable {
        case text(String)
        case placeholder(Placeholder)
    }

    /// The payload with its templated strings found once, so rendering does not rescan the text.
    indirect enum Node: Sendable {
        case constant(JSONValue)
        case string([Segment])
        case array([Node])
        case object([(key: String, value: Node)])
    }

    /// The payload as given.
    let payload: JSONValue
    let root: Node

    /// Whether any string value holds a placeholder (if not, every message carries the same payload).
    var hasPlaceholders: Bool {
        if case .constant = root { return false }
        return true
    }

    /// Finds the placeholders of a payload.
    /// - Throws: ``CLIError`` naming an unknown or malformed placeholder and the JSON Pointer of its value.
    init(_ payload: JSONValue) throws {
        self.payload = payload
        self.root = try Self.compile(payload, pointer: "")
    }

    /// The payload of message `sequence`: placeholders replaced.
    /// - Parameters:
    ///   - sequence: The message's sequence number, from 0.
    ///   - now: The time `{{now}}` stands for.
    ///   - generator: The source of `{{random:…}}` numbers.
    func render(sequence: Int, now: Date, using generator: inout some RandomNumberGenerator) -> JSONValue {
        Self.render(root, sequence: sequence, now: now, using: &generator)
    }

    private static func render(
        _ node: Node,
        sequence: Int,
        now: Date,
        using generator: inout some RandomNumberGenerator
    ) -> JSONValue {
        switch node {
        case .constant(let value):
            return value
        case .string(let segments):
            if segments.count == 1, case .placeholder(let placeholder) = segments[0], placeholder.isNumeric {
                switch placeholder {
                case .sequence: return .integer(Int64(sequence))
                case .random(let range): return .integer(Int64.random(in: range, using: &generator))
                case .uuid, .now: break
                }
            }
            var text = ""
            for segment in segments {
                switch segment {
                case .text(let literal):
                    text += literal
                case .placeholder(.sequence):
                    text += String(sequence)
                case .placeholder(.uuid):
                    text += UUID().uuidString.lowercased()
                case .placeholder(.now):
                    text += RFC3339.format(now)
                case .placeholder(.random(let range)):
                    text += String(Int64.random(in: range, using: &generator))
                }
            }
            return .string(text)
        case .array(let elements):
            return .array(elements.map { render($0, sequence: sequence, now: now, using: &generator) })
        case .object(let members):
            return .object(
                JSONObject(
                    members.map { ($0.key, render($0.value, sequence: sequence, now: now, using: &generator)) }
                )
            )
        }
    }

    /// A node for `value`: `.constant` when nothing below it is templated.
    private static func compile(_ value: JSONValue, pointer: String) throws -> Node {
        switch value {
        case .string(let text):
            let segments = try segments(of: text, pointer: pointer)
            if segments.allSatisfy({ if case .text = $0 { true } else { false } }) { return .constant(value) }
            return .string(segments)
        case .array(let elements):
            let nodes = try elements.enumerated().map { try compile($0.element, pointer: "\(pointer)/\($0.offset)") }
            if nodes.allSatisfy({ if case .constant = $0 { true } else { false } }) { return .constant(value) }
            return .array(nodes)
        case .object(let object):
            var members: [(key: String, value: Node)] = []
            var templated = false
            for (key, member) in object {
                let node = try compile(member, pointer: "\(pointer)/\(escape(key))")
                if case .constant = node {} else { templated = true }
                members.append((key, node))
            }
            return templated ? .object(members) : .constant(value)
        case .null, .bool, .integer, .double:
            return .constant(value)
        }
    }

    /// Splits a string at its `{{…}}` placeholders. A `{{` without a closing `}}` is text.
    static func segments(of text: String, pointer: String) throws -> [Segment] {
        var segments: [Segment] = []
        var rest = text[...]
        while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
            if open.lowerBound > rest.startIndex { segments.append(.text(String(rest[..<open.lowerBound]))) }
            let inside = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            segments.append(.placeholder(try placeholder(inside, pointer: pointer)))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { segments.append(.text(String(rest))) }
        return segments
    }

    private static func placeholder(_ text: String, pointer: String) throws -> Placeholder {
        let location = pointer.isEmpty ? "the payload" : "the payload at \(pointer)"
        switch text {
        case "seq": return .sequence
        case "uuid": return .uuid
        case "now": return .now
        default: break
        }
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        if parts.first == "random" {
            guard parts.count == 3, let low = Int64(parts[1]), let high = Int64(parts[2]) else {
                throw CLIError(
                    "placeholder '{{\(text)}}' in \(location) is malformed: write {{random:MIN:MAX}} with integers, "
                        + "e.g. {{random:1:100}}"
                )
            }
            guard low <= high else {
                throw CLIError("placeholder '{{\(text)}}' in \(location): MIN (\(low)) is greater than MAX (\(high))")
            }
            return .random(low...high)
        }
        throw CLIError(
            "unknown placeholder '{{\(text)}}' in \(location); the placeholders are \(placeholderList)"
        )
    }

    /// A JSON Pointer reference token (`~` → `~0`, `/` → `~1`).
    private static func escape(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
