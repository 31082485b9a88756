import DabbaCatalog
import DabbaSchema
import Testing

/// Problems with the AsyncAPI structure itself, and the defaults of optional fields.
@Suite("Document structure")
struct DocumentStructureTests {
    /// The errors of loading `yaml`, as `line code` strings.
    private func failures(_ yaml: String) -> [String] {
        do {
            _ = try Catalog.load(yaml: yaml)
            return []
        } catch let failure as CatalogErrors {
            return failure.errors.map { "\($0.line) \($0.code)" }
        } catch {
            return ["unexpected \(error)"]
        }
    }

    @Test func defaultsOfOptionalMessageFields() throws {
        let catalog = try Catalog.load(yaml: orderDocument(), path: "Topics/orders.asyncapi.yaml")
        let event = try #require(catalog.event(named: "shop.order.placed"))
        #expect(event.contentType == "application/json")
        #expect(event.schemaVersion == 1)
        #expect(event.compatibility == nil)
        #expect(event.keyField == nil)
        #expect(event.keySchema == nil)
        #expect(event.examples.isEmpty)
        #expect(event.source.file == "Topics/orders.asyncapi.yaml")
        #expect(catalog.documents.first?.domain == "orders")
        #expect(catalog.consumerGroups.isEmpty)
        #expect(catalog.producers.isEmpty)
    }

    @Test func documentDefaultContentTypeAndExtensions() throws {
        let yaml =
            "defaultContentType: application/cloudevents+json\n"
            + orderDocument(
                messageExtras: """
                          x-dabba-schema-version: 3
                          x-dabba-compatibility: none

                    """
            )
        let event = try #require(try Catalog.load(yaml: yaml).event(named: "shop.order.placed"))
        #expect(event.contentType == "application/cloudevents+json")
        #expect(event.schemaVersion == 3)
        #expect(event.compatibility == .unchecked)
        #expect(event.compatibility?.rawValue == "none")
    }

    @Test func multiFormatPayloadSchemas() throws {
        let yaml = orderDocument(
            payloadSchema: """
                        schemaFormat: application/schema+json;version=draft-07
                        schema:
                          type: object
                          required: [orderId]
                          properties: {orderId: {type: string}}
                """
        )
        let event = try #require(try Catalog.load(yaml: yaml).event(named: "shop.order.placed"))
        #expect(event.payloadSchemaPointer == "/components/messages/OrderPlaced/payload/schema")
        #expect(event.payloadSchema.isValid(["orderId": "o-1"]))
        #expect(!event.payloadSchema.isValid(["orderId": 1]))

        let avro = orderDocument(
            payloadSchema: """
                        schemaFormat: application/vnd.apache.avro;version=1.9.0
                        schema: {type: record}
                """
        )
        #expect(failures(avro) == ["20 invalidSchema"])
    }

    @Test func onlyAsyncAPI3IsAccepted() {
        let yaml = orderDocument().replacingOccurrences(of: "asyncapi: 3.0.0", with: "asyncapi: 2.6.0")
        #expect(failures(yaml) == ["1 invalidDocument"])
    }

    @Test func headerFieldsAreRequired() {
        #expect(failures("asyncapi: 3.0.0\n") == ["1 invalidDocument"])
        #expect(failures("") == ["1 invalidDocument"])
        #expect(failures("- a\n- b\n") == ["1 invalidDocument"])
    }

    @Test func aMessageBelongsToOneChannel() {
        let yaml = orderDocument(
            channelExtras: """
                  copies:
                    address: shop.orders.copy
                    messages:
                      again: {$ref: '#/components/messages/OrderPlaced'}
                    bindings: {kafka: {partitions: 1, replicas: 1}}

                """
        )
        #expect(failures(yaml) == ["18 duplicateEventType"])
    }

    @Test func operationMessagesMustBelongToTheOperationsChannel() throws {
        let yaml = orderDocument(
            channelExtras: """
                  other:
                    address: shop.other
                    bindings: {kafka: {partitions: 1, replicas: 1}}

                """,
            operations: """
                operations:
                  publish:
                    action: send
                    channel: {$ref: '#/channels/other'}
                    messages:
                      - $ref: '#/channels/orders/messages/orderPlaced'
                  wrongAction:
                    action: publish
                    channel: {$ref: '#/channels/orders'}

                """
        )
        #expect(failures(yaml) == ["23 invalidDocument", "25 invalidDocument"])
    }

    @Test func operationsReferringToComponentMessagesOfTheirChannel() throws {
        let yaml = orderDocument(
            operations: """
                operations:
                  publish:
                    action: send
                    channel: {$ref: '#/channels/orders'}
                    messages:
                      - $ref: '#/components/messages/OrderPlaced'

                """
        )
        let catalog = try Catalog.load(yaml: yaml)
        #expect(catalog.producers.first?.eventTypes == ["shop.order.placed"])
    }

    @Test func oneGroupReceivesATopicOnce() {
        let yaml = orderDocument(
            operations: """
                operations:
                  first:
                    action: receive
                    channel: {$ref: '#/channels/orders'}
                    bindings: {kafka: {groupId: {const: audit}}}
                  second:
                    action: receive
                    channel: {$ref: '#/channels/orders'}
                    bindings: {kafka: {groupId: {enum: [audit]}}}

                """
        )
        #expect(failures(yaml) == ["23 invalidConsumerGroup"])
    }

    @Test func unsupportedMessageFeatures() {
        let yaml = orderDocument(
            messageExtras: """
                      traits:
                        - $ref: '#/components/messageTraits/Common'
                      x-dabba-compatibility: sideways
                      x-dabba-schema-version: 0

                """
        )
        #expect(failures(yaml) == ["24 invalidDocument", "26 invalidDocument", "27 invalidDocument"])
    }

    @Test func externalReferencesAreRejected() {
        let yaml = orderDocument(payloadSchema: "        $ref: 'common.yaml#/components/schemas/Order'")
        #expect(failures(yaml) == ["20 missingReference"])
    }
}
