import DabbaSpawn
import DabbaTesting
import Synchronization
import Testing

@testable import DabbaKafka

@Suite("Taking an embedded broker down and up", .timeLimit(.minutes(3)))
struct BrokerDownTests {
    /// Taking a broker down rebinds its port; a child started at that moment used to hold the old socket open, the
    /// bind failed and librdkafka aborted the process (see `ChildStartGate`). This suite's process surviving is
    /// the assertion; the broker serving afterwards is checked too.
    @Test("children start all the while brokers go down and up: the process survives and the brokers serve again")
    func downAndUpWhileChildrenStart() async throws {
        let broker = try EmbeddedBroker(brokers: 2)
        try await broker.createTopic("down-up", partitions: 2, replicationFactor: 1)
        let children = ChildStarts()
        let starters = (0..<2).map { _ in
            Task.detached {
                while children.cycling.load(ordering: .relaxed) {
                    let child = try SpawnedProcess(executable: "/bin/true", arguments: [], environment: [:])
                    _ = await child.waitForExit()
                    children.started.add(1, ordering: .relaxed)
                }
            }
        }
        for cycle in 0..<20 {
            let brokerID = Int32(1 + cycle % 2)
            try await broker.setBrokerDown(brokerID)
            try await broker.setBrokerUp(brokerID)
        }
        children.cycling.store(false, ordering: .relaxed)
        for starter in starters { try await starter.value }
        #expect(children.started.load(ordering: .relaxed) > 0)

        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: TestHelpers.quietLogger()
        )
        for partition: Int32 in 0...1 {
            let delivered = try await producer.send(
                ProducerMessage(topic: "down-up", key: nil, value: "after", partition: partition)
            )
            #expect(delivered.partition == partition)
        }
        try await producer.close()
    }
}

/// Children started while the brokers cycle.
private final class ChildStarts: Sendable {
    let cycling = Atomic<Bool>(true)
    let started = Atomic<Int>(0)
}
