/// An error from parsing JSON or compiling a schema.
public struct SchemaError: Error, Sendable, CustomStringConvertible {
    /// A stable, comparable error category.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code's identifier, e.g. `"unsupportedKeyword"`.
        public let rawValue: String

        /// Creates a code from its identifier.
        public init(_ rawValue: String) {
            self.rawValue = rawValue
        }

        /// The schema uses a keyword this validator does not implement. It is
        /// rejected rather than ignored so a schema is never silently weakened.
        public static let unsupportedKeyword = Code("unsupportedKeyword")
        /// The schema is malformed (e.g. `"type": 5`, `"minLength": -1`, a bad regex).
        public static let invalidSchema = Code("invalidSchema")
        /// A `$ref` does not point at anything in the document.
        public static let unresolvedReference = Code("unresolvedReference")
        /// Input bytes are not valid JSON.
        public static let invalidJSON = Code("invalidJSON")

        /// The identifier.
        public var description: String { rawValue }
    }

    /// The category of the error.
    public let code: Code
    /// A human-readable explanation.
    public let message: String
    /// JSON Pointer (within the schema document) of the offending keyword or
    /// subschema; `""` for the root and for JSON parse errors.
    public let pointer: String
    /// For the keyword-related codes, the keyword concerned (e.g. `"if"`).
    public let keyword: String?
    /// For ``Code/invalidJSON``, the byte offset in the input where parsing failed.
    public let byteOffset: Int?

    /// Creates an error.
    public init(code: Code, message: String, pointer: String = "", keyword: String? = nil, byteOffset: Int? = nil) {
        self.code = code
        self.message = message
        self.pointer = pointer
        self.keyword = keyword
        self.byteOffset = byteOffset
    }

    /// `"<code> at <pointer>: <message>"`.
    public var description: String {
        if code == .invalidJSON {
            return "\(code): \(message)"
        }
        return "\(code) at '\(pointer)': \(message)"
    }
}
