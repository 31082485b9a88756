/// Turns schema JSON into a table of ``CompiledNode``s.
///
/// Compilation happens in two interleaved steps:
/// 1. *Scanning* walks a schema structurally (only through keywords that hold
///    subschemas, never through `enum`/`const` data) to record every `$id`
///    (schema resource) and `$anchor`, and the base URI of each location.
/// 2. *Compiling* turns one location into a node, compiling subschemas and
///    `$ref` targets on demand. Nodes are keyed by document location, so a
///    subschema referenced from many places is compiled once and recursive
///    references simply point back at an existing node index.
///
/// The compiler is used by a single `JSONSchema.init` call and then discarded.
final class SchemaCompiler {
    /// Base URI of a document that declares no `$id`. Only needs to be
    /// absolute and unlikely to collide with real identifiers.
    static let defaultBaseURI = "urn:dabba:schema-document"

    /// Stands in for the location of a root schema that is not part of the
    /// document (a JSON key cannot realistically collide with it).
    private static let detachedRootToken = "\u{0}dabba-detached-schema"

    let options: JSONSchema.Options

    private let document: JSONValue
    private let rootTokens: [String]
    private let rootSchema: JSONValue
    /// Locations under `rootTokens` are reported as this pointer plus the
    /// rest of the path (`nil`: report document locations unchanged).
    private let rootLabel: String?

    private(set) var nodes: [CompiledNode] = []
    private var nodeByLocation: [String: Int] = [:]
    private var baseByLocation: [String: String] = [:]
    /// Absolute URI (no fragment) of each schema resource → its location.
    private var resources: [String: [String]] = [:]
    /// `"<resource URI>#<anchor>"` → location.
    private var anchors: [String: [String]] = [:]
    private var regexCache: [String: ECMARegex] = [:]

    init(schema: JSONValue, document: JSONValue?, pointer: String, options: JSONSchema.Options) throws {
        guard let tokens = JSONPointer.tokens(of: pointer) else {
            throw SchemaError(code: .invalidSchema, message: "'\(pointer)' is not a valid JSON Pointer", pointer: pointer)
        }
        if let document {
            self.document = document
            if JSONPointer.resolve(tokens, in: document) == schema {
                rootTokens = tokens
                rootLabel = nil
            } else {
                // The schema was passed alongside a document it is not part of
                // (at that pointer): give it a location of its own so `#/...`
                // references still resolve against the document.
                rootTokens = [Self.detachedRootToken]
                rootLabel = pointer
            }
        } else {
            // Without a document, refs resolve against the schema itself; the
            // pointer only labels where the schema came from in diagnostics.
            self.document = schema
            rootTokens = []
            rootLabel = pointer
        }
        rootSchema = schema
        self.options = options
        resources[Self.defaultBaseURI] = []
    }

    /// Compiles the root schema and everything it references.
    func compileRoot() throws -> Int {
        let root = try compile(rootTokens)
        try rejectInPlaceCycles()
        return root
    }

    // MARK: Locations

    /// The value at a location. The root schema passed to `init` takes
    /// precedence over whatever the document holds at its location.
    func value(at tokens: [String]) -> JSONValue? {
        if tokens.starts(with: rootTokens) {
            return JSONPointer.resolve(Array(tokens.dropFirst(rootTokens.count)), in: rootSchema)
        }
        return JSONPointer.resolve(tokens, in: document)
    }

    /// A location as reported to users in errors and violations.
    func reportedPointer(_ tokens: [String]) -> String {
        if let rootLabel, tokens.starts(with: rootTokens) {
            return rootLabel + JSONPointer.string(from: Array(tokens.dropFirst(rootTokens.count)))
        }
        return JSONPointer.string(from: tokens)
    }

    /// The base URI in effect at `tokens` from the `$id`s of its ancestors.
    /// Used for locations reached by JSON Pointer that no scan covered yet.
    private func baseURI(ofAncestorsOf tokens: [String]) -> String {
        var base = URIReference(Self.defaultBaseURI)
        for length in 0..<tokens.count {
            guard let ancestor = value(at: Array(tokens[..<length])) else { continue }
            if case .object(let object) = ancestor, case .string(let id)? = object["$id"] {
                base = URIReference(id).resolved(against: base).withoutFragment
            }
        }
        return base.string
    }

    // MARK: Scanning

