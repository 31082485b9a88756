/// `prefixItems`, `items`, `contains`/`minContains`/`maxContains`,
/// `minItems`, `maxItems`, `uniqueItems`. Non-arrays pass.
enum ArrayKeywords {
    static func make(_ schema: SchemaObject) throws -> [any KeywordValidator] {
        var validators: [any KeywordValidator] = []
        if let minimum = try schema.nonNegativeInteger("minItems") {
            validators.append(ItemCountKeyword(limit: minimum, isMinimum: true, location: schema.location("minItems")))
        }
        if let maximum = try schema.nonNegativeInteger("maxItems") {
            validators.append(ItemCountKeyword(limit: maximum, isMinimum: false, location: schema.location("maxItems")))
        }
        if try schema.boolean("uniqueItems") == true {
            validators.append(UniqueItemsKeyword(location: schema.location("uniqueItems")))
        }
        let prefix = try schema.subschemaArray("prefixItems")
        if let prefix {
            validators.append(PrefixItemsKeyword(nodes: prefix))
        }
        if case .array? = schema["items"] {
            // Draft 2019-09 array form; 2020-12 moved it to prefixItems.
            throw schema.invalid("items", "must be a schema (use 'prefixItems' for per-position schemas)")
        }
        if let node = try schema.subschema("items") {
            validators.append(ItemsKeyword(
                node: node,
                startIndex: prefix?.count ?? 0,
                forbidsItems: schema["items"] == .bool(false),
                location: schema.location("items")))
        }
        let minContains = try schema.nonNegativeInteger("minContains")
        let maxContains = try schema.nonNegativeInteger("maxContains")
        // minContains/maxContains without contains are ignored, per spec.
        if let node = try schema.subschema("contains") {
            validators.append(ContainsKeyword(
                node: node,
                minimum: minContains ?? 1,
                maximum: maxContains,
                minimumLocation: minContains == nil ? schema.location("contains") : schema.location("minContains"),
                maximumLocation: schema.location("maxContains")))
        }
        return validators
    }
}

struct ItemCountKeyword: KeywordValidator {
    let limit: Int
    let isMinimum: Bool
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .array(let elements) = instance else { return true }
        if isMinimum, elements.count < limit {
            return context.fail(location, "array has \(Describe.count(elements.count, "item")), fewer than the minimum of \(limit)")
        }
        if !isMinimum, elements.count > limit {
            return context.fail(location, "array has \(Describe.count(elements.count, "item")), more than the maximum of \(limit)")
        }
        return true
    }
}

struct UniqueItemsKeyword: KeywordValidator {
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .array(let elements) = instance, elements.count > 1 else { return true }
        // JSONValue's hash/== already implement JSON equality (1 == 1.0, key order ignored).
        var firstIndex: [JSONValue: Int] = [:]
        firstIndex.reserveCapacity(elements.count)
        for (index, element) in elements.enumerated() {
            if let earlier = firstIndex.updateValue(index, forKey: element) {
                return context.fail(location, "array items at index \(earlier) and \(index) are equal, but items must be unique")
            }
        }
        return true
    }
}

struct PrefixItemsKeyword: KeywordValidator {
    let nodes: [Int]

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .array(let elements) = instance else { return true }
        var valid = true
        for (position, node) in zip(elements.indices, nodes) where !context.evaluate(node, elements[position], position: position) {
            valid = false
            if !context.collecting { return false }
        }
        return valid
    }
}

struct ItemsKeyword: KeywordValidator {
    let node: Int
    /// Items before this index are covered by `prefixItems`.
    let startIndex: Int
    /// `items: false`, reported with a dedicated message.
    let forbidsItems: Bool
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .array(let elements) = instance, elements.count > startIndex else { return true }
        if forbidsItems {
            return context.fail(location, position: startIndex, "array has \(Describe.count(elements.count, "item")), but at most \(startIndex) are allowed")
        }
        var valid = true
        for position in startIndex..<elements.count where !context.evaluate(node, elements[position], position: position) {
            valid = false
            if !context.collecting { return false }
        }
        return valid
    }
}

struct ContainsKeyword: KeywordValidator {
    let node: Int
    let minimum: Int
    let maximum: Int?
    let minimumLocation: KeywordLocation
    let maximumLocation: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .array(let elements) = instance else { return true }
        var matches = 0
        for element in elements where context.matches(node, element) {
            matches += 1
            // Enough is known once the minimum is met and no maximum applies.
            if maximum == nil, matches >= minimum { return true }
            if let maximum, matches > maximum { break }
        }
        if matches < minimum {
            let wanted = minimum == 1 ? "at least one item" : "at least \(minimum) items"
            return context.fail(minimumLocation, "array must contain \(wanted) matching 'contains', found \(matches)")
        }
        if let maximum, matches > maximum {
            return context.fail(maximumLocation, "array must contain at most \(Describe.count(maximum, "item")) matching 'contains', found more")
        }
        return true
    }
}
