/// Where a keyword sits, captured at compile time so reporting costs nothing
/// until a violation actually happens.
struct KeywordLocation: Sendable {
    /// The keyword name reported in ``SchemaViolation/keyword``.
    let keyword: String
    /// JSON Pointer of the keyword in the schema document.
    let schemaPath: String
}

/// A compiled keyword: checks one aspect of an instance.
protocol KeywordValidator: Sendable {
    /// Returns whether `instance` satisfies the keyword. On failure the
    /// validator reports through `context` (which decides whether a message is
    /// built at all) and returns `false`.
    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool

    /// Subschemas applied to the *same* instance location (`$ref`, `allOf`,
    /// `not`, ...). A cycle through these edges would recurse forever, so the
    /// compiler rejects it.
    var inPlaceSubschemas: [Int] { get }
}

extension KeywordValidator {
    var inPlaceSubschemas: [Int] { [] }
}

/// One compiled (sub)schema. Nodes live in a flat table and refer to each
/// other by index, which keeps recursive schemas representable with plain
/// immutable `Sendable` values.
struct CompiledNode: Sendable {
    enum Body: Sendable {
        /// `true` or `{}`: nothing to check.
        case acceptAll
        /// `false`: every instance fails.
        case rejectAll(KeywordLocation)
        /// The schema object's assertions/applicators, in evaluation order.
        case keywords([any KeywordValidator])
    }

    var body: Body
    /// JSON Pointer of the schema in the document (for diagnostics).
    let location: String
}
