/// One reason an instance failed validation.
public struct SchemaViolation: Sendable, Hashable, CustomStringConvertible {
    /// JSON Pointer of the offending value in the instance, e.g.
    /// `/items/0/price`; `""` is the instance root.
    public let instancePath: String
    /// The schema keyword that failed, e.g. `"type"` or `"required"`
    /// (`"false"` for a `false` boolean schema).
    public let keyword: String
    /// JSON Pointer of that keyword in the schema document (after `$ref`
    /// resolution, i.e. where the keyword is written), e.g.
    /// `/components/schemas/Order/properties/price/type`.
    public let schemaPath: String
    /// Human-readable text prefixed with the instance path (`/` for the root),
    /// e.g. `"/items/0/price: expected number, got string"`.
    public let message: String

    /// Creates a violation.
    public init(instancePath: String, keyword: String, schemaPath: String, message: String) {
        self.instancePath = instancePath
        self.keyword = keyword
        self.schemaPath = schemaPath
        self.message = message
    }

    /// Creates a violation whose message is `detail` prefixed with the instance path.
    init(instancePath: String, location: KeywordLocation, detail: String) {
        self.init(
            instancePath: instancePath,
            keyword: location.keyword,
            schemaPath: location.schemaPath,
            message: "\(instancePath.isEmpty ? "/" : instancePath): \(detail)")
    }

    /// The ``message``.
    public var description: String { message }

    /// The message without the leading instance path (used when nesting
    /// branch failures into an `anyOf`/`oneOf` message).
    var detail: String {
        let prefix = (instancePath.isEmpty ? "/" : instancePath) + ": "
        return message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
    }
}
