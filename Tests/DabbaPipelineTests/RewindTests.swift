@testable import DabbaPipeline
import DabbaKafka
import Testing

/// Rewinding a partition (an emit not acknowledged, a held or deferred event, an aborted transaction) is skipped
/// only when the partition is no longer this member's; otherwise a failed rewind is an error, never ignored.
@Suite("Rewinding a partition", .timeLimit(.minutes(2)))
struct RewindTests {
    /// A runner that was never started, on a fresh one-partition topic.
    static func idleRunner() async throws -> (fixture: PipelineFixture, runner: PipelineRunner) {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let runner = try PipelineRunner(
            pipeline: Pipeline(service: "orders", groupID: fixture.group), topology: fixture.topology,
            configuration: fixture.configuration(), logger: quietLogger
        )
        return (fixture, runner)
    }

    @Test("a partition this member does not own is not rewound, and that is not an error")
    func notOwned() async throws {
        let (fixture, runner) = try await Self.idleRunner()
        let partition = TopicPartition(topic: fixture.topic, partition: 0)
        #expect(!runner.consumer.assignment.contains(partition))
        try await runner.rewind(partition, to: 0, because: "a test")
    }

    @Test("a closed consumer's partition is not rewound, and that is not an error")
    func closedConsumer() async throws {
        let (fixture, runner) = try await Self.idleRunner()
        try await runner.consumer.close()
        try await runner.rewind(TopicPartition(topic: fixture.topic, partition: 0), to: 0, because: "a test")
    }
}
