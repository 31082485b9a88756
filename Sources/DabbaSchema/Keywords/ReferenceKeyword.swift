/// `$ref`: applies the referenced schema to the same instance, alongside any
/// sibling keywords (2020-12 semantics, unlike draft-07's "ref overrides").
struct ReferenceKeyword: KeywordValidator {
    let target: Int

    var inPlaceSubschemas: [Int] { [target] }

    static func make(_ schema: SchemaObject) throws -> [any KeywordValidator] {
        guard let reference = try schema.string("$ref") else { return [] }
        let tokens = try schema.compiler.resolveReference(reference, base: schema.base, at: schema.tokens + ["$ref"])
        return [ReferenceKeyword(target: try schema.compiler.compile(tokens))]
    }

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        context.evaluate(target, instance)
    }
}
