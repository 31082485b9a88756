import DabbaCatalog
import Foundation
import Testing

/// One test per kind of catalog error, each loading a small fixture and checking the code, file and line.
@Suite("Catalog errors")
struct CatalogErrorTests {
    @Test func duplicateTopicAcrossFiles() throws {
        let errors = try loadFailure("duplicate-topic")
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .duplicateTopic)
        #expect(error.file == "duplicate-topic/b-billing.asyncapi.yaml")
        #expect(error.line == 13)
        #expect(error.column == 14)
        #expect(error.message.contains("'shop.orders'"))
        #expect(error.message.contains("first declared at duplicate-topic/a-orders.asyncapi.yaml:7:14"))
        #expect(
            error.description
                == "duplicate-topic/b-billing.asyncapi.yaml:13:14: duplicate topic 'shop.orders' "
                + "(first declared at duplicate-topic/a-orders.asyncapi.yaml:7:14)"
        )
    }

    @Test func duplicateEventTypeAcrossFiles() throws {
        let errors = try loadFailure("duplicate-event-type")
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .duplicateEventType)
        #expect(error.file == "duplicate-event-type/b-audit.asyncapi.yaml")
        #expect(error.line == 18)
        #expect(
            error.description
                == "duplicate-event-type/b-audit.asyncapi.yaml:18:13: duplicate event type 'shop.order.placed' "
                + "(first declared at duplicate-event-type/a-orders.asyncapi.yaml:18:13)"
        )
    }

    @Test func missingReferencesToMessagesChannelsAndSchemas() throws {
        let errors = try loadFailure("missing-reference")
        let file = "missing-reference/orders.asyncapi.yaml"
        #expect(errors.allSatisfy { $0.code == .missingReference && $0.file == file })
        #expect(
            errors.map(\.line) == [
                try line(of: "OrderShipped'", in: file),
                try line(of: "'#/channels/shipments'", in: file),
                try line(of: "OrderPlacedPayload'", in: file),
            ]
        )
        #expect(
            errors.map(\.message) == [
                "message '#/components/messages/OrderShipped' does not exist",
                "channel '#/channels/shipments' does not exist",
                "schema '#/components/schemas/OrderPlacedPayload' does not exist",
            ]
        )
    }

    @Test func invalidPartitions() throws {
        let errors = try loadFailure("invalid-partitions")
        let file = "invalid-partitions/orders.asyncapi.yaml"
        #expect(errors.allSatisfy { $0.code == .invalidPartitions && $0.file == file })
        #expect(errors.map(\.line) == [10, 16, 21])
        #expect(
            errors.map(\.message) == [
                "'channels.orders.bindings.kafka.partitions' must be at least 1, not 0",
                "'channels.returns.bindings.kafka.partitions' must be an integer, not 'six'",
                "'channels.refunds.bindings.kafka' is missing 'partitions'",
            ]
        )
    }

    @Test func invalidReplicas() throws {
        let errors = try loadFailure("invalid-replicas")
        let file = "invalid-replicas/orders.asyncapi.yaml"
        #expect(errors.allSatisfy { $0.code == .invalidReplicas && $0.file == file })
        #expect(errors.map(\.line) == [11, 17])
        #expect(errors.map(\.column) == [19, 19])
    }

    @Test func exampleViolatingItsSchemaNamesTheExampleAndField() throws {
        let errors = try loadFailure("example-violates-schema")
        let file = "example-violates-schema/orders.asyncapi.yaml"
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .exampleViolatesSchema)
        #expect(error.file == file)
        #expect(error.line == (try line(of: "totalMinor: -5", in: file)))
        #expect(error.message.contains("example 'negative-total' of 'shop.order.placed'"))
        #expect(error.message.contains("/totalMinor"))
        #expect(error.message.contains("minimum"))
    }

    @Test func unsupportedSchemaKeywordPointsAtTheKeyword() throws {
        let errors = try loadFailure("invalid-schema")
        let file = "invalid-schema/orders.asyncapi.yaml"
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .invalidSchema)
        #expect(error.file == file)
        #expect(error.line == (try line(of: "unevaluatedProperties: false", in: file)))
        #expect(error.message.contains("unevaluatedProperties"))
    }

    @Test func invalidDurations() throws {
        let errors = try loadFailure("invalid-duration")
        let file = "invalid-duration/orders.asyncapi.yaml"
        #expect(errors.allSatisfy { $0.code == .invalidDuration && $0.file == file })
        #expect(errors.map(\.line) == [try line(of: "- 10 seconds", in: file), try line(of: "- 5", in: file)])
        #expect(errors.first?.message.contains("'10 seconds'") == true)
    }

    @Test func invalidRetryPolicy() throws {
        let errors = try loadFailure("invalid-retry-policy")
        let file = "invalid-retry-policy/orders.asyncapi.yaml"
        #expect(errors.allSatisfy { $0.code == .invalidRetryPolicy && $0.file == file })
        #expect(errors.map(\.line) == [13, 14])
        #expect(
            errors.map(\.message) == [
                "x-dabba-retry needs at least one delay",
                "unknown key 'deadletter' in x-dabba-retry; expected one of deadLetter, deadLetterConfiguration, "
                    + "delays, partitions, replicas",
            ]
        )
    }

    @Test func illegalTopicNamesDeclaredAndDerived() throws {
        let errors = try loadFailure("invalid-topic-name")
        let file = "invalid-topic-name/orders.asyncapi.yaml"
        #expect(errors.allSatisfy { $0.code == .invalidTopicName && $0.file == file })
        #expect(
            errors.map(\.line) == [try line(of: "shop/orders", in: file), try line(of: "returns handler", in: file)]
        )
        #expect(errors.first?.message.contains("contains '/'") == true)
        #expect(errors.last?.message.contains("'shop.returns.returns handler.retry.1'") == true)
    }

    @Test func topicNamesLongerThanKafkaAllowsAreRejected() throws {
        let name = String(repeating: "a", count: 250)
        #expect(TopicSpec.nameProblem(name)?.contains("at most 249") == true)
        #expect(TopicSpec.nameProblem(String(repeating: "a", count: 249)) == nil)
        #expect(TopicSpec.nameProblem("..") != nil)
        #expect(TopicSpec.nameProblem("") != nil)
        #expect(TopicSpec.nameProblem("orders.v1_x-y") == nil)
        #expect(TopicSpec.nameProblem("ordérs") != nil)
    }

    @Test func derivedTopicCollidingWithADeclaredTopic() throws {
        let errors = try loadFailure("derived-topic-collision")
        let file = "derived-topic-collision/orders.asyncapi.yaml"
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .derivedTopicCollision)
        #expect(error.file == file)
        #expect(error.line == (try line(of: "enum: [billing]", in: file)))
        #expect(error.message.contains("'shop.orders.billing.dlq'"))
        #expect(error.message.contains("\(file):\(try line(of: "address: shop.orders.billing.dlq", in: file))"))
    }

    @Test func yamlSyntaxErrorReportsTheLine() throws {
        let errors = try loadFailure("yaml-syntax")
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .yamlSyntax)
        #expect(error.file == "yaml-syntax/orders.asyncapi.yaml")
        #expect(error.line == 11)
        #expect(error.description.hasPrefix("yaml-syntax/orders.asyncapi.yaml:11:"))
    }

    @Test func yamlDuplicateKeyPointsAtTheRepeatedKey() throws {
        let errors = try loadFailure("yaml-duplicate-key")
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .yamlSyntax)
        #expect(error.file == "yaml-duplicate-key/orders.asyncapi.yaml")
        #expect(error.line == 12)
        #expect(error.column == 3)
        #expect(error.message == "duplicate key 'orders' in one mapping (first at line 6)")
    }

    @Test func directoryWithoutCatalogFiles() throws {
        let errors = try loadFailure("no-catalog-files")
        let error = try #require(errors.first)
        #expect(errors.count == 1)
        #expect(error.code == .noCatalogFiles)
        #expect(error.file == "no-catalog-files")
        #expect(error.line == 0)
    }

    @Test func missingDirectoryAndMissingFile() throws {
        let fixtures = try TestPaths.fixtures()
        #expect {
            try Catalog.load(directory: fixtures.appendingPathComponent("does-not-exist"), relativeTo: fixtures)
        } throws: { error in
            (error as? CatalogErrors)?.errors.map(\.code) == [.fileNotFound]
                && (error as? CatalogErrors)?.errors.first?.file == "does-not-exist"
        }
        #expect {
            try Catalog.load(files: [fixtures.appendingPathComponent("nope.asyncapi.yaml")], relativeTo: fixtures)
        } throws: { error in
            (error as? CatalogErrors)?.errors.first?.code == .fileNotFound
        }
    }

    @Test func invalidKeyFields() throws {
        let errors = try loadFailure("invalid-key")
        let file = "invalid-key/orders.asyncapi.yaml"
        #expect(errors.allSatisfy { $0.code == .invalidKey && $0.file == file })
        #expect(
            errors.map(\.line) == [
                try line(of: "x-dabba-key: /customerId", in: file), try line(of: "x-dabba-key: orderId", in: file),
            ]
        )
        #expect(errors.first?.message == "x-dabba-key '/customerId' is not a property of the payload schema")
        #expect(errors.last?.message.contains("must be a required property") == true)
    }

    @Test func invalidConsumerGroups() throws {
        let errors = try loadFailure("invalid-consumer-group")
        let file = "invalid-consumer-group/orders.asyncapi.yaml"
        #expect(errors.allSatisfy { $0.code == .invalidConsumerGroup && $0.file == file })
        #expect(
            errors.map(\.line) == [
                try line(of: "action: receive", in: file, occurrence: 1),
                try line(of: "enum: [billing, invoicing]", in: file),
            ]
        )
        #expect(errors.first?.message.contains("receive operation 'ship' needs bindings.kafka.groupId") == true)
    }

    @Test func invalidTopicConfiguration() throws {
        let errors = try loadFailure("invalid-topic-configuration")
        let file = "invalid-topic-configuration/orders.asyncapi.yaml"
        #expect(errors.allSatisfy { $0.code == .invalidTopicConfiguration && $0.file == file })
        #expect(errors.map(\.line) == [13, 14])
        #expect(errors.first?.message == "'retention.ms' must be an integer of at least -1, not '7d'")
        #expect(errors.last?.message == "'cleanup.policy' must be 'delete' and/or 'compact', not 'archive'")
    }

    @Test func everyErrorOfEveryFileIsReportedInOrder() throws {
        let errors = try loadFailure("multiple-errors")
        #expect(
            errors.map { "\($0.file):\($0.line) \($0.code)" } == [
                "multiple-errors/a-orders.asyncapi.yaml:13 invalidPartitions",
                "multiple-errors/a-orders.asyncapi.yaml:16 invalidDuration",
                "multiple-errors/a-orders.asyncapi.yaml:28 exampleViolatesSchema",
                "multiple-errors/b-broken.asyncapi.yaml:6 yamlSyntax",
            ]
        )
        let all = CatalogErrors(errors)
        #expect(all.description.split(separator: "\n").count == 4)
        #expect(all.errors(withCode: .invalidDuration).count == 1)
    }
}
