/// `minLength`, `maxLength` (in Unicode code points, as the spec requires,
/// not UTF-16 units or grapheme clusters) and `pattern`.
enum StringKeywords {
    static func make(_ schema: SchemaObject) throws -> [any KeywordValidator] {
        var validators: [any KeywordValidator] = []
        if let minimum = try schema.nonNegativeInteger("minLength") {
            validators.append(LengthKeyword(limit: minimum, isMinimum: true, location: schema.location("minLength")))
        }
        if let maximum = try schema.nonNegativeInteger("maxLength") {
            validators.append(LengthKeyword(limit: maximum, isMinimum: false, location: schema.location("maxLength")))
        }
        if let pattern = try schema.string("pattern") {
            validators.append(PatternKeyword(regex: try schema.regex(pattern, keyword: "pattern"), location: schema.location("pattern")))
        }
        return validators
    }
}

struct LengthKeyword: KeywordValidator {
    let limit: Int
    let isMinimum: Bool
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .string(let text) = instance else { return true }
        // UTF-8 length bounds the scalar count from both sides (1...4 bytes per
        // scalar), which settles most checks without counting.
        let bytes = text.utf8.count
        if isMinimum {
            if bytes < limit { return reportIfShort(text, context) }
            if (bytes + 3) / 4 >= limit { return true }
            return reportIfShort(text, context)
        } else {
            if bytes <= limit { return true }
            let length = text.unicodeScalars.count
            if length <= limit { return true }
            return context.fail(location, "string has \(Describe.count(length, "character")), more than the maximum length of \(limit)")
        }
    }

    private func reportIfShort(_ text: String, _ context: ValidationContext) -> Bool {
        let length = text.unicodeScalars.count
        if length >= limit { return true }
        return context.fail(location, "string has \(Describe.count(length, "character")), fewer than the minimum length of \(limit)")
    }
}

struct PatternKeyword: KeywordValidator {
    let regex: ECMARegex
    let location: KeywordLocation

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        guard case .string(let text) = instance else { return true }
        switch regex.match(text) {
        case .match: return true
        case .noMatch:
            return context.fail(
                location, "string \(Describe.value(instance)) does not match pattern '\(regex.pattern)'"
            )
        case .undecided:
            return context.fail(
                location,
                "string \(Describe.value(instance)) is too costly to match against pattern '\(regex.pattern)' (the "
                    + "pattern backtracks catastrophically on it); treated as not matching"
            )
        }
    }
}
