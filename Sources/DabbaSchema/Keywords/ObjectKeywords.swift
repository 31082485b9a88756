/// `properties`, `patternProperties`, `additionalProperties`, `required`,
/// `minProperties`, `maxProperties`, `propertyNames`, `dependentRequired`,
/// `dependentSchemas`. Non-objects pass.
enum ObjectKeywords {
    static func make(_ schema: SchemaObject) throws -> [any KeywordValidator] {
        var validators: [any KeywordValidator] = []
        if let value = schema["required"] {
            let names = try schema.uniqueStrings(value, keyword: "required")
            if !names.isEmpty {
                validators.append(RequiredKeyword(names: names, location: schema.location("required")))
            }
        }
        if let minimum = try schema.nonNegativeInteger("minProperties") {
            validators.append(PropertyCountKeyword(limit: minimum, isMinimum: true, location: schema.location("minProperties")))
        }
        if let maximum = try schema.nonNegativeInteger("maxProperties") {
            validators.append(PropertyCountKeyword(limit: maximum, isMinimum: false, location: schema.location("maxProperties")))
        }
        if let value = schema["dependentRequired"] {
            guard case .object(let members) = value else {
                throw schema.invalid("dependentRequired", "must be an object of string arrays")
            }
            let dependencies = try members.map { (trigger: $0.key, names: try schema.uniqueStrings($0.value, keyword: "dependentRequired")) }
            validators.append(DependentRequiredKeyword(dependencies: dependencies, location: schema.location("dependentRequired")))
        }
        if let node = try schema.subschema("propertyNames") {
            validators.append(PropertyNamesKeyword(node: node, location: schema.location("propertyNames")))
        }
        let properties = try schema.subschemaMap("properties") ?? []
        if !properties.isEmpty {
            validators.append(PropertiesKeyword(properties: properties))
        }
        var patterns: [(regex: ECMARegex, node: Int)] = []
        if let members = try schema.subschemaMap("patternProperties") {
            patterns = try members.map { (try schema.regex($0.name, keyword: "patternProperties", member: $0.name), $0.node) }
            if !patterns.isEmpty {
                validators.append(
                    PatternPropertiesKeyword(patterns: patterns, location: schema.location("patternProperties"))
                )
            }
        }
        if let node = try schema.subschema("additionalProperties") {
            validators.append(AdditionalPropertiesKeyword(
                node: node,
                declared: Set(properties.map { ExactString($0.name) }),
                patterns: patterns.map(\.regex),
                forbidsAdditional: schema["additionalProperties"] == .bool(false),
                location: schema.location("additionalProperties")))
        }
        if let dependencies = try schema.subschemaMap("dependentSchemas"), !dependencies.isEmpty {
            validators.append(DependentSchemasKeyword(dependencies: dependencies))
        }
        return validators
    }
}

struct RequiredKeyword: KeywordValidator {
    let names: [String]
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for name in names where !object.contains(key: name) {
            valid = context.fail(location, "missing required property \(Describe.name(name))")
            if !context.collecting { return false }
        }
        return valid
    }
}

struct PropertyCountKeyword: KeywordValidator {
    let limit: Int
    let isMinimum: Bool
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .object(let object) = instance else { return true }
        if isMinimum, object.count < limit {
            return context.fail(location, "object has \(Describe.count(object.count, "property", plural: "properties")), fewer than the minimum of \(limit)")
        }
        if !isMinimum, object.count > limit {
            return context.fail(location, "object has \(Describe.count(object.count, "property", plural: "properties")), more than the maximum of \(limit)")
        }
        return true
    }
}

struct DependentRequiredKeyword: KeywordValidator {
    let dependencies: [(trigger: String, names: [String])]
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for dependency in dependencies where object.contains(key: dependency.trigger) {
            for name in dependency.names where !object.contains(key: name) {
                valid = context.fail(location, "missing property \(Describe.name(name)), required when \(Describe.name(dependency.trigger)) is present")
                if !context.collecting { return false }
            }
        }
        return valid
    }
}

struct DependentSchemasKeyword: KeywordValidator {
    let dependencies: [(name: String, node: Int)]

    var inPlaceSubschemas: [Int] { dependencies.map(\.node) }

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for dependency in dependencies where object.contains(key: dependency.name) {
            if !context.evaluate(dependency.node, instance) {
                valid = false
                if !context.collecting { return false }
            }
        }
        return valid
    }
}

struct PropertyNamesKeyword: KeywordValidator {
    let node: Int
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for name in object.keys where !context.matches(node, .string(name)) {
            valid = false
            guard context.collecting else { return false }
            // The name's own failures would carry a misleading path, so they
            // are folded into one message at the property's location.
            let reason = context.violations(of: node, .string(name)).first?.detail ?? "does not match"
            _ = context.fail(location, key: name, "property name \(Describe.name(name)) is invalid: \(reason)")
        }
        return valid
    }
}

struct PropertiesKeyword: KeywordValidator {
    let properties: [(name: String, node: Int)]

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for property in properties {
            guard let value = object[property.name] else { continue }
            if !context.evaluate(property.node, value, key: property.name) {
                valid = false
                if !context.collecting { return false }
            }
        }
        return valid
    }
}

struct PatternPropertiesKeyword: KeywordValidator {
    let patterns: [(regex: ECMARegex, node: Int)]
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (name, value) in object {
            for pattern in patterns {
                let passed: Bool
                switch pattern.regex.match(name) {
                case .noMatch: continue
                case .match: passed = context.evaluate(pattern.node, value, key: name)
                case .undecided:
                    // Undecided is not a way around the pattern's schema: the name is refused.
                    passed = context.fail(
                        location, key: name,
                        "property name \(Describe.name(name)) is too costly to match against pattern "
                            + "'\(pattern.regex.pattern)' (the pattern backtracks catastrophically on it)"
                    )
                }
                if !passed {
                    valid = false
                    if !context.collecting { return false }
                }
            }
        }
        return valid
    }
}

struct AdditionalPropertiesKeyword: KeywordValidator {
    let node: Int
    /// Names covered by sibling `properties`.
    let declared: Set<ExactString>
    /// Patterns of sibling `patternProperties`.
    let patterns: [ECMARegex]
    /// `additionalProperties: false`, reported with a dedicated message.
    let forbidsAdditional: Bool
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .object(let object) = instance else { return true }
        var valid = true
        for (name, value) in object {
            // A name whose match is undecided is not covered here; patternProperties refuses it.
            if declared.contains(ExactString(name)) { continue }
            if patterns.contains(where: { $0.match(name) == .match }) { continue }
            let passed = forbidsAdditional
                ? context.fail(location, key: name, "property \(Describe.name(name)) is not allowed (additionalProperties is false)")
                : context.evaluate(node, value, key: name)
            if !passed {
                valid = false
                if !context.collecting { return false }
            }
        }
        return valid
    }
}
