@testable import DabbaKafka
import Foundation
import Synchronization
import Testing

/// A flag the pool sets and waiting threads watch.
private final class Release: Sendable {
    private let value = Atomic<Bool>(false)
    private let seen = Mutex<[Bool]>([])
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
    /// Records whether the flag was set when a waiter stopped waiting.
    func recordSeen() { seen.withLock { $0.append(isSet) } }
    var sightings: [Bool] { seen.withLock { $0 } }
}

@Suite("librdkafka waits block no cooperative thread")
struct KafkaOffPoolTests {
    @Test("more waiting calls than cores leave the cooperative pool free to run the task that ends them")
    func waitingCallsLeaveThePoolFree() async throws {
        // One more call than the pool has threads: were they served by the pool's threads (as a concurrent or global
        // dispatch queue is, on Linux), the task that releases them could not run until their deadline.
        let width = ProcessInfo.processInfo.activeProcessorCount + 1
        let release = Release()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<width {
                group.addTask {
                    try await Blocking.run {
                        let deadline = Date().addingTimeInterval(30)
                        while !release.isSet, Date() < deadline { usleep(1000) }
                        release.recordSeen()
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            release.set()
            try await group.waitForAll()
        }
        #expect(release.sightings == Array(repeating: true, count: width))
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
