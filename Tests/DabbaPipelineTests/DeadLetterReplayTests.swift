import DabbaEvents
import DabbaKafka
import DabbaPipeline
import Foundation
import Synchronization
import Testing

@Suite("dabba dlq inspect and replay", .serialized, .timeLimit(.minutes(3)))
struct DeadLetterReplayTests {
    /// Runs the built `dabba` binary and returns its exit code and output lines.
    func dabba(_ arguments: [String]) async throws -> (status: Int32, lines: [String]) {
        let process = try FixtureProcess(executable: "dabba", arguments: arguments)
        let status = try await process.waitForExit()
        try await Task.sleep(for: .milliseconds(50))
        return (status, process.lines)
    }

    func json(_ line: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any]
    }

    @Test("inspect shows the failure context; replay sends back; the loop guard stops replaying a repeated failure")
    func inspectAndReplay() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let fixed = Mutex(false)
        let handled = Mutex<[String]>([])
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            guard fixed.withLock({ $0 }) else { throw PermanentError(HandlerFailure("menu service down")) }
            handled.withLock { $0.append(context.envelope.id) }
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), logger: quietLogger
        )
        let events = try fixture.eventProducer()
        let bootstrap = ["-b", fixture.broker.bootstrapServers]
        try await withRunning(runner) {
            try await events.send(OrderPlaced(orderID: "o-7", amount: 3), metadata: EventMetadata(id: "evt-7"))
            try await eventually("dead-lettered") { runner.metrics.deadLettered.value == 1 }

            let inspect = try await dabba(["dlq", "inspect", fixture.deadLetterTopic] + bootstrap)
            #expect(inspect.status == 0)
            let records = inspect.lines.compactMap(json)
            try #require(records.count == 1)
            let failure = try #require(records[0]["failure"] as? [String: Any])
            #expect(failure["originalTopic"] as? String == fixture.topic)
            #expect(failure["errorType"] as? String == "DabbaPipeline.HandlerFailure")
            #expect(failure["errorMessage"] as? String == "menu service down")
            #expect(failure["consumerGroup"] as? String == fixture.group)
            #expect((records[0]["event"] as? [String: Any])?["id"] as? String == "evt-7")
            #expect((records[0]["data"] as? [String: Any])?["orderID"] as? String == "o-7")
            let filtered = try await dabba(["dlq", "inspect", fixture.deadLetterTopic, "--error-type", "Other"] + bootstrap)
            #expect(filtered.lines.compactMap(json).isEmpty)

            // Replayed while the handler is still broken: it fails again and is dead-lettered again.
            let first = try await dabba(["dlq", "replay", fixture.deadLetterTopic] + bootstrap)
            #expect(first.status == 0)
            #expect(first.lines.compactMap(json).map { $0["action"] as? String } == ["replayed"])
            try await eventually("dead-lettered again") { runner.metrics.deadLettered.value == 2 }

            // The loop guard: the record of a replayed event that failed again is not replayed again.
            let second = try await dabba(["dlq", "replay", fixture.deadLetterTopic] + bootstrap)
            #expect(second.status == 0)
            #expect(second.lines.compactMap(json).map { $0["action"] as? String } == ["skipped"])
            try await Task.sleep(for: .seconds(1))
            #expect(runner.metrics.deadLettered.value == 2)

            // Fixed: replaying from the beginning, allowing a second replay, gets the event processed.
            fixed.withLock { $0 = true }
            let third = try await dabba(
                ["dlq", "replay", fixture.deadLetterTopic, "--from-beginning", "--max-replays", "2", "--max", "1"]
                    + bootstrap
            )
            #expect(third.status == 0)
            try await eventually("processed after the replay") { handled.withLock { $0 } == ["evt-7"] }
        }
        try await events.producer.close()
    }
}
