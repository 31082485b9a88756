import DabbaKafka
import Synchronization
import Testing

@testable import DabbaPipeline

/// A consumer stand-in that records what was paused (also used by the operator pause tests).
final class FakeConsumer: PausablePartitions {
    let state = Mutex<(assigned: Set<TopicPartition>, paused: Set<TopicPartition>)>(([], []))
    var assignment: Set<TopicPartition> { state.withLock { $0.assigned } }
    var paused: Set<TopicPartition> { state.withLock { $0.paused } }

    init(_ partitions: [TopicPartition]) { state.withLock { $0.assigned = Set(partitions) } }

    func pause(_ partitions: [TopicPartition]) throws { state.withLock { $0.paused.formUnion(partitions) } }
    func resume(_ partitions: [TopicPartition]) throws { state.withLock { $0.paused.subtract(partitions) } }

    /// A rebalance: the consumer's hook decides which of the new partitions start paused.
    func assign(_ partitions: [TopicPartition], hook: PartitionPauses) {
        state.withLock { $0.assigned.formUnion(partitions) }
        let startPaused = Set(hook.pausedOnAssignment(partitions))
        state.withLock { state in
            state.paused.subtract(partitions)
            state.paused.formUnion(startPaused)
        }
    }

    func revoke(_ partitions: [TopicPartition]) {
        state.withLock { state in
            state.assigned.subtract(partitions)
            state.paused.subtract(partitions)
        }
    }
}

@Suite("Partition pauses keep each reason apart")
struct PartitionPausesTests {
    let p0 = TopicPartition(topic: "orders", partition: 0)
    let p1 = TopicPartition(topic: "orders", partition: 1)
    let p2 = TopicPartition(topic: "orders", partition: 2)

    @Test("a partition resumes only when its last reason is lifted")
    func lastReasonResumes() {
        let consumer = FakeConsumer([p0, p1])
        let pauses = PartitionPauses()
        pauses.bind(consumer)
        pauses.pause([p0], reason: .retryDelay)
        pauses.pauseAll(reason: .breaker("bank"))
        #expect(consumer.paused == [p0, p1])
        pauses.releaseAll(reason: .breaker("bank"))
        // The breaker closing must not resume the partition a retry tier paused for its delay.
        #expect(consumer.paused == [p0])
        #expect(pauses.isPaused(p0, for: .retryDelay))
        pauses.release([p0], reason: .retryDelay)
        #expect(consumer.paused.isEmpty)
        #expect(pauses.snapshot.isEmpty)
    }

    @Test("timed reasons lapse by themselves, the others stay")
    func timedReasons() {
        let consumer = FakeConsumer([p0, p1])
        let pauses = PartitionPauses()
        pauses.bind(consumer)
        let start = ContinuousClock.now
        pauses.pause([p0], reason: .retryDelay, until: start + .seconds(1))
        pauses.pause([p1], reason: .throttle, until: start + .seconds(5))
        pauses.pause([p1], reason: .operatorPause)
        #expect(pauses.releaseExpired(now: start + .milliseconds(500)) == false)
        #expect(pauses.releaseExpired(now: start + .seconds(1)))
        #expect(consumer.paused == [p1])
        pauses.releaseExpired(now: start + .seconds(6))
        #expect(pauses.snapshot == [p1: [.operatorPause]])
    }

    @Test("a pipeline-wide pause outlives a rebalance; per-partition reasons start afresh")
    func rebalance() {
        let consumer = FakeConsumer([p0, p1])
        let pauses = PartitionPauses()
        pauses.bind(consumer)
        pauses.pause([p0], reason: .retryDelay)
        consumer.assign([p2], hook: pauses)
        #expect(consumer.paused == [p0])
        pauses.pauseAll(reason: .operatorPause)
        consumer.revoke([p0])
        consumer.assign([p0], hook: pauses)
        #expect(consumer.paused == [p0, p1, p2])
        pauses.releaseAll(reason: .operatorPause)
        // p0's retry delay belonged to its previous assignment: its records are read again and deferred anew.
        #expect(consumer.paused.isEmpty)
    }

    @Test("revoked partitions are neither resumed nor reported")
    func revoked() {
        let consumer = FakeConsumer([p0, p1])
        let errors = Mutex<[String]>([])
        let pauses = PartitionPauses { message in errors.withLock { $0.append(message) } }
        pauses.bind(consumer)
        pauses.pauseAll(reason: .throttle)
        consumer.revoke([p1])
        pauses.releaseAll(reason: .throttle)
        #expect(consumer.paused.isEmpty)
        #expect(errors.withLock { $0 }.isEmpty)
    }

    @Test("nothing stays paused after shutdown")
    func shutdown() {
        let consumer = FakeConsumer([p0, p1])
        let pauses = PartitionPauses()
        pauses.bind(consumer)
        pauses.pause([p0], reason: .breaker("bank"))
        pauses.pauseAll(reason: .operatorPause)
        pauses.releaseEverything()
        #expect(consumer.paused.isEmpty)
        #expect(pauses.pipelineReasons.isEmpty)
    }
}

/// Pauses for circuit breakers.
extension PartitionPausesTests {
    @Test("partitions assigned while a breaker of partition scope is open start paused, and resume with it")
    func startPausedOnAssignment() {
        let consumer = FakeConsumer([p0])
        let pauses = PartitionPauses()
        pauses.bind(consumer)
        let start = ContinuousClock.now
        pauses.pause([p0], reason: .breaker("bank"), until: start + .seconds(10))
        pauses.pauseOnAssignment(reason: .breaker("bank"), until: start + .seconds(10))
        pauses.pause([p1], reason: .retryDelay)
        consumer.assign([p1, p2], hook: pauses)
        // Both new partitions start paused for the breaker; p1's old retry delay is forgotten (it is read again).
        #expect(consumer.paused == [p0, p1, p2])
        #expect(pauses.snapshot[p1] == [.breaker("bank")])
        pauses.pause([p2], reason: .retryDelay)
        pauses.releaseAll(reason: .breaker("bank"))
        // Closing the breaker resumes what it paused, not what a retry tier paused.
        #expect(consumer.paused == [p2])
        consumer.revoke([p1])
        consumer.assign([p1], hook: pauses)
        #expect(consumer.paused == [p2], "released: later assignments start flowing")
    }

    @Test("a breaker re-opening moves the lapse time of its pauses; other reasons keep theirs")
    func retime() {
        let consumer = FakeConsumer([p0, p1])
        let pauses = PartitionPauses()
        pauses.bind(consumer)
        let start = ContinuousClock.now
        pauses.pause([p0], reason: .breaker("bank"), until: start + .seconds(1))
        pauses.pause([p1], reason: .retryDelay, until: start + .seconds(1))
        pauses.pauseOnAssignment(reason: .breaker("bank"), until: start + .seconds(1))
        pauses.retime(reason: .breaker("bank"), until: start + .seconds(3))
        pauses.releaseExpired(now: start + .seconds(2))
        #expect(consumer.paused == [p0])
        consumer.assign([p2], hook: pauses)
        #expect(consumer.paused == [p0, p2], "the assignment reason was retimed too")
        pauses.releaseExpired(now: start + .seconds(3))
        #expect(consumer.paused.isEmpty)
    }
}
