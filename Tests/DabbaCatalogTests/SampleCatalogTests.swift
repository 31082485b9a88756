import DabbaCatalog
import DabbaSchema
import Foundation
import Testing

@Suite("The repository's Topics/ catalog")
struct SampleCatalogTests {
    let catalog: Catalog
    let topicsDirectory: URL

    init() throws {
        topicsDirectory = try TestPaths.repositoryTopics()
        catalog = try Catalog.load(directory: topicsDirectory, relativeTo: topicsDirectory.deletingLastPathComponent())
    }

    @Test func documentsAreDescribed() throws {
        let document = try #require(catalog.documents.first { $0.domain == "payments" })
        #expect(document.title == "Payments")
        #expect(document.version == "1.0.0")
        #expect(document.asyncAPIVersion == "3.0.0")
        #expect(document.path == "Topics/payments.asyncapi.yaml")
        #expect(document.url.lastPathComponent == "payments.asyncapi.yaml")
    }

    @Test func mainTopicHasPartitionsReplicasAndConfigs() throws {
        let topic = try #require(catalog.topic(named: "payments.payments"))
        #expect(topic.kind == .main)
        #expect(topic.partitions == 6)
        #expect(topic.replicas == 1)
        #expect(topic.channelID == "payments")
        #expect(
            topic.configs == [
                "cleanup.policy": "delete",
                "retention.ms": "604800000",
                "max.message.bytes": "1048576",
            ]
        )
        #expect(topic.source.file == "Topics/payments.asyncapi.yaml")
        #expect(topic.source.line == 14)
        #expect(topic.source.column == 14)
        #expect(catalog.topics.map(\.name).contains("payments.payments"))
    }

    @Test func retryAndDeadLetterTopicsAreDerivedPerGroup() throws {
        let retries = catalog.retryTopics(for: "payments.payments", group: "payments-authorizer")
        #expect(
            retries.map(\.name) == [
                "payments.payments.payments-authorizer.retry.1",
                "payments.payments.payments-authorizer.retry.2",
            ]
        )
        #expect(
            retries.map(\.kind) == [
                .retry(tier: 1, delay: .seconds(1), group: "payments-authorizer", of: "payments.payments"),
                .retry(tier: 2, delay: .seconds(10), group: "payments-authorizer", of: "payments.payments"),
            ]
        )
        for retry in retries {
            #expect(retry.partitions == 6)
            #expect(retry.replicas == 1)
            #expect(retry.configs["retention.ms"] == "604800000")
            #expect(retry.configs["cleanup.policy"] == "delete")
            #expect(retry.isDerived)
            #expect(retry.mainTopic == "payments.payments")
        }

        let deadLetter = try #require(catalog.deadLetterTopic(for: "payments.payments", group: "payments-authorizer"))
        #expect(deadLetter.name == "payments.payments.payments-authorizer.dlq")
        #expect(deadLetter.kind == .deadLetter(group: "payments-authorizer", of: "payments.payments"))
        #expect(
            deadLetter.configs == [
                "cleanup.policy": "delete",
                "retention.ms": "1209600000",
                "max.message.bytes": "1048576",
            ]
        )
        #expect(deadLetter.partitions == 6)
        #expect(deadLetter.group == "payments-authorizer")

        #expect(
            catalog.allTopics.filter { $0.mainTopic == "payments.payments" }.map(\.name) == [
                "payments.payments",
                "payments.payments.payments-authorizer.retry.1",
                "payments.payments.payments-authorizer.retry.2",
                "payments.payments.payments-authorizer.dlq",
            ]
        )
        #expect(catalog.topics.allSatisfy { !$0.isDerived })
        #expect(catalog.retryTopics(for: "payments.payments", group: "someone-else").isEmpty)
        #expect(catalog.deadLetterTopic(for: "payments.payments", group: "someone-else") == nil)
    }

    @Test func eventsCarryTheirSchemasKeysAndExamples() throws {
        #expect(
            catalog.events(onTopic: "payments.payments").map(\.type) == [
                "payments.payment.requested",
                "payments.payment.authorized",
                "payments.payment.declined",
            ]
        )
        let requested = try #require(catalog.event(named: "payments.payment.requested"))
        #expect(requested.messageID == "PaymentRequested")
        #expect(requested.topic == "payments.payments")
        #expect(requested.channelID == "payments")
        #expect(requested.schemaVersion == 1)
        #expect(requested.contentType == "application/json")
        #expect(requested.keyField == "/orderId")
        #expect(requested.keyDescription?.contains("order id") == true)
        #expect(requested.compatibility == .backward)
        #expect(requested.payloadSchemaPointer == "/components/messages/PaymentRequested/payload")
        #expect(requested.rawPayloadSchema == ["$ref": "#/components/schemas/PaymentRequested"])
        #expect(requested.schemaDocument["components"]?["schemas"]?["Money"] != nil)
        #expect(requested.namedExamples.map(\.name) == ["card-payment"])
        #expect(requested.source.line == 76)
        #expect(requested.source.column == 13)

        let example = try #require(requested.examples.first)
        #expect(requested.payloadSchema.isValid(example))
        #expect(try requested.partitionKey(for: example) == "ord_7731")
        #expect(example["amount"]?["amountMinor"] == .integer(4250))
        #expect(example["requestedAt"] == .string("2025-03-14T09:26:53Z"))

        let declined = try #require(catalog.event(named: "payments.payment.declined"))
        #expect(declined.examples.count == 2)
        #expect(declined.examples.allSatisfy { declined.payloadSchema.isValid($0) })
        #expect(catalog.event(named: "payments.payment.refunded") == nil)
    }

    @Test func payloadSchemasRejectBadPayloads() throws {
        let requested = try #require(catalog.event(named: "payments.payment.requested"))
        let example = try #require(requested.examples.first)
        guard case .object(var payload) = example else {
            Issue.record("example is not an object")
            return
        }
        payload["amount"] = ["amountMinor": 0, "currency": "eur"]
        payload["tip"] = 1
        let violations = requested.payloadSchema.validate(.object(payload))
        let paths = Set(violations.map(\.instancePath))
        #expect(paths.contains("/amount/amountMinor"))
        #expect(paths.contains("/amount/currency"))
        #expect(paths.contains("/tip"))
    }

    @Test func consumerGroupsAndProducers() throws {
        // Other documents in Topics/ (food-delivery) add their own groups and producers: look at payments' only.
        #expect(catalog.consumerGroups.filter { $0.topic == "payments.payments" }.count == 1)
        let group = try #require(catalog.consumerGroup("payments-authorizer", onTopic: "payments.payments"))
        #expect(group.service == "payments-authorizer")
        #expect(group.operationID == "authorizePayment")
        #expect(group.eventTypes == ["payments.payment.requested"])
        #expect(group.retryPolicy == RetryPolicy(delays: [.seconds(1), .seconds(10)], deadLetter: true))
        #expect(
            group.retryTopics == [
                "payments.payments.payments-authorizer.retry.1",
                "payments.payments.payments-authorizer.retry.2",
            ]
        )
        #expect(group.deadLetterTopic == "payments.payments.payments-authorizer.dlq")
        #expect(catalog.consumerGroups(onTopic: "payments.payments").map(\.groupID) == ["payments-authorizer"])

        #expect(
            catalog.producers.filter { $0.topic == "payments.payments" }.map(\.operationID) == ["requestPayment", "publishPaymentOutcome"]
        )
        let checkout = try #require(catalog.producers.first { $0.service == "checkout" })
        #expect(checkout.topic == "payments.payments")
        #expect(checkout.eventTypes == ["payments.payment.requested"])
        let outcome = try #require(catalog.producers.first { $0.operationID == "publishPaymentOutcome" })
        #expect(outcome.service == "payments-authorizer")
        #expect(outcome.eventTypes == ["payments.payment.authorized", "payments.payment.declined"])
        #expect(catalog.producers(onTopic: "payments.payments").count == 2)
    }
}
