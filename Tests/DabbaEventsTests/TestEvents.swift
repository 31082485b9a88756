import DabbaEvents
import DabbaKafka
import DabbaTesting
import Foundation
import Logging

struct Money: Codable, Sendable, Equatable {
    var amountMinor: Int
    var currency: String
}

struct PaymentRequested: Event, Equatable {
    static let eventType = "payments.payment.requested"
    static let schemaVersion = 1
    var paymentId: String
    var orderId: String
    var customerId: String
    var amount: Money
    var method: String
    var requestedAt: Date
    var partitionKey: String? { orderId }
}

struct PaymentAuthorized: Event, Equatable {
    static let eventType = "payments.payment.authorized"
    var paymentId: String
    var orderId: String
    var amount: Money
    var provider: String
    var authorizationCode: String
    var authorizedAt: Date
    var partitionKey: String? { orderId }
}

let quietLogger = TestHelpers.quietLogger(level: .error)

func uniqueTopic(_ base: String = #function) -> String {
    "t-" + TestHelpers.uniqueName(base)
}

func testConsumer(_ broker: EmbeddedBroker, topic: String) throws -> KafkaConsumer {
    var configuration = ConsumerConfiguration(bootstrap: broker.bootstrapServers, groupID: "g-\(topic)")
    configuration.client.properties["topic.metadata.refresh.interval.ms"] = "1000"
    let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
    try consumer.subscribe(topics: [topic])
    return consumer
}

/// The first `count` messages of the consumer (marking them processed).
func firstMessages(_ consumer: KafkaConsumer, count: Int) async throws -> [KafkaMessage] {
    var messages: [KafkaMessage] = []
    for try await message in consumer.messages {
        messages.append(message)
        consumer.markProcessed(message)
        if messages.count == count { break }
    }
    return messages
}
