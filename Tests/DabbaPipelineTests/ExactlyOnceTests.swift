import DabbaEvents
import DabbaKafka
import DabbaPipeline
import DabbaTesting
import Foundation
import Synchronization
import Testing

@Suite(
    "Exactly-once consume-transform-produce (persistent broker)",
    .enabled(if: PersistentTestBroker.isAvailable, Comment(rawValue: PersistentTestBroker.unavailableMessage)),
    .timeLimit(.minutes(3))
)
struct ExactlyOnceTests {
    @Test("a predecessor's open transaction is aborted by fencing; outputs appear exactly once per input")
    func fencingAndExactlyOnce() async throws {
        try await PersistentTestBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let input = TestHelpers.uniqueName("in")
            let output = "out-\(UUID().uuidString.prefix(8))"
            let group = "eos-\(UUID().uuidString.prefix(8))"
            try await admin.createTopics([
                NewTopic(name: input, partitions: 2, replicationFactor: 1),
                NewTopic(name: output, partitions: 2, replicationFactor: 1),
            ])
            let producer = try KafkaProducer(configuration: broker.producerConfiguration(), logger: quietLogger)
            let events = EventProducer(producer: producer, source: "/test", routes: EventRoutes([OrderPlaced.eventType: input]))
            for index in 0..<20 {
                try await events.send(OrderPlaced(orderID: "o\(index % 5)", amount: index), metadata: EventMetadata(id: "in-\(index)"))
            }
            // A previous incarnation of the instance "crashed" after producing outputs but before committing.
            let transactionalID = "\(group)-instance-1"
            let zombie = try KafkaProducer(
                configuration: broker.producerConfiguration(transactionalID: transactionalID), logger: quietLogger
            )
            try await zombie.beginTransaction()
            for index in 0..<5 {
                try await zombie.enqueue(ProducerMessage(topic: output, key: "zombie", value: "uncommitted-\(index)"))
            }
            try await zombie.flush()

            var pipeline = Pipeline(service: "shipping", groupID: group)
            pipeline.on(OrderPlaced.self) { event, context in
                try await context.emit(OrderShipped(orderID: event.orderID))
            }
            var configuration = PipelineConfiguration(client: ClientConfiguration(bootstrap: broker.bootstrapServers))
            configuration.exactlyOnce = true
            configuration.instanceID = "instance-1"
            configuration.batchSize = 7
            let runner = try PipelineRunner(
                pipeline: pipeline, topology: PipelineTopology(mainTopics: [input]), configuration: configuration,
                routes: EventRoutes([OrderShipped.eventType: output]), logger: quietLogger
            )
            try await withRunning(runner) {
                try await eventually("every input is handled") { runner.metrics.handled.value >= 20 }
            }
            #expect(runner.metrics.transactionsCommitted.value >= 3)

            // read_committed: exactly one output per input, none of the zombie's.
            let reader = try KafkaConsumer(configuration: broker.consumerConfiguration(group: "reader-\(group)"), logger: quietLogger)
            try reader.subscribe(topics: [output])
            var outputs: [KafkaMessage] = []
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(20))
            while outputs.count < 20, clock.now < deadline {
                if let batch = try await withTimeout(.seconds(2), { try await reader.nextMessages() }) { outputs += batch }
            }
            let extra = try await withTimeout(.seconds(2), { try await reader.nextMessages() }) ?? []
            try await reader.close()
            #expect(outputs.count + extra.count == 20)
            #expect(outputs.allSatisfy { $0.keyString != "zombie" })
            #expect(Set(outputs.compactMap { $0.header("ce_causationid") }) == Set((0..<20).map { "in-\($0)" }))
            // The input offsets were committed by the transactions.
            let committed = try await admin.committedOffsets(group: group, topics: [input])
            #expect(committed.map(\.offset).reduce(0, +) == 20)
            try await producer.close()
            try? await zombie.close(timeout: .seconds(1))
        }
    }
}

/// Runs `body`, returning nil if it takes longer than `limit`.
func withTimeout<Result: Sendable>(
    _ limit: Duration, _ body: @escaping @Sendable () async throws -> Result?
) async throws -> Result? {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: limit)
            return nil
        }
        let first = try await group.next() ?? nil
        group.cancelAll()
        return first
    }
}

@Suite("Exactly-once configuration")
struct ExactlyOnceConfigurationTests {
    @Test("exactly-once without a stable instance id is refused: a restart could not fence its predecessor")
    func needsAnInstanceID() throws {
        var pipeline = Pipeline(service: "shipping", groupID: "shipping")
        pipeline.on(OrderPlaced.self) { _, _ in }
        var configuration = PipelineConfiguration(client: ClientConfiguration(bootstrap: "127.0.0.1:1"))
        configuration.exactlyOnce = true
        let error = #expect(throws: PipelineError.self) {
            _ = try PipelineRunner(
                pipeline: pipeline, topology: PipelineTopology(mainTopics: ["orders"]), configuration: configuration,
                logger: quietLogger
            )
        }
        #expect(error?.code == .configuration)
        #expect(error?.message.contains("instance id") == true)
        configuration.instanceID = "shipping-1"
        _ = try PipelineRunner(
            pipeline: pipeline, topology: PipelineTopology(mainTopics: ["orders"]), configuration: configuration,
            logger: quietLogger
        )
    }
}
