/// Per-call evaluation state: the current instance path, collected
/// violations and whether they are being collected at all.
///
/// Created fresh for each `validate`/`isValid` call and never shared, so it is
/// a plain (non-`Sendable`) class; keywords receive it by reference to avoid
/// copying the path stack.
final class ValidationContext {
    /// Guards against runaway recursion (e.g. a recursive schema applied to
    /// pathologically deep data) instead of overflowing the thread's stack.
    static let maximumDepth = 1_000

    private enum PathToken {
        case key(String)
        case index(Int)
    }

    private let nodes: [CompiledNode]
    // The mutable state below is only touched by the validating thread and
    // never through overlapping accesses, so the runtime exclusivity checks
    // (measurably hot here) are disabled for it.
    /// When `false`, validators return at the first failure and no messages
    /// are formatted (the `isValid` fast path, and probing inside `anyOf`/`not`).
    @exclusivity(unchecked) private(set) var collecting: Bool
    @exclusivity(unchecked) private(set) var violations: [SchemaViolation] = []
    @exclusivity(unchecked) private var path: [PathToken] = []
    @exclusivity(unchecked) private var depth = 0

    init(nodes: [CompiledNode], collecting: Bool) {
        self.nodes = nodes
        self.collecting = collecting
    }

    // MARK: Evaluation

    /// Evaluates node `index` against `instance` at the current path.
    func evaluate(_ index: Int, _ instance: JSONValue) -> Bool {
        switch nodes[index].body {
        case .acceptAll:
            return true
        case .rejectAll(let location):
            return fail(location, "value is not allowed here (schema is false)")
        case .keywords(let validators):
            depth += 1
            defer { depth -= 1 }
            guard depth <= Self.maximumDepth else {
                return fail(
                    KeywordLocation(keyword: "$ref", schemaPath: nodes[index].location),
                    "schema evaluation exceeded the maximum depth of \(Self.maximumDepth)")
            }
            var valid = true
            for validator in validators where !validator.validate(instance, self) {
                valid = false
                if !collecting { return false }
            }
            return valid
        }
    }

    /// Evaluates node `index` against the member `key` of the current object.
    func evaluate(_ index: Int, _ instance: JSONValue, key: String) -> Bool {
        path.append(.key(key))
        defer { path.removeLast() }
        return evaluate(index, instance)
    }

    /// Evaluates node `index` against element `position` of the current array.
    func evaluate(_ index: Int, _ instance: JSONValue, position: Int) -> Bool {
        path.append(.index(position))
        defer { path.removeLast() }
        return evaluate(index, instance)
    }

    /// Whether `instance` is valid against node `index`, without reporting
    /// anything (for `anyOf`, `oneOf`, `not`, `if`, `contains`).
    func matches(_ index: Int, _ instance: JSONValue) -> Bool {
        guard collecting else { return evaluate(index, instance) }
        collecting = false
        defer { collecting = true }
        return evaluate(index, instance)
    }

    /// Evaluates node `index` collecting its violations separately from the
    /// main list. Only used after a failure is known, to explain it.
    func violations(of index: Int, _ instance: JSONValue) -> [SchemaViolation] {
        let saved = (violations, collecting)
        violations = []
        collecting = true
        _ = evaluate(index, instance)
        let branch = violations
        (violations, collecting) = saved
        return branch
    }

    // MARK: Reporting

    /// Records a violation at the current path (if collecting) and returns `false`.
    func fail(_ location: KeywordLocation, _ detail: @autoclosure () -> String) -> Bool {
        if collecting {
            violations.append(SchemaViolation(instancePath: instancePath, location: location, detail: detail()))
        }
        return false
    }

    /// Records a violation at the member `key` of the current object.
    func fail(_ location: KeywordLocation, key: String, _ detail: @autoclosure () -> String) -> Bool {
        guard collecting else { return false }
        path.append(.key(key))
        defer { path.removeLast() }
        return fail(location, detail())
    }

    /// Records a violation at element `position` of the current array.
    func fail(_ location: KeywordLocation, position: Int, _ detail: @autoclosure () -> String) -> Bool {
        guard collecting else { return false }
        path.append(.index(position))
        defer { path.removeLast() }
        return fail(location, detail())
    }

    /// The current instance location as a JSON Pointer (built lazily, only
    /// when a violation is recorded).
    var instancePath: String {
        var result = ""
        for token in path {
            switch token {
            case .key(let key): result = JSONPointer.appending(key, to: result)
            case .index(let index): result += "/\(index)"
            }
        }
        return result
    }
}
