/// The keywords this implementation understands.
enum SchemaVocabulary {
    /// Keywords that are evaluated.
    static let evaluated: Set<String> = [
        // Validation vocabulary
        "type", "enum", "const",
        "multipleOf", "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum",
        "maxLength", "minLength", "pattern",
        "maxItems", "minItems", "uniqueItems", "maxContains", "minContains",
        "maxProperties", "minProperties", "required", "dependentRequired",
        // Format (only date-time asserts, see FormatKeyword)
        "format",
        // Applicator vocabulary
        "prefixItems", "items", "contains",
        "properties", "patternProperties", "additionalProperties", "propertyNames",
        "dependentSchemas",
        "allOf", "anyOf", "oneOf", "not", "if", "then", "else",
        // Core
        "$ref",
    ]

    /// Keywords accepted and ignored: annotations, identifiers and containers
    /// (`$id`/`$anchor`/`$defs` do matter, but only for reference resolution).
    static let ignored: Set<String> = [
        "title", "description", "examples", "default", "$comment", "deprecated",
        "readOnly", "writeOnly", "$schema", "$id", "$anchor", "$defs", "definitions",
        "contentMediaType", "contentEncoding",
        // Annotation-only in 2020-12 (like its two siblings above).
        "contentSchema",
    ]

    /// How a keyword holds subschemas, for walking a schema structurally.
    enum SubschemaShape {
        /// The value is one schema.
        case single
        /// The value is an array of schemas.
        case array
        /// The value is an object whose member values are schemas.
        case map
    }

    /// The subschema shape of `keyword`, or `nil` if its value is not a schema
    /// container (e.g. `enum`, whose contents must never be treated as schemas).
    static func subschemaShape(of keyword: String) -> SubschemaShape? {
        switch keyword {
        case "items", "contains", "additionalProperties", "propertyNames", "not", "if", "then", "else":
            return .single
        case "prefixItems", "allOf", "anyOf", "oneOf":
            return .array
        case "properties", "patternProperties", "dependentSchemas", "$defs", "definitions":
            return .map
        default:
            return nil
        }
    }

    /// Whether `keyword` may appear in a schema object.
    static func isAllowed(_ keyword: String) -> Bool {
        evaluated.contains(keyword) || ignored.contains(keyword) || keyword.hasPrefix("x-")
    }
}
