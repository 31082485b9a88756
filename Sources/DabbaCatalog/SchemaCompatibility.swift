import DabbaSchema
import Foundation

/// A JSON Schema together with the document its `$ref`s resolve against (for a catalog event: the event's
/// ``EventSpec/rawPayloadSchema`` and ``EventSpec/schemaDocument``).
public struct SchemaInDocument: Sendable, Hashable {
    /// The schema, possibly just a `$ref`.
    public var schema: JSONValue
    /// The document `#/…` references resolve against.
    public var document: JSONValue

    /// Creates a schema in its document.
    /// - Parameters:
    ///   - schema: The schema.
    ///   - document: The document its references resolve against (default: the schema itself).
    public init(_ schema: JSONValue, in document: JSONValue? = nil) {
        self.schema = schema
        self.document = document ?? schema
    }

    /// The payload schema of a catalog event.
    /// - Parameter event: The event.
    public init(payloadOf event: EventSpec) {
        self.init(event.rawPayloadSchema, in: event.schemaDocument)
    }
}

/// One reason a reader's schema may reject data written with a writer's schema.
public struct SchemaIncompatibility: Sendable, Hashable, CustomStringConvertible {
    /// The direction that breaks: ``CompatibilityMode/backward`` (new consumers reading old events) or
    /// ``CompatibilityMode/forward`` (old consumers reading new events).
    public var direction: CompatibilityMode
    /// JSON Pointer of the field in the payload, `""` for the payload itself.
    public var path: String
    /// The schema keyword whose change breaks, e.g. `required`, `type`, `enum`, `additionalProperties`.
    public var rule: String
    /// What a reader would fail on, in words.
    public var message: String

    /// Creates an incompatibility.
    /// - Parameters:
    ///   - direction: `.backward` or `.forward`.
    ///   - path: The field's JSON Pointer.
    ///   - rule: The keyword.
    ///   - message: The explanation.
    public init(direction: CompatibilityMode, path: String, rule: String, message: String) {
        self.direction = direction
        self.path = path
        self.rule = rule
        self.message = message
    }

    /// `backward: /amount: … (type)`.
    public var description: String { "\(direction): \(path.isEmpty ? "/" : path): \(message) (\(rule))" }
}

/// Schema evolution checks with the Schema Registry meanings, as a pure function of two JSON Schemas.
///
/// Everything reduces to one question, ``readerIssues(reader:writer:)``: can a consumer validating with the
/// *reader* schema accept every payload valid under the *writer* schema? Then
/// - backward (new consumers read old events): reader = new, writer = old;
/// - forward (old consumers read new events): reader = old, writer = new;
/// - full: both.
///
/// The check is conservative where JSON Schema cannot be compared exactly: a changed `pattern`, and changed
/// `allOf`/`anyOf`/`oneOf`/`not`/`if` schemas, count as breaking whenever the reader has them. A field the writer's
/// schema does not declare is not part of its contract, so an open writer schema (no
/// `additionalProperties: false`) is not assumed to write arbitrary values under the reader's new field names.
/// See `Docs/contracts.md` for the full table.
public enum SchemaCompatibility {
    /// The incompatibilities between two versions of a schema under a mode.
    /// - Parameters:
    ///   - old: The previous version.
    ///   - new: The new version.
    ///   - mode: `.backward`, `.forward`, `.full`, or `.unchecked` (no check).
    /// - Returns: Every incompatibility found, backward ones first; empty when compatible.
    public static func check(old: SchemaInDocument, new: SchemaInDocument, mode: CompatibilityMode)
        -> [SchemaIncompatibility]
    {
        var issues: [SchemaIncompatibility] = []
        if mode == .backward || mode == .full {
            issues += readerIssues(reader: new, writer: old).map { $0.with(direction: .backward) }
        }
        if mode == .forward || mode == .full {
            issues += readerIssues(reader: old, writer: new).map { $0.with(direction: .forward) }
        }
        return issues
    }

    /// Why a reader's schema may reject payloads valid under a writer's schema.
    /// - Parameters:
    ///   - reader: The consumer's schema.
    ///   - writer: The producer's schema.
    /// - Returns: The problems (with direction `.backward`, as reader = new); empty when every writer payload is
    ///   accepted, as far as the check can tell.
    public static func readerIssues(reader: SchemaInDocument, writer: SchemaInDocument) -> [SchemaIncompatibility] {
        var comparison = Comparison(readerDocument: reader.document, writerDocument: writer.document)
        comparison.compare(reader: reader.schema, writer: writer.schema, path: "", depth: 0)
        return comparison.issues
    }
}

