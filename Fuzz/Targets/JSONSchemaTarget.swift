import DabbaSchema
import Foundation

extension FuzzTarget {
    /// JSON text through `JSONValue.parse`; a parsed array `[schema, instance...]` compiles its first element as a
    /// schema (in the whole document, so `$ref`s like `#/0/$defs/a` resolve) and validates the other elements.
    public static let jsonSchema = FuzzTarget(
        name: "json-schema",
        summary: "JSON text: JSONValue.parse, serialization round trip; [schema, instances...] compiled and validated",
        run: JSONSchemaTarget.run,
        generate: JSONSchemaTarget.generate,
        tokens: JSONSchemaTarget.tokens
    )
}

enum JSONSchemaTarget {
    static func run(_ input: [UInt8]) throws {
        let value: JSONValue
        do {
            value = try JSONValue.parse(Data(input))
        } catch let error as SchemaError {
            try check(error.code == .invalidJSON, "parse failed with \(error.code), not invalidJSON: \(error)")
            try check(
                error.byteOffset.map { (0...input.count).contains($0) } ?? false, "byte offset outside input: \(error)")
            return
        }
        // What the serializer writes parses back to the same value (non-finite numbers cannot come from text).
        let written = value.serialized()
        let reparsed = Result { try JSONValue.parse(written) }
        try check(
            (try? reparsed.get()) == value,
            "serialization round trip changed the value: \(value) → \(String(decoding: written, as: UTF8.self))"
                + " → \(reparsed)"
        )
        guard case .array(let elements) = value, let schema = elements.first else { return }
        for options in [JSONSchema.Options(assertFormat: true), JSONSchema.Options(assertFormat: false)] {
            let compiled: JSONSchema
            do {
                compiled = try JSONSchema(schema, in: value, at: "/0", options: options)
            } catch let error as SchemaError {
                try check(error.code != .invalidJSON, "compiling a parsed schema reported invalid JSON: \(error)")
                continue
            }
            for instance in elements {
                let violations = compiled.validate(instance)
                let valid = compiled.isValid(instance)
                try check(
                    valid == violations.isEmpty,
                    "isValid says \(valid) but validate found \(violations) for \(instance) against \(schema)"
                )
            }
        }
    }

    static func generate(_ random: inout FuzzRandom) -> [UInt8] {
        var elements = [schema(&random, depth: 3)]
        for _ in 0..<(1 + random.below(3)) {
            elements.append(
                random.oneIn(3) ? JSONGenerator.orderPlaced(&random) : JSONGenerator.value(&random, depth: 3))
        }
        let document =
            random.oneIn(6) ? JSONGenerator.value(&random, depth: 4) : "[" + elements.joined(separator: ",") + "]"
        let text = JSONGenerator.framed(document, &random)
        return Mutation.mutate(Array(text.utf8), tokens: tokens, &random)
    }

    static let tokens = JSONGenerator.tokens + keywords.map { "\"\($0)\":" }

    static let keywords = [
        "type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "pattern", "format", "items", "prefixItems", "contains", "minContains", "maxContains",
        "minItems", "maxItems", "uniqueItems", "properties", "patternProperties", "additionalProperties",
        "propertyNames", "required", "minProperties", "maxProperties", "dependentRequired", "dependentSchemas", "allOf",
        "anyOf", "oneOf", "not", "if", "then", "else", "$ref", "$id", "$anchor", "$defs", "$schema", "title",
    ]

    static let patterns = [
        "^[a-z]+$", "^ord_[0-9]{1,6}$", "(a|b)*c", "\\\\d+\\\\.\\\\d*", "^\\\\p{L}+$", "[^\\\\s]", "(?:x|y){2,}",
        "(a*)*b", "^(?=.*[A-Z]).{8,}$", "\\\\bword\\\\b", "[\\\\u0041-\\\\u005A]", "a{2,1}", "(", "[z-a]", "\\\\",
        "(?<name>x)\\\\k<name>", "^.*$", "é+", "🍛?",
    ]

    static let types = ["\"object\"", "\"string\"", "\"integer\"", "[\"number\",\"null\"]", "\"bogus\"", "[]"]
    static let counts = [
        "minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "minContains",
        "maxContains",
    ]
    static let references = [
        "#", "#/0", "#/0/$defs/a", "#/0/properties/id", "#a", "#/1", "other.json", "#/0/%24defs/a", "#/~2",
    ]

    /// A schema object of random keywords (or a boolean schema).
    static func schema(_ random: inout FuzzRandom, depth: Int) -> String {
        if random.oneIn(10) { return random.oneIn(2) ? "true" : "false" }
        var members: [String] = []
        for _ in 0..<(1 + random.below(4)) {
            let sub = { (random: inout FuzzRandom) in depth > 0 ? schema(&random, depth: depth - 1) : "{}" }
            let member: String
            switch random.below(22) {
            case 0:
                member =
                    "\"type\":\(random.pick(types))"
            case 1:
                member =
                    "\"enum\":[\(JSONGenerator.value(&random, depth: 1)),\(JSONGenerator.value(&random, depth: 1))]"
            case 2: member = "\"const\":\(JSONGenerator.value(&random, depth: 2))"
            case 3:
                member =
                    "\"\(random.pick(["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"]))\":"
                    + random.pick([
                        JSONGenerator.integer(&random), JSONGenerator.double(&random), "0", "-0.0001", "1e-320",
                    ])
            case 4:
                member =
                    "\"\(random.pick(counts))\":"
                    + random.pick(["0", "1", "3", "-1", "1.5", "9223372036854775807", "1e30"])
            case 5: member = "\"pattern\":\"\(random.pick(patterns))\""
            case 6: member = "\"format\":\(random.pick(["\"date-time\"", "\"email\"", "1"]))"
            case 7: member = "\"items\":\(sub(&random))"
            case 8: member = "\"prefixItems\":[\(sub(&random)),\(sub(&random))]"
            case 9: member = "\"contains\":\(sub(&random))"
            case 10: member = "\"uniqueItems\":\(random.oneIn(2) ? "true" : "false")"
            case 11: member = "\"properties\":{\"id\":\(sub(&random)),\"count\":\(sub(&random))}"
            case 12: member = "\"patternProperties\":{\"\(random.pick(patterns))\":\(sub(&random))}"
            case 13: member = "\"additionalProperties\":\(sub(&random))"
            case 14: member = "\"propertyNames\":\(sub(&random))"
            case 15: member = "\"required\":[\"id\",\"count\"]"
            case 16: member = "\"dependentRequired\":{\"id\":[\"count\"]}"
            case 17: member = "\"\(random.pick(["allOf", "anyOf", "oneOf"]))\":[\(sub(&random)),\(sub(&random))]"
            case 18: member = "\"\(random.pick(["not", "if", "then", "else", "dependentSchemas"]))\":\(sub(&random))"
            case 19:
                member =
                    "\"$ref\":\"\(random.pick(references))\""
            case 20: member = "\"$defs\":{\"a\":\(sub(&random))}"
            default:
                member =
                    "\"\(random.pick(["$anchor", "$id", "title", "x-note"]))\":"
                    + random.pick(["\"a\"", "\"urn:x\"", "1"])
            }
            members.append(member)
        }
        return "{" + members.joined(separator: ",") + "}"
    }
}
