import DabbaCatalog
import DabbaSchema
import Testing

@Suite("Retry durations")
struct DurationTests {
    private func delays(_ list: String) throws -> [Duration] {
        let yaml = orderDocument(
            channelExtras: """
                    x-dabba-retry:
                      delays: \(list)

                """,
            operations: """
                operations:
                  consume:
                    action: receive
                    channel: {$ref: '#/channels/orders'}
                    bindings: {kafka: {groupId: {const: consumer}}}

                """
        )
        let catalog = try Catalog.load(yaml: yaml)
        return try #require(catalog.consumerGroups.first?.retryPolicy).delays
    }

    @Test func unitsAreMillisecondsSecondsMinutesAndHours() throws {
        #expect(
            try delays("[250ms, 30s, 5m, 2h, 0s]") == [
                .milliseconds(250), .seconds(30), .seconds(300), .seconds(7200), .zero,
            ]
        )
    }

    @Test(arguments: ["1.5s", "10", "s", "-1s", "1d", "1 s", "99999999999999999h"])
    func malformedDurationsAreRejected(_ text: String) throws {
        #expect {
            _ = try delays("['\(text)']")
        } throws: { error in
            (error as? CatalogErrors)?.errors.map(\.code) == [.invalidDuration]
        }
    }
}

@Suite("Partition keys")
struct PartitionKeyTests {
    private func event(keyField: String, properties: String) throws -> EventSpec {
        let yaml = orderDocument(
            payloadSchema: """
                        type: object
                        required: [order]
                        properties:
                          order:
                            type: object
                            required: [id]
                            properties:
                              id: \(properties)
                """,
            messageExtras: "      x-dabba-key: \(keyField)\n"
        )
        return try #require(try Catalog.load(yaml: yaml).event(named: "shop.order.placed"))
    }

    @Test func nestedPointerKeysAndNumberFormatting() throws {
        let event = try event(keyField: "/order/id", properties: "{}")
        #expect(event.keyField == "/order/id")
        #expect(try event.partitionKey(for: ["order": ["id": "o-1"]]) == "o-1")
        #expect(try event.partitionKey(for: ["order": ["id": 42]]) == "42")
        #expect(try event.partitionKey(for: ["order": ["id": .double(42)]]) == "42")
        #expect(try event.partitionKey(for: ["order": ["id": 2.5]]) == "2.5")
        #expect(try event.partitionKey(for: ["order": ["id": true]]) == "true")
        #expect(try event.partitionKey(for: ["order": ["id": nil]]) == nil)
        #expect(throws: PartitionKeyError.self) { try event.partitionKey(for: ["order": [:]]) }
        #expect(throws: PartitionKeyError.self) { try event.partitionKey(for: ["order": ["id": [1]]]) }
    }

    @Test func plainFieldNamesBecomePointers() throws {
        let yaml = orderDocument(messageExtras: "      x-dabba-key: orderId\n")
        let event = try #require(try Catalog.load(yaml: yaml).event(named: "shop.order.placed"))
        #expect(event.keyField == "/orderId")
        #expect(try event.partitionKey(for: ["orderId": "o-9"]) == "o-9")
    }

    @Test func eventsWithoutKeyHaveNoPartitionKey() throws {
        let event = try #require(try Catalog.load(yaml: orderDocument()).event(named: "shop.order.placed"))
        #expect(event.keyField == nil)
        #expect(try event.partitionKey(for: ["orderId": "o-1"]) == nil)
    }

    @Test func keysThroughRefAndAllOfAreFound() throws {
        let yaml = orderDocument(
            payloadSchema: """
                        allOf:
                          - $ref: '#/components/schemas/Identified'
                          - type: object
                            properties:
                              note: {type: string}
                """,
            messageExtras: """
                      x-dabba-key: /id
                  schemas:
                    Identified:
                      type: object
                      required: [id]
                      properties:
                        id: {type: integer}

                """
        )
        let event = try #require(try Catalog.load(yaml: yaml).event(named: "shop.order.placed"))
        #expect(try event.partitionKey(for: ["id": 7]) == "7")
    }

    @Test func exampleWithObjectAsKeyIsReported() throws {
        let yaml = orderDocument(
            payloadSchema: """
                        type: object
                        required: [orderId]
                        properties:
                          orderId: {}
                """,
            messageExtras: "      x-dabba-key: /orderId\n",
            examplePayload: "            orderId: {nested: true}"
        )
        #expect {
            try Catalog.load(yaml: yaml)
        } throws: { error in
            (error as? CatalogErrors)?.errors.map(\.code) == [.invalidKey]
        }
    }
}