extension SchemaIncompatibility {
    func with(direction: CompatibilityMode) -> SchemaIncompatibility {
        var copy = self
        copy.direction = direction
        return copy
    }
}

/// One reader-versus-writer walk over two schemas.
private struct Comparison {
    let readerDocument: JSONValue
    let writerDocument: JSONValue
    var issues: [SchemaIncompatibility] = []

    /// Recursive schemas stop here; deeper levels are the same schemas again.
    static let maximumDepth = 32
    /// Keywords whose subschemas are not compared structurally: any change counts as breaking.
    static let opaqueKeywords = [
        "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "patternProperties", "propertyNames", "contains",
        "dependentRequired", "dependentSchemas", "prefixItems", "unevaluatedProperties", "unevaluatedItems",
    ]

    init(readerDocument: JSONValue, writerDocument: JSONValue) {
        self.readerDocument = readerDocument
        self.writerDocument = writerDocument
    }

    mutating func report(_ path: String, _ rule: String, _ message: String) {
        issues.append(SchemaIncompatibility(direction: .backward, path: path, rule: rule, message: message))
    }

    mutating func compare(reader readerSchema: JSONValue, writer writerSchema: JSONValue, path: String, depth: Int) {
        guard depth < Self.maximumDepth else { return }
        let reader = Self.resolve(readerSchema, in: readerDocument)
        let writer = Self.resolve(writerSchema, in: writerDocument)
        if case .bool(false) = writer { return }  // the writer writes nothing here
        if case .bool(true) = reader { return }
        if case .bool(false) = reader {
            report(path, "false", "the reader accepts no value here; the writer writes one")
            return
        }
        guard let readerObject = reader.objectValue else { return }
        let writerObject = writer.objectValue ?? JSONObject()

        compareTypes(readerObject, writerObject, path: path)
        compareEnums(readerObject, writerObject, path: path)
        compareStringRules(readerObject, writerObject, path: path)
        compareBounds(readerObject, writerObject, path: path)
        compareObjects(readerObject, writerObject, path: path, depth: depth)
        compareArrays(readerObject, writerObject, path: path, depth: depth)
        for keyword in Self.opaqueKeywords {
            guard let readerValue = readerObject[keyword], readerValue != writerObject[keyword] else { continue }
            report(
                path, keyword,
                "the reader's \(keyword) differs from the writer's; Dabba does not compare \(keyword) schemas, so any change counts as breaking"
            )
        }
    }

    // MARK: - Keywords

    mutating func compareTypes(_ reader: JSONObject, _ writer: JSONObject, path: String) {
        guard let readerTypes = Self.types(reader) else { return }
        guard let writerTypes = Self.types(writer) else {
            report(
                path, "type", "the reader accepts only \(Self.list(readerTypes)); the writer's schema allows any type")
            return
        }
        let rejected = writerTypes.filter { type in
            !(readerTypes.contains(type) || (type == "integer" && readerTypes.contains("number")))
        }
        if !rejected.isEmpty {
            report(
                path, "type",
                "the writer may write \(Self.list(rejected)), the reader accepts only \(Self.list(readerTypes))"
            )
        }
    }

    mutating func compareEnums(_ reader: JSONObject, _ writer: JSONObject, path: String) {
        guard let readerValues = Self.allowedValues(reader) else { return }
        guard let writerValues = Self.allowedValues(writer) else {
            report(
                path, "enum", "the reader accepts only \(Self.values(readerValues)); the writer's schema has no enum")
            return
        }
        let rejected = writerValues.filter { !readerValues.contains($0) }
        if !rejected.isEmpty {
            report(
                path, "enum", "the writer may write \(Self.values(rejected)), which the reader's enum does not allow")
        }
    }

    mutating func compareStringRules(_ reader: JSONObject, _ writer: JSONObject, path: String) {
        if let readerPattern = reader["pattern"]?.stringValue {
            if let writerPattern = writer["pattern"]?.stringValue {
                if writerPattern != readerPattern {
                    report(
                        path, "pattern",
                        "the pattern changed from '\(writerPattern)' to '\(readerPattern)'; values matching the first may not match the second"
                    )
                }
            } else {
                report(
                    path, "pattern", "the reader requires the pattern '\(readerPattern)'; the writer's schema has none")
            }
        }
        if let readerFormat = reader["format"]?.stringValue, writer["format"]?.stringValue != readerFormat {
            let written = writer["format"]?.stringValue.map { "'\($0)'" } ?? "none"
            report(path, "format", "the reader requires the format '\(readerFormat)'; the writer's is \(written)")
        }
    }

