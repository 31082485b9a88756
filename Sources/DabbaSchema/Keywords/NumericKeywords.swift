/// `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`.
/// Non-numbers pass (they are `type`'s business).
enum NumericKeywords {
    static func make(_ schema: SchemaObject) throws -> [any KeywordValidator] {
        var validators: [any KeywordValidator] = []
        if let limit = try schema.number("minimum") {
            validators.append(BoundKeyword(limit: limit, kind: .minimum, location: schema.location("minimum")))
        }
        if let limit = try schema.number("exclusiveMinimum") {
            validators.append(BoundKeyword(limit: limit, kind: .exclusiveMinimum, location: schema.location("exclusiveMinimum")))
        }
        if let limit = try schema.number("maximum") {
            validators.append(BoundKeyword(limit: limit, kind: .maximum, location: schema.location("maximum")))
        }
        if let limit = try schema.number("exclusiveMaximum") {
            validators.append(BoundKeyword(limit: limit, kind: .exclusiveMaximum, location: schema.location("exclusiveMaximum")))
        }
        if let divisor = try schema.number("multipleOf") {
            guard JSONNumber.compare(divisor, .integer(0)) == 1 else {
                throw schema.invalid("multipleOf", "must be greater than 0")
            }
            validators.append(MultipleOfKeyword(divisor: divisor, location: schema.location("multipleOf")))
        }
        return validators
    }
}

struct BoundKeyword: KeywordValidator {
    enum Kind: Sendable {
        case minimum, exclusiveMinimum, maximum, exclusiveMaximum
    }

    let limit: JSONValue
    let kind: Kind
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        // Exact mixed Int64/Double comparison (see JSONNumber).
        guard let order = JSONNumber.compare(instance, limit) else { return true }
        let valid: Bool
        let relation: String
        switch kind {
        case .minimum:
            valid = order >= 0
            relation = "less than the minimum of"
        case .exclusiveMinimum:
            valid = order > 0
            relation = "not greater than the exclusive minimum of"
        case .maximum:
            valid = order <= 0
            relation = "greater than the maximum of"
        case .exclusiveMaximum:
            valid = order < 0
            relation = "not less than the exclusive maximum of"
        }
        if valid { return true }
        return context.fail(location, "\(instance) is \(relation) \(limit)")
    }
}

struct MultipleOfKeyword: KeywordValidator {
    let divisor: JSONValue
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard instance.isNumber else { return true }
        if JSONNumber.isMultiple(instance, of: divisor) { return true }
        return context.fail(location, "\(instance) is not a multiple of \(divisor)")
    }
}
