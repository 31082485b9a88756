import DabbaKafka
import DabbaTesting
import Foundation
import Logging

/// One `dabba bench` run: starts the embedded broker, creates the topics and runs every phase, `repetitions` times.
struct BenchSession {
    /// Where phases run.
    enum Isolation {
        /// One child process per phase: clean per-phase peak RSS (the broker lives in the parent).
        case childProcess
        /// Every phase in this process: peak RSS accumulates across phases and includes the broker.
        case inProcess
    }

    var workload: BenchWorkload
    var partitions: Int
    var repetitions: Int
    var isolation: Isolation
    var includesEventPhases = true
    /// How many times each repetition runs the raw produce and consume phases (each client, alternating).
    var rawRounds = 3

    func run() async throws -> BenchReport {
        var logger = Logger(label: "dabba.bench.broker")
        logger.logLevel = .error
        let broker = try EmbeddedBroker(logger: logger)
        defer { broker.stop() }

        Output.note(
            "dabba bench: \(workload.messages) messages of \(workload.valueSize) bytes, \(workload.keyCount) keys, "
                + "\(partitions) partitions, acks=all, idempotent; embedded broker at \(broker.bootstrapServers)"
        )
        Output.note(
            isolation == .childProcess
                ? "each phase runs in its own process; peak RSS is that process's"
                : "all phases run in this process; peak RSS is cumulative and includes the broker"
        )

        var report = BenchReport(workload: workload, isolation: isolation)
        for repetition in 0..<repetitions {
            // The raw phases take about a second each, so a single disturbance swings their ratio: each repetition
            // runs them `rawRounds` times, alternating who goes first, and the report keeps the best of all.
            for round in 0..<rawRounds {
                // Alternate who goes first, so neither client always meets a fresher broker or a cooler machine.
                let clients: [BenchClient] =
                    (repetition + round).isMultiple(of: 2) ? [.baseline, .dabba] : [.dabba, .baseline]
                // Each client has its own topic: its consumer reads exactly what its producer wrote.
                var targets: [BenchClient: BenchTarget] = [:]
                for client in clients {
                    let topic = "dabba-bench-\(repetition + 1)-\(round + 1)-\(client.rawValue)"
                    try await broker.createTopic(topic, partitions: Int32(partitions))
                    targets[client] = BenchTarget(
                        bootstrap: broker.bootstrapServers, topic: topic, group: "\(topic)-group"
                    )
                }
                for operation in [BenchOperation.produce, .consume] {
                    for client in clients {
                        let phase = BenchPhase(operation: operation, client: client)
                        guard let target = targets[client] else { continue }
                        let result = try await execute(phase, target: target)
                        report.add(result)
                        Output.note(report.progressLine(result, repetition: repetition + 1, of: repetitions))
                    }
                }
            }
            guard includesEventPhases else { continue }
            // Typed events: one topic written by typed-produce, read by typed-consume and each pipeline (own group).
            let typedTopic = "dabba-bench-\(repetition + 1)-typed"
            // Typed records carry ~400 bytes of CloudEvents headers: four times the partitions keep every one within
            // the embedded broker's ~5 MiB per partition.
            try await broker.createTopic(typedTopic, partitions: Int32(partitions * 4))
            try await broker.createTopic(EventPhases.windowResultsTopic(of: typedTopic), partitions: Int32(partitions))
            let eventPhases: [BenchPhase] = [
                .init(operation: .typedProduce, client: .dabba), .init(operation: .typedBytesConsume, client: .dabba),
                .init(operation: .typedHeadersConsume, client: .baseline), .init(operation: .typedConsume, client: .dabba),
                .init(operation: .pipeline, client: .dabba), .init(operation: .pipelineBreaker, client: .dabba),
                .init(operation: .pipelineInbox, client: .dabba),
                .init(operation: .pipelineTable, client: .dabba), .init(operation: .pipelineWindow, client: .dabba),
            ]
            for phase in eventPhases {
                let target = BenchTarget(
                    bootstrap: broker.bootstrapServers, topic: typedTopic, group: "\(typedTopic)-\(phase)"
                )
                let result = try await execute(phase, target: target)
                report.add(result)
                Output.note(report.progressLine(result, repetition: repetition + 1, of: repetitions))
            }
            // The C producers of the same records, and structured mode, each on a topic of its own (the consumers of
            // the typed topic above must read exactly what Dabba's typed producer wrote).
            let structuredTopic = "dabba-bench-\(repetition + 1)-structured"
            let otherPhases: [(BenchPhase, String)] = [
                (.init(operation: .typedProduce, client: .baseline), "\(typedTopic)-c"),
                (.init(operation: .structuredProduce, client: .baseline), "\(structuredTopic)-c"),
                (.init(operation: .structuredProduce, client: .dabba), structuredTopic),
                (.init(operation: .structuredConsume, client: .dabba), structuredTopic),
            ]
            for (phase, topic) in otherPhases {
                if phase.operation != .structuredConsume {
                    try await broker.createTopic(topic, partitions: Int32(partitions * 4))
                }
                let target = BenchTarget(bootstrap: broker.bootstrapServers, topic: topic, group: "\(topic)-\(phase)")
                let result = try await execute(phase, target: target)
                report.add(result)
                Output.note(report.progressLine(result, repetition: repetition + 1, of: repetitions))
            }
            let timers = try await timersPhase(broker, repetition: repetition)
            report.add(timers)
            Output.note(report.progressLine(timers, repetition: repetition + 1, of: repetitions))
        }
        if includesEventPhases, let result = try await exactlyOnce() { report.add(result) }
        return report
    }

