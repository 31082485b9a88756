/// `type`: the instance's JSON type must be one of the listed ones.
struct TypeKeyword: KeywordValidator {
    /// The seven JSON Schema type names as a bit set.
    struct TypeSet: OptionSet, Sendable {
        let rawValue: UInt8
        static let null = TypeSet(rawValue: 1 << 0)
        static let boolean = TypeSet(rawValue: 1 << 1)
        static let integer = TypeSet(rawValue: 1 << 2)
        static let number = TypeSet(rawValue: 1 << 3)
        static let string = TypeSet(rawValue: 1 << 4)
        static let array = TypeSet(rawValue: 1 << 5)
        static let object = TypeSet(rawValue: 1 << 6)

        static let byName: [String: TypeSet] = [
            "null": .null, "boolean": .boolean, "integer": .integer, "number": .number,
            "string": .string, "array": .array, "object": .object,
        ]
    }

    let allowed: TypeSet
    /// The names as written, for messages.
    let names: [String]
    let location: KeywordLocation

    static func make(_ schema: SchemaObject) throws -> [any KeywordValidator] {
        guard let value = schema["type"] else { return [] }
        let names: [String]
        switch value {
        case .string(let name):
            names = [name]
        case .array(let elements) where !elements.isEmpty:
            names = try elements.map { element in
                guard let name = element.stringValue else { throw schema.invalid("type", "must contain only type names") }
                return name
            }
            guard Set(names).count == names.count else { throw schema.invalid("type", "must not repeat type names") }
        default:
            throw schema.invalid("type", "must be a type name or a non-empty array of type names, got \(Describe.value(value))")
        }
        var allowed: TypeSet = []
        for name in names {
            guard let type = TypeSet.byName[name] else {
                throw schema.invalid("type", "has unknown type '\(name)' (expected null, boolean, integer, number, string, array or object)")
            }
            allowed.insert(type)
        }
        return [TypeKeyword(allowed: allowed, names: names, location: schema.location("type"))]
    }

    func validate(_ instance: JSONValue, _ context: ValidationContext) -> Bool {
        let matches: Bool
        switch instance {
        case .null: matches = allowed.contains(.null)
        case .bool: matches = allowed.contains(.boolean)
        case .integer: matches = !allowed.isDisjoint(with: [.integer, .number])
        // 1.0 is an integer in JSON Schema: type is about value, not spelling.
        case .double(let number): matches = allowed.contains(.number) || (allowed.contains(.integer) && number.isIntegral)
        case .string: matches = allowed.contains(.string)
        case .array: matches = allowed.contains(.array)
        case .object: matches = allowed.contains(.object)
        }
        if matches { return true }
        return context.fail(location, "expected \(expectation), got \(instance.typeName)")
    }

    private var expectation: String {
        names.count == 1 ? names[0] : "one of [\(names.joined(separator: ", "))]"
    }
}