    /// Records `$id`s, `$anchor`s and base URIs for the schema at `tokens`
    /// and all its structural subschemas.
    private func scan(_ value: JSONValue, at tokens: [String], base inheritedBase: String) throws {
        let pointer = JSONPointer.string(from: tokens)
        guard baseByLocation[pointer] == nil else { return }
        guard case .object(let object) = value else {
            baseByLocation[pointer] = inheritedBase
            return
        }
        var base = inheritedBase
        if let idValue = object["$id"] {
            guard case .string(let id) = idValue else {
                throw invalid("'$id' must be a string", at: tokens + ["$id"], keyword: "$id")
            }
            let resolved = URIReference(id).resolved(against: URIReference(inheritedBase))
            if let fragment = resolved.fragment, !fragment.isEmpty {
                throw invalid("'$id' must not contain a fragment (use '$anchor')", at: tokens + ["$id"], keyword: "$id")
            }
            base = resolved.withoutFragment.string
            if let existing = resources[base], existing != tokens {
                throw invalid("duplicate '$id' \(base), also at \(reportedPointer(existing))", at: tokens + ["$id"], keyword: "$id")
            }
            resources[base] = tokens
        }
        baseByLocation[pointer] = base
        if let anchorValue = object["$anchor"] {
            guard case .string(let anchor) = anchorValue, Self.isValidAnchor(anchor) else {
                throw invalid("'$anchor' must be a string matching ^[A-Za-z_][-A-Za-z0-9._]*$", at: tokens + ["$anchor"], keyword: "$anchor")
            }
            let key = base + "#" + anchor
            if let existing = anchors[key], existing != tokens {
                throw invalid("duplicate '$anchor' \(key), also at \(reportedPointer(existing))", at: tokens + ["$anchor"], keyword: "$anchor")
            }
            anchors[key] = tokens
        }
        for (keyword, child) in object {
            switch SchemaVocabulary.subschemaShape(of: keyword) {
            case .single:
                try scan(child, at: tokens + [keyword], base: base)
            case .array:
                guard case .array(let elements) = child else { continue }
                for (index, element) in elements.enumerated() {
                    try scan(element, at: tokens + [keyword, String(index)], base: base)
                }
            case .map:
                guard case .object(let members) = child else { continue }
                for (name, member) in members {
                    try scan(member, at: tokens + [keyword, name], base: base)
                }
            case nil:
                continue
            }
        }
    }

    private static func isValidAnchor(_ anchor: String) -> Bool {
        guard let first = anchor.unicodeScalars.first, first == "_" || first.isASCIILetter else { return false }
        return anchor.unicodeScalars.allSatisfy { scalar in
            scalar.isASCIILetter || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_" || scalar == "."
        }
    }

    // MARK: Compiling

    /// Returns the node index for the schema at `tokens`, compiling it (and,
    /// transitively, its subschemas) on first use.
    func compile(_ tokens: [String]) throws -> Int {
        let pointer = JSONPointer.string(from: tokens)
        if let existing = nodeByLocation[pointer] { return existing }
        guard let value = value(at: tokens) else {
            throw SchemaError(code: .unresolvedReference, message: "no schema at '\(reportedPointer(tokens))'", pointer: reportedPointer(tokens))
        }
        if baseByLocation[pointer] == nil {
            try scan(value, at: tokens, base: baseURI(ofAncestorsOf: tokens))
        }
        let base = baseByLocation[pointer] ?? Self.defaultBaseURI
        // Reserve the slot first so references back to this location (recursion)
        // resolve to this index while its keywords are still being compiled.
        let index = nodes.count
        let location = reportedPointer(tokens)
        nodes.append(CompiledNode(body: .acceptAll, location: location))
        nodeByLocation[pointer] = index
        nodes[index].body = try compileBody(value, tokens: tokens, base: base)
        return index
    }