    mutating func compareBounds(_ reader: JSONObject, _ writer: JSONObject, path: String) {
        // Lower bounds: the reader's must not be above the writer's.
        let lowerBounds: [(String, String)] = [
            ("minimum", "smaller values"), ("minLength", "shorter strings"), ("minItems", "fewer items"),
            ("minProperties", "fewer fields"),
        ]
        for (keyword, what) in lowerBounds {
            guard let readerBound = reader[keyword]?.doubleValue else { continue }
            let writerBound = Self.effectiveLowerBound(keyword, writer)
            if writerBound.map({ $0 < readerBound }) ?? true {
                report(
                    path, keyword,
                    "the reader's \(keyword) is \(Self.number(readerBound)); the writer may write \(what) (\(writerBound.map(Self.number) ?? "no \(keyword)"))"
                )
            }
        }
        let upperBounds: [(String, String)] = [
            ("maximum", "larger values"), ("maxLength", "longer strings"), ("maxItems", "more items"),
            ("maxProperties", "more fields"),
        ]
        for (keyword, what) in upperBounds {
            guard let readerBound = reader[keyword]?.doubleValue else { continue }
            let writerBound = Self.effectiveUpperBound(keyword, writer)
            if writerBound.map({ $0 > readerBound }) ?? true {
                report(
                    path, keyword,
                    "the reader's \(keyword) is \(Self.number(readerBound)); the writer may write \(what) (\(writerBound.map(Self.number) ?? "no \(keyword)"))"
                )
            }
        }
        if let readerBound = reader["exclusiveMinimum"]?.doubleValue {
            let writerExclusive = writer["exclusiveMinimum"]?.doubleValue
            let writerInclusive = writer["minimum"]?.doubleValue
            let covered =
                (writerExclusive.map { $0 >= readerBound } ?? false)
                || (writerInclusive.map { $0 > readerBound } ?? false)
            if !covered {
                report(
                    path, "exclusiveMinimum",
                    "the reader requires values above \(Self.number(readerBound)); the writer may write smaller ones")
            }
        }
        if let readerBound = reader["exclusiveMaximum"]?.doubleValue {
            let writerExclusive = writer["exclusiveMaximum"]?.doubleValue
            let writerInclusive = writer["maximum"]?.doubleValue
            let covered =
                (writerExclusive.map { $0 <= readerBound } ?? false)
                || (writerInclusive.map { $0 < readerBound } ?? false)
            if !covered {
                report(
                    path, "exclusiveMaximum",
                    "the reader requires values below \(Self.number(readerBound)); the writer may write larger ones")
            }
        }
        if let readerStep = reader["multipleOf"]?.doubleValue, readerStep > 0 {
            let writerStep = writer["multipleOf"]?.doubleValue
            let divides = writerStep.map { step in (step / readerStep).rounded() == step / readerStep } ?? false
            if !divides {
                report(
                    path, "multipleOf",
                    "the reader requires multiples of \(Self.number(readerStep)); the writer's values need not be")
            }
        }
        if reader["uniqueItems"]?.boolValue == true, writer["uniqueItems"]?.boolValue != true {
            report(path, "uniqueItems", "the reader requires unique items; the writer may repeat them")
        }
    }

