@testable import DabbaKafka
import Foundation
import Testing

@Suite("librdkafka waits block no cooperative thread")
struct KafkaOffPoolTests {
    @Test("more waiting calls than cores leave the cooperative pool free to run the task that ends them")
    func waitingCallsLeaveThePoolFree() async throws {
        // One more call than the pool has threads: were they served by the pool's threads (as a concurrent or global
        // dispatch queue is, on Linux), the task that releases them would wait until libdispatch noticed the blocked
        // threads and added one (a second or more: the stalls seen under load). Off the pool, nothing waits for it.
        let width = ProcessInfo.processInfo.activeProcessorCount + 1
        let release = DispatchSemaphore(value: 0)
        let released = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<width {
                group.addTask { try await Blocking.run { release.wait(timeout: .now() + 30) == .success } }
            }
            // This task runs on the cooperative pool.
            try await Task.sleep(for: .milliseconds(200))
            for _ in 0..<width { release.signal() }
            return try await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(released == Array(repeating: true, count: width))
    }

    @Test("the embedded broker's calls after stop() fail as closed instead of touching the destroyed cluster")
    func embeddedBrokerCallsAfterStop() async throws {
        let broker = try EmbeddedBroker(brokers: 2)
        try await broker.createTopic("before-stop", partitions: 2, replicationFactor: 2)
        try await broker.setPartitionLeader(topic: "before-stop", partition: 0, broker: 2)
        broker.stop()
        broker.stop()
        let error = await #expect(throws: KafkaError.self) {
            try await broker.createTopic("after-stop", partitions: 1)
        }
        #expect(error?.code == .closed)
        #expect(error?.message.contains("create topic 'after-stop'") == true, "\(String(describing: error))")
        await #expect(throws: KafkaError.self) { try await broker.setBrokerDown(1) }
        await #expect(throws: KafkaError.self) { try await broker.injectErrors(.produce, [.notEnoughReplicas]) }
    }
}
