import DabbaSchema

/// The schema-evolution verdict of one event type between two versions of a catalog.
public struct EventCompatibility: Sendable, Hashable {
    /// What happened to the event type.
    public struct Change: Sendable, Hashable, CustomStringConvertible {
        /// The word printed for it: `unchanged`, `changed`, `added` or `removed`.
        public let rawValue: String
        private init(_ rawValue: String) { self.rawValue = rawValue }
        /// The payload schema is the same (after resolving references).
        public static let unchanged = Change("unchanged")
        /// The payload schema differs.
        public static let changed = Change("changed")
        /// The event type is new.
        public static let added = Change("added")
        /// The event type is gone.
        public static let removed = Change("removed")
        /// The word printed for it.
        public var description: String { rawValue }
    }

    /// The event type.
    public var eventType: String
    /// What happened to it.
    public var change: Change
    /// The mode it was checked with: its own `x-dabba-compatibility` (new version, else old), else the default.
    public var mode: CompatibilityMode
    /// Whether the mode came from the event's `x-dabba-compatibility` rather than the default.
    public var modeDeclared: Bool
    /// The breaking differences; empty when compatible.
    public var issues: [SchemaIncompatibility]

    /// Creates a verdict.
    /// - Parameters:
    ///   - eventType: The event type.
    ///   - change: What happened to it.
    ///   - mode: The mode used.
    ///   - modeDeclared: Whether the event declares the mode.
    ///   - issues: The breaking differences.
    public init(
        eventType: String, change: Change, mode: CompatibilityMode, modeDeclared: Bool, issues: [SchemaIncompatibility]
    ) {
        self.eventType = eventType
        self.change = change
        self.mode = mode
        self.modeDeclared = modeDeclared
        self.issues = issues
    }

    /// Whether the change is allowed under the mode.
    public var isCompatible: Bool { issues.isEmpty }
}

extension SchemaCompatibility {
    /// Compares every event type of two catalog versions.
    ///
    /// - A new event type is compatible in every mode: no old event or old consumer of it exists.
    /// - An event that moved to another topic or changed its `x-dabba-key` breaks every checked mode (reported with
    ///   the mode itself as the direction).
    /// - A removed event type breaks backward (and full): its old events stay in the topic for the topic's
    ///   retention, and new consumers, which no longer know the type, must still read them. Forward is unaffected:
    ///   old consumers simply receive no more of them. Under `none` nothing is checked.
    /// - Parameters:
    ///   - old: The previous catalog (for example from `git show REF:Topics/…`).
    ///   - new: The working-tree catalog.
    ///   - defaultMode: The mode for events that declare no `x-dabba-compatibility`.
    /// - Returns: One verdict per event type of either catalog: the new catalog's order, then removed types.
    public static func compare(old: Catalog, new: Catalog, defaultMode: CompatibilityMode) -> [EventCompatibility] {
        var results: [EventCompatibility] = []
        for event in new.events {
            let declared = event.compatibility ?? old.event(named: event.type)?.compatibility
            let mode = declared ?? defaultMode
            guard let previous = old.event(named: event.type) else {
                results.append(
                    EventCompatibility(
                        eventType: event.type, change: .added, mode: mode, modeDeclared: declared != nil, issues: []))
                continue
            }
            let oldSchema = SchemaInDocument(payloadOf: previous)
            let newSchema = SchemaInDocument(payloadOf: event)
            let unchanged = resolvedEqual(oldSchema, newSchema) && previous.topic == event.topic
                && previous.keyField == event.keyField
            var issues = unchanged ? [] : check(old: oldSchema, new: newSchema, mode: mode)
            if mode != .unchecked { issues += placementIssues(old: previous, new: event, mode: mode) }
            results.append(
                EventCompatibility(
                    eventType: event.type, change: unchanged ? .unchanged : .changed, mode: mode,
                    modeDeclared: declared != nil, issues: issues
                )
            )
        }
        for event in old.events where new.event(named: event.type) == nil {
            let mode = event.compatibility ?? defaultMode
            var issues: [SchemaIncompatibility] = []
            if mode == .backward || mode == .full {
                issues.append(
                    SchemaIncompatibility(
                        direction: .backward, path: "", rule: "removed",
                        message:
                            "the event type was removed, but its old events stay on \(event.topic) for the topic's retention and new consumers must still read them"
                    )
                )
            }
            results.append(
                EventCompatibility(
                    eventType: event.type, change: .removed, mode: mode, modeDeclared: event.compatibility != nil,
                    issues: issues)
            )
        }
        return results
    }

    /// Changes that break every direction whatever the schema says: the event moving to another topic (its
    /// consumers stop receiving it; its old events are not where new consumers look) and a different partition key
    /// field (events of one entity land on other partitions than before, so their order is lost across the change).
    static func placementIssues(old: EventSpec, new: EventSpec, mode: CompatibilityMode) -> [SchemaIncompatibility] {
        var issues: [SchemaIncompatibility] = []
        if old.topic != new.topic {
            issues.append(
                SchemaIncompatibility(
                    direction: mode, path: "", rule: "topic",
                    message: "the event moved from topic \(old.topic) to \(new.topic): consumers of \(old.topic) stop receiving it, and its old events are not on \(new.topic)"
                )
            )
        }
        if old.keyField != new.keyField {
            issues.append(
                SchemaIncompatibility(
                    direction: mode, path: new.keyField ?? old.keyField ?? "", rule: "x-dabba-key",
                    message: "the partition key changed from \(old.keyField ?? "none") to \(new.keyField ?? "none"): events of one entity land on other partitions than before, so their order is lost across the change"
                )
            )
        }
        return issues
    }

    /// Whether two schemas are equal once their references are inlined (so moving a schema under another name
    /// in `components.schemas` is not a change).
    static func resolvedEqual(_ first: SchemaInDocument, _ second: SchemaInDocument) -> Bool {
        inline(first.schema, in: first.document, depth: 0) == inline(second.schema, in: second.document, depth: 0)
    }

    private static func inline(_ schema: JSONValue, in document: JSONValue, depth: Int, isNameMap: Bool = false)
        -> JSONValue
    {
        guard depth < 32 else { return schema }
        switch schema {
        case .object(let object):
            if let reference = object["$ref"]?.stringValue, reference.hasPrefix("#"),
                let target = document.value(atPointer: String(reference.dropFirst()))
            {
                var siblings = object
                siblings["$ref"] = nil
                let inlined = inline(target, in: document, depth: depth + 1)
                guard !siblings.isEmpty, var merged = inlined.objectValue else { return inlined }
                for (key, value) in siblings { merged[key] = inline(value, in: document, depth: depth + 1) }
                return .object(merged)
            }
            var result = JSONObject()
            for (key, value) in object {
                // Annotations do not change what is valid.
                let isAnnotation =
                    ["description", "title", "examples", "$comment"].contains(key) || key.hasPrefix("x-")
                if isAnnotation, !isNameMap { continue }
                let holdsNames =
                    !isNameMap && ["properties", "$defs", "patternProperties", "dependentSchemas"].contains(key)
                result[key] = inline(value, in: document, depth: depth + 1, isNameMap: holdsNames)
            }
            return .object(result)
        case .array(let items):
            return .array(items.map { inline($0, in: document, depth: depth + 1) })
        default:
            return schema
        }
    }
}
