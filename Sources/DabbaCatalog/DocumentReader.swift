import DabbaSchema

/// Typed, error-collecting access to one converted AsyncAPI document.
///
/// Every accessor that finds a missing or mistyped value records a ``CatalogError`` located at the offending YAML
/// node and returns `nil`, so the parser goes on and reports every problem of the file.
final class DocumentReader {
    /// The display path of the file.
    let file: String
    /// The document as JSON.
    let root: JSONValue
    /// Where each value came from.
    let sourceMap: SourceMap
    /// The problems found so far.
    private(set) var errors: [CatalogError] = []

    init(file: String, root: JSONValue, sourceMap: SourceMap) {
        self.file = file
        self.root = root
        self.sourceMap = sourceMap
    }

    // MARK: Locations and errors

    /// The location of the value at `pointer` (or of its closest ancestor present in the file).
    func location(_ pointer: JSONPointer) -> CatalogLocation {
        let position = sourceMap.position(of: pointer)
        return CatalogLocation(file: file, line: position.line, column: position.column)
    }

    /// The location of the key that introduced the value at `pointer`.
    func keyLocation(_ pointer: JSONPointer) -> CatalogLocation {
        let position = sourceMap.keyPosition(of: pointer)
        return CatalogLocation(file: file, line: position.line, column: position.column)
    }

    /// Whether the file has a node at exactly this pointer.
    func exists(_ pointer: JSONPointer) -> Bool {
        sourceMap.values[pointer] != nil
    }

    /// Records an error at the value at `pointer`.
    func error(_ code: CatalogError.Code, at pointer: JSONPointer, _ message: String) {
        errors.append(CatalogError(code: code, at: location(pointer), message: message))
    }

    /// Records an error at the key that introduced the value at `pointer`.
    func errorAtKey(_ code: CatalogError.Code, at pointer: JSONPointer, _ message: String) {
        errors.append(CatalogError(code: code, at: keyLocation(pointer), message: message))
    }

    /// Records an error at a given location.
    func error(_ code: CatalogError.Code, at location: CatalogLocation, _ message: String) {
        errors.append(CatalogError(code: code, at: location, message: message))
    }

    // MARK: Typed access

    /// The value at `pointer`, if present.
    func value(_ pointer: JSONPointer) -> JSONValue? {
        root.resolve(pointer)
    }

    /// A human name for a pointer in messages: `channels.payments.address`.
    func describe(_ pointer: JSONPointer) -> String {
        pointer.tokens.joined(separator: ".")
    }

    /// The mapping at `pointer`; records `invalidDocument` when it is missing (and required) or not a mapping.
    func object(_ pointer: JSONPointer, required: Bool = false, code: CatalogError.Code = .invalidDocument)
        -> JSONObject?
    {
        switch value(pointer) {
        case .object(let object)?:
            return object
        case nil, .null?:
            if required { missing(pointer, code: code) }
            return nil
        case .some(let other):
            error(code, at: pointer, "'\(describe(pointer))' must be a mapping, not \(other.kindName)")
            return nil
        }
    }

    /// The string at `pointer`; records an error when it is missing (and required) or not a string.
    func string(_ pointer: JSONPointer, required: Bool = false, code: CatalogError.Code = .invalidDocument)
        -> String?
    {
        switch value(pointer) {
        case .string(let string)?:
            return string
        case nil, .null?:
            if required { missing(pointer, code: code) }
            return nil
        case .some(let other):
            error(code, at: pointer, "'\(describe(pointer))' must be a string, not \(other.kindName)")
            return nil
        }
    }

    /// A scalar at `pointer` as text (strings as they are, numbers and booleans printed); for lenient fields
    /// such as `info.version`.
    func scalarText(_ pointer: JSONPointer, required: Bool = false) -> String? {
        switch value(pointer) {
        case .string(let string)?: return string
        case .integer(let integer)?: return String(integer)
        case .double(let double)?: return "\(double)"
        case .bool(let bool)?: return bool ? "true" : "false"
        case nil, .null?:
            if required { missing(pointer, code: .invalidDocument) }
            return nil
        case .some(let other):
            error(.invalidDocument, at: pointer, "'\(describe(pointer))' must be a string, not \(other.kindName)")
            return nil
        }
    }

    /// The array at `pointer`; records an error when it is missing (and required) or not a sequence.
    func array(_ pointer: JSONPointer, required: Bool = false, code: CatalogError.Code = .invalidDocument)
        -> [JSONValue]?
    {
        switch value(pointer) {
        case .array(let array)?:
            return array
        case nil, .null?:
            if required { missing(pointer, code: code) }
            return nil
        case .some(let other):
            error(code, at: pointer, "'\(describe(pointer))' must be a sequence, not \(other.kindName)")
            return nil
        }
    }