    /// Exactly-once needs real transactions, so it runs on the persistent test broker (noida-db) when installed,
    /// with at most 100,000 events; otherwise it is reported as skipped.
    private func exactlyOnce() async throws -> PhaseResult? {
        guard PersistentTestBroker.isAvailable else {
            Output.note("pipeline-eos skipped: \(PersistentTestBroker.unavailableMessage)")
            return nil
        }
        return try await PersistentTestBroker.with { persistent in
            let admin = try KafkaAdmin(configuration: ClientConfiguration(bootstrap: persistent.bootstrapServers))
            let topic = "dabba-bench-eos"
            try await admin.createTopics([NewTopic(name: topic, partitions: Int32(partitions), replicationFactor: 1)])
            var events = workload
            events.messages = min(workload.messages, 100_000)
            let target = BenchTarget(bootstrap: persistent.bootstrapServers, topic: topic, group: "\(topic)-group")
            _ = try await execute(BenchPhase(operation: .typedProduce, client: .dabba), target: target, workload: events)
            let result = try await execute(
                BenchPhase(operation: .pipelineExactlyOnce, client: .dabba), target: target, workload: events
            )
            Output.note("pipeline-eos on the persistent broker (\(events.messages) events): " + report(result))
            return result
        }
    }

    /// Fires up to ``TimerPhase/timerCount`` due timers, scheduled by as many events on a topic of their own.
    private func timersPhase(_ broker: EmbeddedBroker, repetition: Int) async throws -> PhaseResult {
        let topic = "dabba-bench-\(repetition + 1)-timers"
        // Typed records are ~500 bytes: as many partitions as the typed topic keeps each within the broker's retention.
        try await broker.createTopic(topic, partitions: Int32(partitions * 4))
        var events = workload
        events.messages = min(workload.messages, TimerPhase.timerCount)
        let target = BenchTarget(bootstrap: broker.bootstrapServers, topic: topic, group: "\(topic)-group")
        return try await execute(BenchPhase(operation: .timers, client: .dabba), target: target, workload: events)
    }

    private func report(_ result: PhaseResult) -> String {
        "\(Int(result.messagesPerSecond)) events/s"
    }

    /// Runs a phase (with the session's workload unless another is given) where the isolation says.
    private func execute(
        _ phase: BenchPhase, target: BenchTarget, workload: BenchWorkload? = nil
    ) async throws -> PhaseResult {
        let workload = workload ?? self.workload
        switch isolation {
        case .inProcess:
            do {
                return try await BenchPhaseRunner.run(phase, workload: workload, target: target)
            } catch {
                throw CLIError("\(phase) failed: \(error)")
            }
        case .childProcess:
            return try await runChild(phase, target: target, workload: workload)
        }
    }

    /// Runs `dabba bench --phase <phase> ...` and reads the result line it prints. Its stderr is passed through.
    private func runChild(_ phase: BenchPhase, target: BenchTarget, workload: BenchWorkload) async throws -> PhaseResult {
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let arguments = [
            "bench", "--phase", "\(phase)",
            "--bootstrap", target.bootstrap, "--topic", target.topic, "--group", target.group,
            "--messages", "\(workload.messages)", "--size", "\(workload.valueSize)", "--keys", "\(workload.keyCount)",
        ]
        let child = try await ChildProcess.run(
            executable.path, arguments, timeLimit: .seconds(3600), passesStandardError: true
        )
        guard child.status == 0 else { throw CLIError("\(phase) failed (child process exit status \(child.status))") }
        guard let result = PhaseResult(output: child.stdout), result.phase == phase else {
            throw CLIError("\(phase): the child process printed no result line")
        }
        return result
    }
}
