/// A schema object being compiled, with typed accessors that turn malformed
/// keyword values into ``SchemaError/Code/invalidSchema`` errors pointing at
/// the keyword.
struct SchemaObject {
    let object: JSONObject
    /// Document location of this schema.
    let tokens: [String]
    /// Base URI for resolving `$ref`s in this schema.
    let base: String
    let compiler: SchemaCompiler

    /// The raw value of `keyword`, if present.
    subscript(keyword: String) -> JSONValue? {
        object[keyword]
    }

    /// Where `keyword` sits, for violation reports.
    func location(_ keyword: String) -> KeywordLocation {
        KeywordLocation(keyword: keyword, schemaPath: compiler.reportedPointer(tokens + [keyword]))
    }

    func invalid(_ keyword: String, _ message: String) -> SchemaError {
        compiler.invalid("'\(keyword)' \(message)", at: tokens + [keyword], keyword: keyword)
    }

    // MARK: Scalar values

    func nonNegativeInteger(_ keyword: String) throws -> Int? {
        guard let value = object[keyword] else { return nil }
        // Integral doubles (e.g. `2.0`) count as integers, as the meta-schema allows.
        guard let number = value.int64Value, number >= 0 else {
            throw invalid(keyword, "must be a non-negative integer, got \(value)")
        }
        return Int(clamping: number)
    }

    func number(_ keyword: String) throws -> JSONValue? {
        guard let value = object[keyword] else { return nil }
        guard value.isNumber else { throw invalid(keyword, "must be a number, got \(value.typeName)") }
        return value
    }

    func boolean(_ keyword: String) throws -> Bool? {
        guard let value = object[keyword] else { return nil }
        guard let flag = value.boolValue else { throw invalid(keyword, "must be a boolean, got \(value.typeName)") }
        return flag
    }

    func string(_ keyword: String) throws -> String? {
        guard let value = object[keyword] else { return nil }
        guard let text = value.stringValue else { throw invalid(keyword, "must be a string, got \(value.typeName)") }
        return text
    }

    /// An array of distinct strings (`required`, `dependentRequired` members).
    func uniqueStrings(_ value: JSONValue, keyword: String) throws -> [String] {
        guard case .array(let elements) = value else {
            throw invalid(keyword, "must be an array of strings, got \(value.typeName)")
        }
        var seen = Set<ExactString>()
        return try elements.map { element in
            guard let name = element.stringValue else {
                throw invalid(keyword, "must contain only strings, got \(element.typeName)")
            }
            guard seen.insert(ExactString(name)).inserted else {
                throw invalid(keyword, "must not contain duplicates ('\(name)')")
            }
            return name
        }
    }

    // MARK: Subschemas

    func subschema(_ keyword: String) throws -> Int? {
        guard object[keyword] != nil else { return nil }
        return try compiler.compile(tokens + [keyword])
    }

    /// A non-empty array of schemas (`allOf`, `prefixItems`, ...).
    func subschemaArray(_ keyword: String) throws -> [Int]? {
        guard let value = object[keyword] else { return nil }
        guard case .array(let elements) = value, !elements.isEmpty else {
            throw invalid(keyword, "must be a non-empty array of schemas")
        }
        return try elements.indices.map { try compiler.compile(tokens + [keyword, String($0)]) }
    }

    /// An object whose members are schemas (`properties`, `$defs`, ...).
    func subschemaMap(_ keyword: String) throws -> [(name: String, node: Int)]? {
        guard let value = object[keyword] else { return nil }
        guard case .object(let members) = value else {
            throw invalid(keyword, "must be an object of schemas, got \(value.typeName)")
        }
        return try members.keys.map { name in
            (name, try compiler.compile(tokens + [keyword, name]))
        }
    }

    func regex(_ pattern: String, keyword: String, member: String? = nil) throws -> ECMARegex {
        let location = member.map { tokens + [keyword, $0] } ?? tokens + [keyword]
        return try compiler.regex(pattern, at: location, keyword: keyword)
    }
}
