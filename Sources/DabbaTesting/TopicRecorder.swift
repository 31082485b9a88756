import DabbaKafka
import Foundation
import Logging
import Synchronization

/// Reads a topic from the beginning with a consumer group of its own and keeps every record, so tests can wait for
/// records and then look at all of them.
final class TopicRecorder: Sendable {
    let topic: String
    private let consumer: KafkaConsumer
    private let reader: Task<Void, Never>
    private let state: RecordedState

    init(topic: String, bootstrapServers: String, logger: Logger) throws {
        var configuration = ConsumerConfiguration(
            bootstrap: bootstrapServers, groupID: TestHelpers.uniqueName("dabba-test-reader")
        )
        configuration.sessionTimeout = .seconds(6)
        configuration.client.properties["topic.metadata.refresh.interval.ms"] = "1000"
        configuration.client.properties["heartbeat.interval.ms"] = "500"
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        try consumer.subscribe(topics: [topic])
        let state = RecordedState()
        self.topic = topic
        self.consumer = consumer
        self.state = state
        reader = Task {
            do {
                for try await message in consumer.messages {
                    state.value.withLock { $0.records.append(TestRecord(message)) }
                }
            } catch {
                state.value.withLock { $0.failure = "\(error)" }
            }
        }
    }

    /// Every record read so far, in the order read.
    var records: [TestRecord] { state.value.withLock { $0.records } }

    /// Why reading stopped early, if it did.
    var failure: String? { state.value.withLock { $0.failure } }

    func stop() async {
        try? await consumer.close(timeout: .seconds(10))
        // Not awaited: the sequence ends on its own once the consumer is closed.
        reader.cancel()
    }
}

/// What a recorder read, shared between it and its reading task.
final class RecordedState: Sendable {
    let value = Mutex<(records: [TestRecord], failure: String?)>(([], nil))
}