    /// The boolean at `pointer`; records an error when it is not a boolean.
    func bool(_ pointer: JSONPointer, code: CatalogError.Code = .invalidDocument) -> Bool? {
        switch value(pointer) {
        case .bool(let bool)?:
            return bool
        case nil, .null?:
            return nil
        case .some(let other):
            error(code, at: pointer, "'\(describe(pointer))' must be true or false, not \(other.kindName)")
            return nil
        }
    }

    /// The integer at `pointer`, from `minimum` to `maximum`; records `code` when it is missing (and required),
    /// not an integer, too small or too large.
    func integer(
        _ pointer: JSONPointer,
        required: Bool = false,
        minimum: Int,
        maximum: Int = .max,
        code: CatalogError.Code = .invalidDocument
    ) -> Int? {
        switch value(pointer) {
        case .integer(let integer)?:
            guard integer >= Int64(minimum) else {
                error(code, at: pointer, "'\(describe(pointer))' must be at least \(minimum), not \(integer)")
                return nil
            }
            guard integer <= Int64(maximum), let result = Int(exactly: integer) else {
                error(code, at: pointer, "'\(describe(pointer))' must be at most \(maximum), not \(integer)")
                return nil
            }
            return result
        case nil, .null?:
            if required { missing(pointer, code: code) }
            return nil
        case .some(let other):
            error(code, at: pointer, "'\(describe(pointer))' must be an integer, not \(other.shortDescription)")
            return nil
        }
    }

    /// Records that a required value is missing, at its parent's position.
    func missing(_ pointer: JSONPointer, code: CatalogError.Code) {
        let key = pointer.tokens.last ?? ""
        let parent = pointer.parent ?? .root
        let owner = parent.tokens.isEmpty ? "the document" : "'\(describe(parent))'"
        if exists(pointer) {
            error(code, at: pointer, "'\(describe(pointer))' must not be empty")
        } else {
            errorAtKey(code, at: parent, "\(owner) is missing '\(key)'")
        }
    }

    // MARK: References

    /// Follows the `$ref` of the mapping at `pointer` (and of whatever it points at, up to 16 hops).
    ///
    /// - Parameters:
    ///   - pointer: A mapping that is either a `$ref` or the thing itself.
    ///   - what: What is expected, for messages (`message`, `channel`).
    ///   - prefix: When given, the reference must point below this pointer (for example `/components/messages`).
    /// - Returns: The pointer of the target, `pointer` itself when it is no reference, or `nil` after recording a
    ///   `missingReference` or `invalidDocument` error.
    func follow(_ pointer: JSONPointer, what: String, under prefix: JSONPointer? = nil) -> JSONPointer? {
        var current = pointer
        var hops = 0
        while case .object(let object)? = value(current), let reference = object["$ref"] {
            let referencePointer = current.appending("$ref")
            guard case .string(let text) = reference else {
                error(.invalidDocument, at: referencePointer, "'$ref' must be a string")
                return nil
            }
            guard let target = JSONPointer(reference: text) else {
                error(
                    .missingReference,
                    at: referencePointer,
                    "only references inside the same document ('#/...') are supported, not '\(text)'"
                )
                return nil
            }
            guard value(target) != nil else {
                error(.missingReference, at: referencePointer, "\(what) '\(text)' does not exist")
                return nil
            }
            if let prefix, !target.hasPrefix(prefix) || target.tokens.count != prefix.tokens.count + 1 {
                error(
                    .missingReference,
                    at: referencePointer,
                    "'\(text)' must point at a \(what) under '\(prefix.reference)'"
                )
                return nil
            }
            hops += 1
            guard hops <= 16 else {
                error(.invalidDocument, at: referencePointer, "too many nested references from '\(text)'")
                return nil
            }
            current = target
        }
        return current
    }
}

extension JSONValue {
    /// A word for the kind of value, for error messages.
    var kindName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .integer: return "an integer"
        case .double: return "a number"
        case .string: return "a string"
        case .array: return "a sequence"
        case .object: return "a mapping"
        }
    }

    /// A short rendering of the value for error messages.
    var shortDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let bool): return bool ? "true" : "false"
        case .integer(let integer): return String(integer)
        case .double(let double): return "\(double)"
        case .string(let string): return "'\(string)'"
        case .array: return "a sequence"
        case .object: return "a mapping"
        }
    }
}
