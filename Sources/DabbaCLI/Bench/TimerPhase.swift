import DabbaEventMacros
import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import Foundation
import Synchronization

/// The event the benchmark's timers deliver.
@FastJSON
struct BenchTimerDue: Event {
    static let eventType = "bench.timer.due"
    var key: String
    var sequence: Int
    var partitionKey: String? { key }
}

/// `timers_fired_per_s`: how fast a pipeline with the SQLite inbox fires due durable timers. Each event schedules
/// one timer an hour ahead on a manual clock; once every timer is stored the clock jumps two hours and the time until
/// the last timer was handled is measured (reading the due pages, decoding, the handler, the row deletion and the
/// inbox mark, one transaction per page).
enum TimerPhase {
    /// Timers fired per run (fewer when `--messages` is smaller).
    static let timerCount = 100_000

    static func fire(_ workload: BenchWorkload, _ target: BenchTarget) async throws -> Double {
        let expected = workload.messages
        try await produce(expected, workload: workload, target: target)
        let scheduled = Atomic<Int>(0)
        let fired = Atomic<Int>(0)
        var pipeline = Pipeline(service: "dabba-bench", groupID: target.group)
        pipeline.on(BenchEvent.self) { event, context in
            try context.timers.schedule(
                BenchTimerDue(key: event.key, sequence: event.sequence), id: "t\(event.sequence)", after: .seconds(3600)
            )
            scheduled.add(1, ordering: .relaxed)
        }
        pipeline.on(BenchTimerDue.self) { _, _ in fired.add(1, ordering: .relaxed) }
        let clock = ManualTimerClock()
        var configuration = target.pipelineConfiguration
        configuration.batchSize = 1000
        configuration.timers.clock = clock
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-bench-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: PipelineTopology(mainTopics: [target.topic]), configuration: configuration,
            inbox: try SQLiteInbox(path: path), logger: BenchPhaseRunner.logger
        )
        let running = Task { try await runner.run() }
        let timeout = BenchPhaseRunner.consumeTimeout * 2 + .seconds(Double(expected) / 2_000)
        try await waitUntil(timeout: timeout) { scheduled.load(ordering: .relaxed) >= expected }
        let start = ContinuousClock.now
        clock.advance(by: .seconds(7200))
        try await waitUntil(timeout: timeout) { fired.load(ordering: .relaxed) >= expected }
        let finishedAt = ContinuousClock.now
        runner.consumer.stopFetching()
        try await running.value
        guard fired.load(ordering: .relaxed) == expected else {
            throw CLIError("\(fired.load(ordering: .relaxed)) timers fired for \(expected) scheduled")
        }
        return (finishedAt - start).seconds
    }

    private static func produce(_ count: Int, workload: BenchWorkload, target: BenchTarget) async throws {
        var configuration = ProducerConfiguration(bootstrap: target.bootstrap)
        configuration.linger = EventPhases.typedLinger
        let producer = try KafkaProducer(configuration: configuration, logger: BenchPhaseRunner.logger)
        let events = EventProducer(
            producer: producer, source: "/dabba-bench", routes: EventRoutes([BenchEvent.eventType: target.topic])
        )
        for sequence in 0..<count {
            try await events.enqueue(
                BenchEvent(key: "key-\(sequence % workload.keyCount)", sequence: sequence, amount: sequence)
            )
        }
        try await producer.flush()
        try await producer.close()
    }

    private static func waitUntil(timeout: Duration, _ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else { throw CLIError("the timers phase timed out") }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
