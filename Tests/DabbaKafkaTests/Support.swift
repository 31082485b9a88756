import DabbaKafka
import DabbaTesting
import Foundation
import Logging
import Testing

/// A unique topic name per test, so tests can share a broker and run in parallel.
func uniqueTopic(_ base: String = #function) -> String {
    "t-" + TestHelpers.uniqueName(base)
}

let quietLogger = TestHelpers.quietLogger(level: .error)

func producerConfiguration(_ broker: EmbeddedBroker) -> ProducerConfiguration {
    var configuration = ProducerConfiguration(bootstrap: broker.bootstrapServers)
    configuration.linger = .milliseconds(1)
    return configuration
}

func consumerConfiguration(_ broker: EmbeddedBroker, group: String) -> ConsumerConfiguration {
    var configuration = ConsumerConfiguration(bootstrap: broker.bootstrapServers, groupID: group)
    configuration.commitInterval = .milliseconds(200)
    configuration.sessionTimeout = .seconds(6)
    configuration.client.properties["heartbeat.interval.ms"] = "500"
    configuration.client.properties["topic.metadata.refresh.interval.ms"] = "1000"
    return configuration
}

/// Reads messages until `count` have arrived or `timeout` passes; marks each processed.
func collect(
    _ consumer: KafkaConsumer,
    count: Int,
    timeout: Duration = .seconds(30),
    onMessage: @escaping @Sendable (KafkaMessage) async throws -> Void = { _ in }
) async throws -> [TestRecord] {
    try await withThrowingTaskGroup(of: [TestRecord]?.self) { group in
        group.addTask {
            var received: [TestRecord] = []
            for try await message in consumer.messages {
                received.append(TestRecord(message))
                try await onMessage(message)
                consumer.markProcessed(message)
                if received.count >= count { break }
            }
            return received
        }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        guard let first else {
            Issue.record("timed out waiting for \(count) messages")
            return []
        }
        return first
    }
}
