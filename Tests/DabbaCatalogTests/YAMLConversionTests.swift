import DabbaCatalog
import DabbaSchema
import Testing

/// YAML scalars resolve by the YAML 1.2 core schema, observed through example payloads.
@Suite("YAML to JSON conversion")
struct YAMLConversionTests {
    /// Loads a document whose example payload is `body` under a permissive schema, and returns that payload.
    private func examplePayload(_ body: String) throws -> JSONValue {
        let yaml = orderDocument(payloadSchema: "        type: object", examplePayload: body)
        let catalog = try Catalog.load(yaml: yaml)
        let event = try #require(catalog.event(named: "shop.order.placed"))
        return try #require(event.examples.first)
    }

    @Test func coreSchemaScalars() throws {
        let payload = try examplePayload(
            """
                        int: 42
                        negative: -7
                        octal: 0o17
                        hex: 0x1F
                        float: 2.5
                        exponent: 1e3
                        yes: true
                        no: FALSE
                        nothing: null
                        tilde: ~
                        empty:
            """
        )
        #expect(payload["int"] == .integer(42))
        #expect(payload["negative"] == .integer(-7))
        #expect(payload["octal"] == .integer(15))
        #expect(payload["hex"] == .integer(31))
        #expect(payload["float"] == .double(2.5))
        #expect(payload["exponent"] == .double(1000))
        #expect(payload["yes"] == .bool(true))
        #expect(payload["no"] == .bool(false))
        #expect(payload["nothing"] == .null)
        #expect(payload["tilde"] == .null)
        #expect(payload["empty"] == .null)
        // Keys stay strings whatever they look like, and keep their order.
        #expect(payload.objectValue?.keys.first == "int")
    }

    @Test func yaml11FormsAndQuotedScalarsStayStrings() throws {
        let payload = try examplePayload(
            """
                        answer: yes
                        switch: on
                        grouped: 1_000
                        date: 2025-03-14
                        timestamp: 2025-03-14T09:26:53Z
                        quoted: '42'
                        doubleQuoted: "true"
                        sexagesimal: 1:30
                        tagged: !!str 12
                        block: |
                          two
                          lines
            """
        )
        #expect(payload["answer"] == .string("yes"))
        #expect(payload["switch"] == .string("on"))
        #expect(payload["grouped"] == .string("1_000"))
        #expect(payload["date"] == .string("2025-03-14"))
        #expect(payload["timestamp"] == .string("2025-03-14T09:26:53Z"))
        #expect(payload["quoted"] == .string("42"))
        #expect(payload["doubleQuoted"] == .string("true"))
        #expect(payload["sexagesimal"] == .string("1:30"))
        #expect(payload["tagged"] == .string("12"))
        #expect(payload["block"] == .string("two\nlines\n"))
    }

    @Test func anchorsAndAliasesAreExpanded() throws {
        let payload = try examplePayload(
            """
                        first: &money {amountMinor: 100, currency: EUR}
                        second: *money
            """
        )
        #expect(payload["second"] == payload["first"])
        #expect(payload["second"]?["amountMinor"] == .integer(100))
    }

    @Test func valuesWithoutJSONFormAreErrors() throws {
        let yaml = orderDocument(
            payloadSchema: "        type: object",
            examplePayload: """
                            infinite: .inf
                            huge: 99999999999999999999
                            merged:
                              <<: {a: 1}
                """
        )
        let expectedLines = [
            try line(of: ".inf", inText: yaml), try line(of: "99999999999999999999", inText: yaml),
            try line(of: "<<", inText: yaml),
        ]
        #expect {
            try Catalog.load(yaml: yaml, path: "Topics/orders.asyncapi.yaml")
        } throws: { error in
            guard let errors = (error as? CatalogErrors)?.errors else { return false }
            return errors.map(\.line) == expectedLines
                && errors.allSatisfy { $0.code == .yamlSyntax && $0.file == "Topics/orders.asyncapi.yaml" }
        }
    }
}
