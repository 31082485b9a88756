/// Builds the validators for one schema object, family by family.
enum KeywordFactory {
    /// The validators in evaluation order: cheap type/value checks first so
    /// `isValid` usually fails fast, applicators last.
    static func validators(for schema: SchemaObject) throws -> [any KeywordValidator] {
        var validators: [any KeywordValidator] = []
        validators += try TypeKeyword.make(schema)
        validators += try ValueKeywords.make(schema)
        validators += try NumericKeywords.make(schema)
        validators += try StringKeywords.make(schema)
        validators += try FormatKeyword.make(schema)
        validators += try ArrayKeywords.make(schema)
        validators += try ObjectKeywords.make(schema)
        validators += try CombinatorKeywords.make(schema)
        validators += try ReferenceKeyword.make(schema)
        return validators
    }
}

/// Formatting helpers for violation messages.
enum Describe {
    /// Compact JSON of `value`, shortened so messages stay readable.
    static func value(_ value: JSONValue, limit: Int = 60) -> String {
        let text = value.description
        guard text.count > limit else { return text }
        return String(text.prefix(limit)) + "…"
    }

    /// `"1 item"`, `"2 items"`.
    static func count(_ count: Int, _ noun: String, plural: String? = nil) -> String {
        "\(count) \(count == 1 ? noun : plural ?? noun + "s")"
    }

    /// `'name'` with the name shortened if huge.
    static func name(_ name: String) -> String {
        name.count > 60 ? "'\(name.prefix(60))…'" : "'\(name)'"
    }
}
