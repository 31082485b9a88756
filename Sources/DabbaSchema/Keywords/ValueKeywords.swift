/// `enum` and `const`: equality with JSON data-model semantics
/// (`1 == 1.0`, object key order ignored), which is what `JSONValue.==` does.
enum ValueKeywords {
    static func make(_ schema: SchemaObject) throws -> [any KeywordValidator] {
        var validators: [any KeywordValidator] = []
        if let value = schema["enum"] {
            guard case .array(let allowed) = value else {
                throw schema.invalid("enum", "must be an array, got \(value.typeName)")
            }
            validators.append(EnumKeyword(allowed: allowed, lookup: Set(allowed), location: schema.location("enum")))
        }
        if let value = schema["const"] {
            validators.append(ConstKeyword(expected: value, location: schema.location("const")))
        }
        return validators
    }
}

struct EnumKeyword: KeywordValidator {
    let allowed: [JSONValue]
    /// Hash lookup so large enums stay O(1) per instance.
    let lookup: Set<JSONValue>
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        if lookup.contains(instance) { return true }
        return context.fail(location, "value \(Describe.value(instance)) is not one of \(listing)")
    }

    private var listing: String {
        let shown = allowed.prefix(10).map { Describe.value($0, limit: 40) }
        return "[" + shown.joined(separator: ", ") + (allowed.count > 10 ? ", …]" : "]")
    }
}

struct ConstKeyword: KeywordValidator {
    let expected: JSONValue
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        if instance == expected { return true }
        return context.fail(location, "value \(Describe.value(instance)) is not equal to \(Describe.value(expected))")
    }
}
