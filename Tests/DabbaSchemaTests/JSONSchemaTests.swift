import DabbaSchema
import Foundation
import Testing

@Suite("JSONSchema messages and errors")
struct JSONSchemaTests {
    private static let orderSchema: JSONValue = [
        "type": "object",
        "required": ["orderId", "items"],
        "additionalProperties": false,
        "properties": [
            "orderId": ["type": "string", "minLength": 3],
            "placedAt": ["type": "string", "format": "date-time"],
            "items": [
                "type": "array",
                "minItems": 1,
                "items": [
                    "type": "object",
                    "properties": [
                        "sku": ["type": "string", "pattern": "^[A-Z]{3}-\\d+$"],
                        "price": ["type": "number", "exclusiveMinimum": 0],
                    ],
                ],
            ],
        ],
    ]

    private func compile(_ json: String) throws -> JSONSchema {
        try JSONSchema(JSONValue.parse(json))
    }

    // MARK: Violations

    @Test("type violation carries instance path, keyword, schema path and message")
    func typeViolation() throws {
        let schema = try JSONSchema(Self.orderSchema)
        let violations = schema.validate(["orderId": "o-123", "items": [["sku": "ABC-1", "price": "12"]]])
        let violation = try #require(violations.first)
        #expect(violations.count == 1)
        #expect(violation.instancePath == "/items/0/price")
        #expect(violation.keyword == "type")
        #expect(violation.schemaPath == "/properties/items/items/properties/price/type")
        #expect(violation.message == "/items/0/price: expected number, got string")
        #expect(violation.description == violation.message)
    }

    @Test("missing required property is reported at the object")
    func requiredViolation() throws {
        let schema = try JSONSchema(Self.orderSchema)
        let violations = schema.validate(["items": [["sku": "ABC-1", "price": 1]]])
        #expect(violations.map(\.message) == ["/: missing required property 'orderId'"])
        #expect(violations.first?.instancePath == "")
        #expect(violations.first?.keyword == "required")
    }

