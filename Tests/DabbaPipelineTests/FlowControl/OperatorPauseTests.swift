import DabbaKafka
import Logging
import Testing

@testable import DabbaPipeline

@Suite("Operator pause: control records and their effect on one instance")
struct OperatorPauseTests {
    let p0 = TopicPartition(topic: "orders", partition: 0)
    let p1 = TopicPartition(topic: "orders", partition: 1)

    func record(_ group: String, _ state: OperatorPauseState?, offset: Int64 = 0) -> FollowedRecord {
        FollowedRecord(partition: 0, offset: offset, key: Array(group.utf8), value: state?.json)
    }

    @Test("the state round-trips through its JSON value")
    func codec() throws {
        let state = OperatorPauseState(paused: true, reason: "diwali surge", by: "asha@ops")
        let decoded = try #require(OperatorPauseState.decode(state.json))
        #expect(decoded == state)
        #expect(String(decoding: state.json, as: UTF8.self).hasPrefix("{\"at\":"))
        #expect(OperatorPauseState.decode(Array("not json".utf8)) == nil)
        #expect(state.summary.contains("paused since") && state.summary.hasSuffix(": diwali surge"))
    }

    @Test("only this group's latest record counts: pause, other groups, resume, tombstone")
    func latestRecordOfThisGroup() {
        let consumer = FakeConsumer([p0, p1])
        let pauses = PartitionPauses()
        pauses.bind(consumer)
        let watch = OperatorPauseWatch(
            topic: "dabba.control", group: "food-orders", pauses: pauses, logger: Logger(label: "test")
        )
        watch.apply(record("food-orders", OperatorPauseState(paused: true, reason: "surge")))
        #expect(consumer.paused == [p0, p1])
        #expect(watch.isPaused)
        #expect(pauses.pipelineReasons == [.operatorPause])
        watch.apply(record("food-analytics", OperatorPauseState(paused: false), offset: 1))
        #expect(consumer.paused == [p0, p1], "another group's record changes nothing here")
        // A partition assigned while paused starts paused.
        let p2 = TopicPartition(topic: "orders", partition: 2)
        #expect(pauses.pausedOnAssignment([p2]) == [p2])
        watch.apply(record("food-orders", OperatorPauseState(paused: false), offset: 2))
        #expect(consumer.paused.isEmpty)
        #expect(!watch.isPaused)
        watch.apply(record("food-orders", OperatorPauseState(paused: true), offset: 3))
        watch.apply(record("food-orders", nil, offset: 4))
        #expect(consumer.paused.isEmpty, "a tombstone means no pause")
        #expect(watch.state == nil)
    }

    @Test("the operator's pause does not lift a retry delay, and the throttle's lapse does not lift the operator's")
    func reasonsStayApart() {
        let consumer = FakeConsumer([p0, p1])
        let pauses = PartitionPauses()
        pauses.bind(consumer)
        let watch = OperatorPauseWatch(
            topic: "dabba.control", group: "g", pauses: pauses, logger: Logger(label: "test")
        )
        pauses.pause([p0], reason: .retryDelay)
        watch.apply(record("g", OperatorPauseState(paused: true)))
        let now = ContinuousClock.now
        pauses.pauseAll(reason: .throttle, until: now + .milliseconds(10))
        pauses.releaseExpired(now: now + .milliseconds(20))
        #expect(consumer.paused == [p0, p1])
        watch.apply(record("g", OperatorPauseState(paused: false), offset: 1))
        #expect(consumer.paused == [p0])
    }

    @Test("the control topic's name: option, then environment, then dabba.control")
    func controlTopicName() {
        let environment = ["DABBA_CONTROL_TOPIC": "x"]
        #expect(ControlTopic.resolvedName(option: "ops.control", environment: environment) == "ops.control")
        #expect(ControlTopic.resolvedName(option: nil, environment: ["DABBA_CONTROL_TOPIC": "x"]) == "x")
        #expect(ControlTopic.resolvedName(option: nil, environment: [:]) == "dabba.control")
    }

    @Test("the fetch budget is split between librdkafka's queue and one fetch response")
    func fetchBudget() {
        let properties = FetchBudget(maxBufferedBytes: 32 << 20).consumerProperties
        #expect(properties["queued.max.messages.kbytes"] == "16384")
        #expect(properties["fetch.max.bytes"] == String(16 << 20))
        #expect(properties["fetch.message.max.bytes"] == String(1 << 20))
        #expect(FetchBudget(maxBufferedBytes: 1 << 20).problem != nil)
        #expect(FetchBudget().problem == nil)
    }
}