    mutating func compareObjects(_ reader: JSONObject, _ writer: JSONObject, path: String, depth: Int) {
        let readerProperties = reader["properties"]?.objectValue ?? JSONObject()
        let writerProperties = writer["properties"]?.objectValue ?? JSONObject()
        let readerRequired = Set(reader["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let writerRequired = Set(writer["required"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        let readerAdditional = reader["additionalProperties"]
        let writerAdditional = writer["additionalProperties"]
        let writerIsClosed = Self.isFalse(writerAdditional)

        for name in readerRequired.sorted() where !writerRequired.contains(name) {
            let fieldPath = path + "/" + Self.escape(name)
            if let property = readerProperties[name],
                Self.resolve(property, in: readerDocument).objectValue?["default"] != nil
            {
                continue  // the reader fills in the default when the field is missing
            }
            if writerProperties[name] == nil {
                report(
                    fieldPath, "required",
                    "the reader requires '\(name)' (without a default); the writer does not write it")
            } else {
                report(
                    fieldPath, "required",
                    "the reader requires '\(name)' (without a default); the writer may leave it out")
            }
        }
        for (name, writerProperty) in writerProperties {
            let fieldPath = path + "/" + Self.escape(name)
            if let readerProperty = readerProperties[name] {
                compare(reader: readerProperty, writer: writerProperty, path: fieldPath, depth: depth + 1)
            } else if Self.isFalse(readerAdditional) {
                report(
                    fieldPath, "additionalProperties",
                    "the writer may write '\(name)', which the reader does not declare and its additionalProperties: false rejects"
                )
            } else if let readerAdditional, readerAdditional.objectValue != nil {
                compare(reader: readerAdditional, writer: writerProperty, path: fieldPath, depth: depth + 1)
            }
        }
        if !writerIsClosed {
            for (name, readerProperty) in readerProperties where writerProperties[name] == nil {
                // An open writer may write any undeclared field; only a declared additionalProperties schema is
                // part of its contract.
                guard let writerAdditional, writerAdditional.objectValue != nil else { continue }
                compare(
                    reader: readerProperty, writer: writerAdditional, path: path + "/" + Self.escape(name),
                    depth: depth + 1)
            }
            if Self.isFalse(readerAdditional) {
                report(
                    path, "additionalProperties",
                    "the reader rejects undeclared fields (additionalProperties: false); the writer's schema allows them"
                )
            } else if let readerAdditional, readerAdditional.objectValue != nil {
                if let writerAdditional, writerAdditional.objectValue != nil {
                    compare(reader: readerAdditional, writer: writerAdditional, path: path, depth: depth + 1)
                } else {
                    report(
                        path, "additionalProperties",
                        "the reader constrains undeclared fields with a schema; the writer's schema allows any")
                }
            }
        }
    }

    mutating func compareArrays(_ reader: JSONObject, _ writer: JSONObject, path: String, depth: Int) {
        guard let readerItems = reader["items"] else { return }
        if let writerItems = writer["items"] {
            compare(reader: readerItems, writer: writerItems, path: path + "/0", depth: depth + 1)
        } else if Self.types(writer)?.contains("array") ?? true {
            compare(reader: readerItems, writer: .bool(true), path: path + "/0", depth: depth + 1)
        }
    }

    // MARK: - Helpers

    /// Follows `$ref`s inside the document (merging sibling keywords over the target, as 2020-12 applies both).
    static func resolve(_ schema: JSONValue, in document: JSONValue) -> JSONValue {
        var current = schema
        var seen: Set<String> = []
        while let object = current.objectValue, let reference = object["$ref"]?.stringValue, reference.hasPrefix("#"),
            !seen.contains(reference)
        {
            seen.insert(reference)
            guard let target = document.value(atPointer: String(reference.dropFirst())) else { return current }
            guard var merged = target.objectValue else { return target }
            for (key, value) in object where key != "$ref" { merged[key] = value }
            current = .object(merged)
        }
        return current
    }

    /// The JSON types a schema allows, or `nil` when it does not restrict them.
    static func types(_ schema: JSONObject) -> Set<String>? {
        switch schema["type"] {
        case .string(let type)?: return [type]
        case .array(let types)?: return Set(types.compactMap(\.stringValue))
        default: break
        }
        if let values = allowedValues(schema) { return Set(values.map(jsonType)) }
        return nil
    }

    static func allowedValues(_ schema: JSONObject) -> [JSONValue]? {
        if let constant = schema["const"] { return [constant] }
        return schema["enum"]?.arrayValue
    }

    static func jsonType(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .double(let double): double.rounded(.towardZero) == double ? "integer" : "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    static func effectiveLowerBound(_ keyword: String, _ writer: JSONObject) -> Double? {
        if let bound = writer[keyword]?.doubleValue { return bound }
        if keyword == "minimum", let exclusive = writer["exclusiveMinimum"]?.doubleValue { return exclusive }
        // Lengths and counts cannot be negative.
        return keyword == "minimum" ? nil : 0
    }

    static func effectiveUpperBound(_ keyword: String, _ writer: JSONObject) -> Double? {
        if let bound = writer[keyword]?.doubleValue { return bound }
        if keyword == "maximum", let exclusive = writer["exclusiveMaximum"]?.doubleValue { return exclusive }
        return nil
    }

    static func isFalse(_ value: JSONValue?) -> Bool {
        if case .bool(false)? = value { return true }
        return false
    }

    static func escape(_ name: String) -> String {
        name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }

    static func list(_ types: some Collection<String>) -> String { types.sorted().joined(separator: " or ") }

    static func values(_ values: [JSONValue]) -> String { values.map(\.description).joined(separator: ", ") }

    static func number(_ value: Double) -> String {
        value.rounded(.towardZero) == value && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }
}