    @Test("all violations are collected; isValid agrees")
    func collectsEverything() throws {
        let schema = try JSONSchema(Self.orderSchema)
        let instance: JSONValue = [
            "orderId": "o",
            "placedAt": "2024-02-30T10:00:00Z",
            "items": [["sku": "abc", "price": 0]],
            "extra~/": true,
        ]
        let messages = Set(schema.validate(instance).map(\.message))
        #expect(messages == [
            "/orderId: string has 1 character, fewer than the minimum length of 3",
            "/placedAt: string \"2024-02-30T10:00:00Z\" is not a valid RFC 3339 date-time",
            "/items/0/sku: string \"abc\" does not match pattern '^[A-Z]{3}-\\d+$'",
            "/items/0/price: 0 is not greater than the exclusive minimum of 0",
            "/extra~0~1: property 'extra~/' is not allowed (additionalProperties is false)",
        ])
        #expect(!schema.isValid(instance))
        #expect(schema.isValid(["orderId": "o-1", "items": [["sku": "ABC-12", "price": 0.5]], "placedAt": "2024-02-29T10:00:00.5+01:00"]))
    }

    @Test("anyOf and oneOf explain their alternatives")
    func combinatorMessages() throws {
        let anyOf = try compile(##"{"anyOf": [{"type": "string"}, {"type": "integer", "minimum": 10}]}"##)
        let message = try #require(anyOf.validate(3).first?.message)
        #expect(message == "/: value does not match any of the 2 'anyOf' alternatives (0: expected string, got integer; 1: 3 is less than the minimum of 10)")

        let oneOf = try compile(##"{"oneOf": [{"type": "integer"}, {"minimum": 2}]}"##)
        #expect(oneOf.validate(5).map(\.message) == ["/: value matches 2 'oneOf' alternatives (0, 1), but must match exactly one"])
        #expect(oneOf.validate(1).isEmpty)
    }

    @Test("string length counts code points, not UTF-16 units")
    func codePointLength() throws {
        let schema = try compile(##"{"maxLength": 2, "minLength": 2}"##)
        #expect(schema.isValid("💩💩"))
        #expect(!schema.isValid("💩"))
        #expect(schema.validate("abc").first?.keyword == "maxLength")
    }

    @Test("refs into an enclosing document; schemaPath points into it")
    func documentReferences() throws {
        let document = try JSONValue.parse(##"""
        {
          "asyncapi": "3.0.0",
          "components": {
            "schemas": {
              "Order": {
                "type": "object",
                "properties": {"lines": {"type": "array", "items": {"$ref": "#/components/schemas/Line"}}}
              },
              "Line": {"type": "object", "required": ["qty"], "properties": {"qty": {"type": "integer"}}}
            }
          }
        }
        """##)
        let pointer = "/components/schemas/Order"
        let schema = try JSONSchema(try #require(document.value(atPointer: pointer)), in: document, at: pointer)
        let violations = schema.validate(["lines": [["qty": 1], ["qty": 1.5], [:]]])
        #expect(violations.map(\.message) == [
            "/lines/1/qty: expected integer, got number",
            "/lines/2: missing required property 'qty'",
        ])
        #expect(violations.first?.schemaPath == "/components/schemas/Line/properties/qty/type")
    }

    @Test("a schema passed with a document it is not part of still resolves refs there")
    func detachedSchema() throws {
        let document: JSONValue = ["components": ["schemas": ["Id": ["type": "string", "minLength": 2]]]]
        let payload: JSONValue = ["properties": ["id": ["$ref": "#/components/schemas/Id"]]]
        let schema = try JSONSchema(payload, in: document, at: "/channels/orders/messages/placed/payload")
        let violation = try #require(schema.validate(["id": "x"]).first)
        #expect(violation.schemaPath == "/components/schemas/Id/minLength")
        #expect(schema.validate(["id": 1]).first?.schemaPath == "/components/schemas/Id/type")
        #expect(try JSONSchema(payload, in: document).isValid(["id": "xy"]))
    }

    @Test("anyOf names the failing location inside an alternative")
    func nestedAlternativeReasons() throws {
        let schema = try compile(##"{"anyOf": [{"properties": {"a": {"type": "string"}}}, {"required": ["b"]}]}"##)
        #expect(schema.validate(["a": 1]).map(\.message) == [
            "/: value does not match any of the 2 'anyOf' alternatives (0: /a: expected string, got integer; 1: missing required property 'b')",
        ])
    }

    @Test("recursive schemas validate recursive data; pathological depth fails cleanly")
    func recursion() throws {
        let schema = try compile(##"{"type": "object", "properties": {"child": {"$ref": "#"}, "n": {"type": "integer"}}}"##)
        #expect(schema.isValid(["child": ["child": ["n": 1]]]))
        #expect(schema.validate(["child": ["child": ["n": "x"]]]).first?.instancePath == "/child/child/n")

        var deep: JSONValue = [:]
        for _ in 0..<1_200 { deep = ["child": deep] }
        #expect(!schema.isValid(deep))
        #expect(schema.validate(deep).first?.message.contains("maximum depth") == true)
    }

    @Test("$id, $anchor and $defs resolve within one document")
    func identifiers() throws {
        let schema = try compile(##"""
        {
          "$id": "https://example.com/schemas/event.json",
          "$ref": "#/$defs/envelope",
          "$defs": {
            "envelope": {"properties": {"payload": {"$ref": "payload.json#amount"}}},
            "payload": {"$id": "payload.json", "$defs": {"a": {"$anchor": "amount", "type": "number"}}}
          }
        }
        """##)
        #expect(schema.isValid(["payload": 3.5]))
        #expect(schema.validate(["payload": "3.5"]).first?.schemaPath == "/$defs/payload/$defs/a/type")
    }

    @Test("annotations and x- extensions are ignored")
    func annotations() throws {
        let schema = try compile(##"""
        {"title": "T", "description": "d", "examples": [1], "default": 1, "$comment": "c",
         "deprecated": true, "readOnly": false, "writeOnly": false,
         "$schema": "https://json-schema.org/draft/2020-12/schema",
         "contentMediaType": "application/json", "contentEncoding": "base64",
         "x-kafka-key": {"whatever": [1, 2]}, "type": "integer"}
        """##)
        #expect(schema.isValid(1))
        #expect(!schema.isValid("1"))
    }

    @Test("format is an annotation when assertion is disabled")
    func formatOption() throws {
        let json = try JSONValue.parse(##"{"format": "date-time"}"##)
        #expect(!(try JSONSchema(json)).isValid("yesterday"))
        #expect(try JSONSchema(json, options: .init(assertFormat: false)).isValid("yesterday"))
        #expect(try JSONSchema(["format": "email"]).isValid("not an email"))
    }

    @Test("pointer without document prefixes reported paths")
    func pointerPrefix() throws {
        let schema = try JSONSchema(["type": "string"], at: "/channels/orders/payload")
        #expect(schema.validate(1).first?.schemaPath == "/channels/orders/payload/type")
    }

    @Test("a compiled schema is usable from many tasks")
    func concurrentUse() async throws {
        let schema = try JSONSchema(Self.orderSchema)
        let valid: JSONValue = ["orderId": "o-1", "items": [["sku": "ABC-1", "price": 2]]]
        let results = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<16 {
                group.addTask { index.isMultiple(of: 2) ? schema.isValid(valid) : !schema.validate([:]).isEmpty }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0 })
    }

    // MARK: Schema errors

    @Test("unsupported keywords throw with keyword and pointer")
    func unsupportedKeyword() throws {
        let error = #expect(throws: SchemaError.self) {
            try compile(##"{"properties": {"a": {"type": "object", "unevaluatedProperties": false}}}"##)
        }
        #expect(error?.code == .unsupportedKeyword)
        #expect(error?.keyword == "unevaluatedProperties")
        #expect(error?.pointer == "/properties/a/unevaluatedProperties")
        #expect(error?.description == "unsupportedKeyword at '/properties/a/unevaluatedProperties': keyword 'unevaluatedProperties' is not supported")

        // Also inside unused definitions, and for misspellings.
        #expect(throws: SchemaError.self) { try compile(##"{"$defs": {"x": {"$dynamicRef": "#meta"}}}"##) }
        let typo = #expect(throws: SchemaError.self) { try compile(##"{"minLenght": 3}"##) }
        #expect(typo?.code == .unsupportedKeyword)
    }

    @Test(
        "invalid schemas throw invalidSchema",
        arguments: [
            (##"{"type": 5}"##, "/type"),
            (##"{"type": "float"}"##, "/type"),
            (##"{"minLength": -1}"##, "/minLength"),
            (##"{"maxItems": 1.5}"##, "/maxItems"),
            (##"{"pattern": "(unclosed"}"##, "/pattern"),
            (##"{"patternProperties": {"[": true}}"##, "/patternProperties/["),
            (##"{"required": ["a", "a"]}"##, "/required"),
            (##"{"items": [{"type": "string"}]}"##, "/items"),
            (##"{"multipleOf": 0}"##, "/multipleOf"),
            (##"{"allOf": []}"##, "/allOf"),
            (##"{"properties": {"a": 3}}"##, "/properties/a"),
            (##"{"$ref": "#"}"##, ""),
            (##"{"$defs": {"a": {"allOf": [{"$ref": "#/$defs/b"}]}, "b": {"not": {"$ref": "#/$defs/a"}}}}"##, "/$defs/a"),
        ])
    func invalidSchema(json: String, pointer: String) throws {
        let error = #expect(throws: SchemaError.self) { try compile(json) }
        #expect(error?.code == .invalidSchema, "\(json): \(String(describing: error))")
        #expect(error?.pointer == pointer, "\(json): \(String(describing: error))")
    }

    @Test("unresolvable references throw unresolvedReference")
    func unresolvedReferences() throws {
        for json in [
            ##"{"properties": {"a": {"$ref": "#/$defs/missing"}}}"##,
            ##"{"$ref": "https://example.com/remote.json"}"##,
            ##"{"$ref": "#nowhere"}"##,
        ] {
            let error = #expect(throws: SchemaError.self) { try compile(json) }
            #expect(error?.code == .unresolvedReference, "\(json)")
        }
        let error = #expect(throws: SchemaError.self) { try compile(##"{"properties": {"a": {"$ref": "#/$defs/missing"}}}"##) }
        #expect(error?.pointer == "/properties/a/$ref")
    }

    /// Files for keywords outside the claim: every schema in them must be
    /// rejected rather than half-understood. (vocabulary.json is not listed:
    /// it depends on fetching a custom meta-schema named by `$schema`, which
    /// is an ignored annotation here.)
    @Test("schemas using unsupported keywords are rejected, never silently accepted", arguments: [
        "unevaluatedProperties.json", "unevaluatedItems.json", "dynamicRef.json", "refRemote.json",
    ])
    func unsupportedFilesAreRejected(_ file: String) throws {
        let directory: URL
        switch SuiteLocator.draft202012 {
        case .success(let found):
            directory = found
        case .failure(let error):
            Issue.record(Comment(rawValue: error.description))
            return
        }
        let groups = try #require(try JSONValue.parse(Data(contentsOf: directory.appendingPathComponent(file))).arrayValue)
        for group in groups {
            let description = group["description"]?.stringValue ?? ""
            do {
                _ = try JSONSchema(group["schema"] ?? .null)
                Issue.record("\(file) › \(description): compiled although it needs unsupported features")
            } catch let error as SchemaError {
                #expect([.unsupportedKeyword, .unresolvedReference].contains(error.code), "\(file) › \(description): \(error)")
            }
        }
    }
}
