import DabbaEvents
import DabbaKafka
import DabbaTesting
import Foundation
import Logging
import PaymentsFixtureEvents

let quietLogger = TestHelpers.quietLogger(level: .error)

func uniqueTopic(_ base: String = #function) -> String {
    "t-" + TestHelpers.uniqueName(base)
}

func testConsumer(_ broker: EmbeddedBroker, topic: String, parsesHeadersOnFetch: Bool = false) throws -> KafkaConsumer {
    var configuration = ConsumerConfiguration(bootstrap: broker.bootstrapServers, groupID: "g-\(topic)")
    configuration.parsesHeadersOnFetch = parsesHeadersOnFetch
    configuration.client.properties["topic.metadata.refresh.interval.ms"] = "1000"
    // Short: a spurious rejoin (librdkafka 2.0, see PipelineFixture.records) is held for the session timeout less 1 s.
    configuration.sessionTimeout = .seconds(6)
    configuration.client.properties["heartbeat.interval.ms"] = "500"
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
