/// `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else`.
enum CombinatorKeywords {
    static func make(_ schema: SchemaObject) throws -> [any KeywordValidator] {
        var validators: [any KeywordValidator] = []
        if let nodes = try schema.subschemaArray("allOf") {
            validators.append(AllOfKeyword(nodes: nodes))
        }
        if let nodes = try schema.subschemaArray("anyOf") {
            validators.append(AnyOfKeyword(nodes: nodes, location: schema.location("anyOf")))
        }
        if let nodes = try schema.subschemaArray("oneOf") {
            validators.append(OneOfKeyword(nodes: nodes, location: schema.location("oneOf")))
        }
        if let node = try schema.subschema("not") {
            validators.append(NotKeyword(node: node, location: schema.location("not")))
        }
        // then/else without if have no effect, but are still compiled so that
        // errors in them surface and `$ref`s into them resolve.
        let thenNode = try schema.subschema("then")
        let elseNode = try schema.subschema("else")
        if let ifNode = try schema.subschema("if"), thenNode != nil || elseNode != nil {
            validators.append(IfThenElseKeyword(condition: ifNode, thenNode: thenNode, elseNode: elseNode))
        }
        return validators
    }

    /// `"0: expected string, got integer; 1: …"`: the first reason each
    /// alternative failed, to explain an `anyOf`/`oneOf` failure.
    static func reasons(_ nodes: [Int], _ instance: JSONValue, _ context: ValidationContext) -> String {
        let shown = nodes.prefix(5).enumerated().map { offset, node in
            guard let first = context.violations(of: node, instance).first else { return "\(offset): failed" }
            // Name the location only when the alternative failed deeper down.
            let path = first.instancePath == context.instancePath ? "" : "\(first.instancePath): "
            return "\(offset): \(path)\(first.detail)"
        }
        return shown.joined(separator: "; ") + (nodes.count > 5 ? "; …" : "")
    }
}

struct AllOfKeyword: KeywordValidator {
    let nodes: [Int]

    var inPlaceSubschemas: [Int] { nodes }

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        var valid = true
        for node in nodes where !context.evaluate(node, instance) {
            valid = false
            if !context.collecting { return false }
        }
        return valid
    }
}

struct AnyOfKeyword: KeywordValidator {
    let nodes: [Int]
    let location: KeywordLocation

    var inPlaceSubschemas: [Int] { nodes }

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        // Probing needs no messages; they are only built once all alternatives failed.
        for node in nodes where context.matches(node, instance) {
            return true
        }
        guard context.collecting else { return false }
        let reasons = CombinatorKeywords.reasons(nodes, instance, context)
        return context.fail(location, "value does not match any of the \(nodes.count) 'anyOf' alternatives (\(reasons))")
    }
}

struct OneOfKeyword: KeywordValidator {
    let nodes: [Int]
    let location: KeywordLocation

    var inPlaceSubschemas: [Int] { nodes }

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        var matching: [Int] = []
        for (offset, node) in nodes.enumerated() where context.matches(node, instance) {
            matching.append(offset)
            if matching.count > 1 && !context.collecting { return false }
        }
        if matching.count == 1 { return true }
        if matching.isEmpty {
            guard context.collecting else { return false }
            let reasons = CombinatorKeywords.reasons(nodes, instance, context)
            return context.fail(location, "value does not match any of the \(nodes.count) 'oneOf' alternatives (\(reasons))")
        }
        let list = matching.map(String.init).joined(separator: ", ")
        return context.fail(location, "value matches \(matching.count) 'oneOf' alternatives (\(list)), but must match exactly one")
    }
}

struct NotKeyword: KeywordValidator {
    let node: Int
    let location: KeywordLocation

    var inPlaceSubschemas: [Int] { [node] }

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        if !context.matches(node, instance) { return true }
        return context.fail(location, "value must not match the 'not' schema")
    }
}

struct IfThenElseKeyword: KeywordValidator {
    let condition: Int
    let thenNode: Int?
    let elseNode: Int?

    var inPlaceSubschemas: [Int] { [condition] + [thenNode, elseNode].compactMap { $0 } }

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        // `if` only selects a branch; its own failures are never reported.
        let branch = context.matches(condition, instance) ? thenNode : elseNode
        guard let branch else { return true }
        return context.evaluate(branch, instance)
    }
}
