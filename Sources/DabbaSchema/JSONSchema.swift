/// A compiled JSON Schema (draft 2020-12 subset) ready to validate instances.
///
/// Compilation resolves every `$ref` and turns the schema into a table of
/// validator nodes once; ``validate(_:)`` and ``isValid(_:)`` then only walk
/// that table. A `JSONSchema` is immutable and `Sendable`, so one instance can
/// validate messages from many tasks concurrently.
///
/// Supported keywords: `type`, `enum`, `const`, `minimum`, `maximum`,
/// `exclusiveMinimum`, `exclusiveMaximum`, `multipleOf`, `minLength`,
/// `maxLength`, `pattern`, `format` (asserts `date-time` only), `items`,
/// `prefixItems`, `contains`, `minContains`, `maxContains`, `minItems`,
/// `maxItems`, `uniqueItems`, `properties`, `patternProperties`,
/// `additionalProperties`, `propertyNames`, `required`, `minProperties`,
/// `maxProperties`, `dependentRequired`, `dependentSchemas`, `allOf`, `anyOf`,
/// `oneOf`, `not`, `if`/`then`/`else`, `$ref` (JSON Pointer, `$id` and
/// `$anchor` based, within one document), and boolean schemas.
/// Annotation keywords (``ignoredKeywords``) and `x-` extensions are ignored;
/// anything else throws ``SchemaError/Code/unsupportedKeyword`` so a schema
/// is never silently weakened.
public struct JSONSchema: Sendable {
    /// Compilation options.
    public struct Options: Sendable, Hashable {
        /// Whether `format: "date-time"` is asserted (RFC 3339). `true` by
        /// default; `false` gives the draft 2020-12 default of treating every
        /// `format` as an annotation.
        public var assertFormat: Bool

        /// Creates options.
        public init(assertFormat: Bool = true) {
            self.assertFormat = assertFormat
        }
    }

    /// Keywords that are evaluated.
    public static var supportedKeywords: Set<String> { SchemaVocabulary.evaluated }

    /// Keywords that are accepted and ignored (annotations, identifiers,
    /// definitions containers). Keys starting with `x-` are ignored too.
    public static var ignoredKeywords: Set<String> { SchemaVocabulary.ignored }

    private let nodes: [CompiledNode]
    private let root: Int

    /// Compiles a schema.
    ///
    /// - Parameters:
    ///   - schema: the schema (object or boolean).
    ///   - document: the whole document containing `schema` (e.g. an AsyncAPI
    ///     file converted to `JSONValue`). `$ref`s such as
    ///     `#/components/schemas/Order` resolve against it. When `nil`, the
    ///     schema is its own document.
    ///   - pointer: JSON Pointer of `schema` within `document`, used for the
    ///     reported ``SchemaViolation/schemaPath``s (e.g.
    ///     `/components/schemas/Order/properties/id/type`). If `document` does
    ///     not hold `schema` at that pointer (or there is no `document`), the
    ///     schema is treated as standalone: `$ref`s still resolve against
    ///     `document` (or the schema itself) and `pointer` is only used as a
    ///     prefix for reported paths.
    /// - Throws: ``SchemaError`` with code ``SchemaError/Code/unsupportedKeyword``,
    ///   ``SchemaError/Code/invalidSchema`` or ``SchemaError/Code/unresolvedReference``.
    public init(_ schema: JSONValue, in document: JSONValue? = nil, at pointer: String = "") throws {
        try self.init(schema, in: document, at: pointer, options: Options())
    }

    /// Compiles a schema with explicit ``Options`` (see ``init(_:in:at:)``).
    public init(_ schema: JSONValue, in document: JSONValue? = nil, at pointer: String = "", options: Options) throws {
        let compiler = try SchemaCompiler(schema: schema, document: document, pointer: pointer, options: options)
        root = try compiler.compileRoot()
        nodes = compiler.nodes
    }

    /// Validates `instance`, returning every violation found (empty means
    /// valid). Violations are reported at the deepest failing location; for
    /// `anyOf`/`oneOf` one summary violation explains each alternative.
    public func validate(_ instance: JSONValue) -> [SchemaViolation] {
        let context = ValidationContext(nodes: nodes, collecting: true)
        _ = context.evaluate(root, instance)
        return context.violations
    }

    /// Whether `instance` is valid. Faster than ``validate(_:)``: it stops at
    /// the first failure and formats no messages.
    public func isValid(_ instance: JSONValue) -> Bool {
        ValidationContext(nodes: nodes, collecting: false).evaluate(root, instance)
    }
}
