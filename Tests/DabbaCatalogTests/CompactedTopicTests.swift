import DabbaCatalog
import Testing

/// `cleanup.policy: [compact]` in a channel's Kafka binding: the topic that holds a table's latest value per key.
@Suite("Compacted topics")
struct CompactedTopicTests {
    private static let keyed = "      x-dabba-key: orderId\n"

    private func compacted(_ policy: String, key: String = keyed) -> String {
        orderDocument(
            messageExtras: key,
            channelExtras: """
                        topicConfiguration:
                          cleanup.policy: \(policy)
                    x-dabba-retry:
                      delays: [1s]

                """,
            operations: """
                operations:
                  track:
                    action: receive
                    channel:
                      $ref: '#/channels/orders'
                    bindings:
                      kafka:
                        groupId: {type: string, const: tracker}

                """
        )
    }

    @Test("a sequence or a string: the topic is compacted, its retry and dead-letter topics are not")
    func compactedTopic() throws {
        for policy in ["[compact]", "compact"] {
            let catalog = try Catalog.load(yaml: compacted(policy))
            let topic = try #require(catalog.topics.first)
            #expect(topic.configs["cleanup.policy"] == "compact")
            #expect(topic.isCompacted)
            let derived = catalog.allTopics.filter(\.isDerived)
            #expect(!derived.isEmpty)
            // Compaction could drop a pending retry, or a dead letter, when a newer record of its key arrives.
            #expect(derived.allSatisfy { !$0.isCompacted && $0.configs["cleanup.policy"] == "delete" })
        }
        let both = try Catalog.load(yaml: compacted("[compact, delete]"))
        #expect(both.topics.first?.isCompacted == true)
        let deleted = try Catalog.load(yaml: compacted("[delete]"))
        #expect(deleted.topics.first?.isCompacted == false)
    }

    @Test("an unknown policy is an error at its line")
    func unknownPolicy() throws {
        let yaml = compacted("[compacted]")
        let errors = try #require(
            #expect(throws: CatalogErrors.self) { try Catalog.load(yaml: yaml, path: "Topics/orders.asyncapi.yaml") }
        ).errors
        #expect(errors.map(\.code) == [.invalidTopicConfiguration])
        #expect(errors.first?.file == "Topics/orders.asyncapi.yaml")
        #expect(errors.first?.line == (try line(of: "cleanup.policy: [compacted]", inText: yaml)))
        #expect(errors.first?.message == "'cleanup.policy' must be 'delete' and/or 'compact', not 'compacted'")
    }

    @Test("an event without a key on a compacted topic is an error naming the fix")
    func keylessEventOnCompactedTopic() throws {
        let yaml = compacted("[compact]", key: "")
        let errors = try #require(
            #expect(throws: CatalogErrors.self) { try Catalog.load(yaml: yaml, path: "Topics/orders.asyncapi.yaml") }
        ).errors
        #expect(errors.map(\.code) == [.invalidKey])
        #expect(errors.first?.message.contains("'shop.order.placed' has no key") == true)
        #expect(errors.first?.message.contains("declare x-dabba-key") == true)
        #expect(errors.first?.file == "Topics/orders.asyncapi.yaml")
        #expect(errors.first?.line == (try line(of: "name: shop.order.placed", inText: yaml)))
    }
}