    private func compileBody(_ value: JSONValue, tokens: [String], base: String) throws -> CompiledNode.Body {
        switch value {
        case .bool(true):
            return .acceptAll
        case .bool(false):
            return .rejectAll(KeywordLocation(keyword: "false", schemaPath: reportedPointer(tokens)))
        case .object(let object):
            for keyword in object.keys where !SchemaVocabulary.isAllowed(keyword) {
                throw SchemaError(
                    code: .unsupportedKeyword,
                    message: "keyword '\(keyword)' is not supported",
                    pointer: reportedPointer(tokens + [keyword]),
                    keyword: keyword)
            }
            let schema = SchemaObject(object: object, tokens: tokens, base: base, compiler: self)
            // Definitions are compiled even if unused so that errors in them
            // (unsupported keywords, bad values) are not silently accepted.
            for container in ["$defs", "definitions"] {
                _ = try schema.subschemaMap(container)
            }
            let validators = try KeywordFactory.validators(for: schema)
            return validators.isEmpty ? .acceptAll : .keywords(validators)
        default:
            throw invalid("a schema must be an object or a boolean, got \(value.typeName)", at: tokens, keyword: nil)
        }
    }

    // MARK: References

    /// Resolves a `$ref` value against the base URI of its schema to a
    /// document location.
    func resolveReference(_ reference: String, base: String, at tokens: [String]) throws -> [String] {
        let target = URIReference(reference).resolved(against: URIReference(base))
        let resource = target.withoutFragment.string
        guard let fragment = (target.fragment ?? "").percentDecoded else {
            throw invalid("'\(reference)' has a malformed percent-encoding", at: tokens, keyword: "$ref")
        }
        let unresolved = { (why: String) in
            SchemaError(
                code: .unresolvedReference,
                message: "cannot resolve '\(reference)': \(why)",
                pointer: self.reportedPointer(tokens),
                keyword: "$ref")
        }
        if fragment.isEmpty || fragment.hasPrefix("/") {
            guard let resourceTokens = resources[resource] else {
                throw unresolved("no schema with URI '\(resource)' in this document (remote references are not retrieved)")
            }
            guard let pointerTokens = JSONPointer.tokens(of: fragment) else {
                throw invalid("'\(reference)' has a malformed JSON Pointer fragment", at: tokens, keyword: "$ref")
            }
            let targetTokens = resourceTokens + pointerTokens
            guard value(at: targetTokens) != nil else {
                throw unresolved("nothing at '\(reportedPointer(targetTokens))'")
            }
            return targetTokens
        }
        guard let anchorTokens = anchors[resource + "#" + fragment] else {
            throw unresolved("no '$anchor' named '\(fragment)' in '\(resource)'")
        }
        return anchorTokens
    }

    // MARK: Regular expressions

    /// Compiles (and caches) an ECMA-262 pattern.
    func regex(_ pattern: String, at tokens: [String], keyword: String) throws -> ECMARegex {
        if let cached = regexCache[pattern] { return cached }
        do {
            let regex = try ECMARegex(pattern)
            regexCache[pattern] = regex
            return regex
        } catch {
            throw invalid("'\(pattern)' is not a valid regular expression", at: tokens, keyword: keyword)
        }
    }

    // MARK: Cycles

    /// Rejects cycles of in-place applicators (`{"$ref": "#"}` at the root,
    /// `a → allOf → $ref a`, ...). Such a schema can never finish evaluating,
    /// so it is reported as invalid at compile time instead of at runtime.
    private func rejectInPlaceCycles() throws {
        enum Mark { case unvisited, active, done }
        var marks = Array(repeating: Mark.unvisited, count: nodes.count)
        var stack: [Int] = []

        func visit(_ index: Int) throws {
            switch marks[index] {
            case .done:
                return
            case .active:
                let cycleStart = stack.firstIndex(of: index) ?? 0
                let cycle = (stack[cycleStart...] + [index]).map { nodes[$0].location }
                throw SchemaError(
                    code: .invalidSchema,
                    message: "infinite recursion: subschemas apply to the same value in a cycle (\(cycle.map { "'\($0)'" }.joined(separator: " → ")))",
                    pointer: nodes[index].location)
            case .unvisited:
                marks[index] = .active
                stack.append(index)
                if case .keywords(let validators) = nodes[index].body {
                    for validator in validators {
                        for child in validator.inPlaceSubschemas {
                            try visit(child)
                        }
                    }
                }
                stack.removeLast()
                marks[index] = .done
            }
        }

        for index in nodes.indices {
            try visit(index)
        }
    }

    // MARK: Errors

    func invalid(_ message: String, at tokens: [String], keyword: String?) -> SchemaError {
        SchemaError(code: .invalidSchema, message: message, pointer: reportedPointer(tokens), keyword: keyword)
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self)
    }
}
