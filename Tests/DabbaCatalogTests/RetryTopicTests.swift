import DabbaCatalog
import Foundation
import Testing

@Suite("Retry and dead-letter topics")
struct RetryTopicTests {
    @Test func eachGroupOnASharedTopicGetsItsOwnRetryAndDeadLetterTopics() throws {
        let fixtures = try TestPaths.fixtures()
        let catalog = try Catalog.load(directory: TestPaths.fixture("valid-two-groups"), relativeTo: fixtures)
        #expect(
            catalog.allTopics.map(\.name) == [
                "shop.orders",
                "shop.orders.shipping.retry.1",
                "shop.orders.shipping.retry.2",
                "shop.orders.shipping.retry.3",
                "shop.orders.shipping.dlq",
                "shop.orders.billing.retry.1",
                "shop.orders.billing.retry.2",
                "shop.orders.billing.retry.3",
                "shop.orders.billing.dlq",
            ]
        )
        let main = try #require(catalog.topic(named: "shop.orders"))
        #expect(main.partitions == 12)
        #expect(main.replicas == 3)
        #expect(
            main.configs == [
                "cleanup.policy": "compact,delete",
                "retention.ms": "86400000",
                "min.insync.replicas": "2",
                "compression.type": "zstd",
            ]
        )

        let retries = catalog.retryTopics(for: "shop.orders", group: "billing")
        #expect(
            retries.map(\.kind) == [
                .retry(tier: 1, delay: .milliseconds(250), group: "billing", of: "shop.orders"),
                .retry(tier: 2, delay: .seconds(60), group: "billing", of: "shop.orders"),
                .retry(tier: 3, delay: .seconds(3600), group: "billing", of: "shop.orders"),
            ]
        )
        // `partitions` in x-dabba-retry overrides the main topic's; replicas are copied.
        #expect(retries.allSatisfy { $0.partitions == 4 && $0.replicas == 3 })
        // Retry topics keep the main topic's configs, but never compact.
        #expect(retries.first?.configs["cleanup.policy"] == "delete")
        #expect(retries.first?.configs["compression.type"] == "zstd")

        let deadLetter = try #require(catalog.deadLetterTopic(for: "shop.orders", group: "shipping"))
        #expect(deadLetter.configs == ["cleanup.policy": "delete", "retention.ms": "2592000000"])
        #expect(deadLetter.partitions == 4)

        let shipping = try #require(catalog.consumerGroup("shipping", onTopic: "shop.orders"))
        #expect(shipping.service == "shipper")
        #expect(shipping.eventTypes == ["shop.order.placed"])
        #expect(shipping.deadLetterTopic == "shop.orders.shipping.dlq")
        let billing = try #require(catalog.consumerGroup("billing", onTopic: "shop.orders"))
        #expect(billing.service == nil)
        #expect(billing.source.line == (try line(of: "enum: [billing]", in: "valid-two-groups/orders.asyncapi.yaml")))

        let event = try #require(catalog.event(named: "shop.order.placed"))
        #expect(event.keyField == "/orderId")
        #expect(try event.partitionKey(for: ["orderId": 1234, "lines": []]) == "1234")
        #expect(catalog.documents.first?.version == "2.1.0")
    }

    @Test func noDeadLetterTopicWhenDisabled() throws {
        let yaml = orderDocument(
            channelExtras: """
                    x-dabba-retry:
                      delays: [1s]
                      deadLetter: false

                """,
            operations: """
                operations:
                  consume:
                    action: receive
                    channel: {$ref: '#/channels/orders'}
                    bindings: {kafka: {groupId: {const: audit}}}

                """
        )
        let catalog = try Catalog.load(yaml: yaml)
        #expect(catalog.allTopics.map(\.name) == ["shop.orders", "shop.orders.audit.retry.1"])
        #expect(catalog.deadLetterTopic(for: "shop.orders", group: "audit") == nil)
        #expect(catalog.consumerGroups.first?.retryPolicy == RetryPolicy(delays: [.seconds(1)], deadLetter: false))
        #expect(catalog.consumerGroups.first?.deadLetterTopic == nil)
    }

    @Test func noDerivedTopicsWithoutRetryPolicy() throws {
        let yaml = orderDocument(
            operations: """
                operations:
                  consume:
                    action: receive
                    channel: {$ref: '#/channels/orders'}
                    bindings: {kafka: {groupId: {const: audit}}}

                """
        )
        let catalog = try Catalog.load(yaml: yaml)
        #expect(catalog.allTopics.map(\.name) == ["shop.orders"])
        #expect(catalog.consumerGroups.first?.retryPolicy == nil)
        #expect(catalog.consumerGroups.first?.retryTopics == [])
    }

    @Test func derivedTopicsCollidingWithEachOtherAreReported() throws {
        // Topic "a.b" with group "c" and topic "a" with group "b.c" both derive "a.b.c.retry.1".
        let yaml = """
            asyncapi: 3.0.0
            info: {title: Collide, version: '1'}
            channels:
              ab:
                address: a.b
                bindings: {kafka: {partitions: 1, replicas: 1}}
                x-dabba-retry: {delays: [1s], deadLetter: false}
              a:
                address: a
                bindings: {kafka: {partitions: 1, replicas: 1}}
                x-dabba-retry: {delays: [1s], deadLetter: false}
            operations:
              first:
                action: receive
                channel: {$ref: '#/channels/ab'}
                bindings: {kafka: {groupId: {const: c}}}
              second:
                action: receive
                channel: {$ref: '#/channels/a'}
                bindings: {kafka: {groupId: {const: b.c}}}
            """
        #expect {
            try Catalog.load(yaml: yaml, path: "collide.asyncapi.yaml")
        } throws: { error in
            guard let errors = (error as? CatalogErrors)?.errors, errors.count == 1, let error = errors.first else {
                return false
            }
            return error.code == .derivedTopicCollision && error.line == 20
                && error.message.contains("'a.b.c.retry.1'") && error.message.contains("collide.asyncapi.yaml:16:")
        }
    }
}
