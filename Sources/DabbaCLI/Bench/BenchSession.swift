import DabbaKafka
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
            // Alternate who goes first, so neither client always meets a fresher broker or a cooler machine.
            let clients: [BenchClient] = repetition.isMultiple(of: 2) ? [.baseline, .dabba] : [.dabba, .baseline]
            // Each client has its own topic: its consumer reads exactly what its producer wrote.
            var targets: [BenchClient: BenchTarget] = [:]
            for client in clients {
                let topic = "dabba-bench-\(repetition + 1)-\(client.rawValue)"
                try broker.createTopic(topic, partitions: Int32(partitions))
                targets[client] = BenchTarget(bootstrap: broker.bootstrapServers, topic: topic, group: "\(topic)-group")
            }
            for operation in BenchOperation.allCases {
                for client in clients {
                    let phase = BenchPhase(operation: operation, client: client)
                    guard let target = targets[client] else { continue }
                    let result = try await execute(phase, target: target)
                    report.add(result)
                    Output.note(report.progressLine(result, repetition: repetition + 1, of: repetitions))
                }
            }
        }
        return report
    }

    private func execute(_ phase: BenchPhase, target: BenchTarget) async throws -> PhaseResult {
        switch isolation {
        case .inProcess:
            do {
                return try await BenchPhaseRunner.run(phase, workload: workload, target: target)
            } catch {
                throw CLIError("\(phase) failed: \(error)")
            }
        case .childProcess:
            return try await runChild(phase, target: target)
        }
    }

    /// Runs `dabba bench --phase <phase> ...` and reads the result line it prints. Its stderr is passed through.
    private func runChild(_ phase: BenchPhase, target: BenchTarget) async throws -> PhaseResult {
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        let arguments = [
            "bench", "--phase", "\(phase)",
            "--bootstrap", target.bootstrap, "--topic", target.topic, "--group", target.group,
            "--messages", "\(workload.messages)", "--size", "\(workload.valueSize)", "--keys", "\(workload.keyCount)",
        ]
        let (status, output) = try await Self.runProcess(executable, arguments)
        guard status == 0 else { throw CLIError("\(phase) failed (child process exit status \(status))") }
        guard let result = PhaseResult(output: output), result.phase == phase else {
            throw CLIError("\(phase): the child process printed no result line")
        }
        return result
    }

    /// Spawns a process and waits for it on a plain thread (reading a pipe to its end blocks).
    private static func runProcess(_ executable: URL, _ arguments: [String]) async throws -> (Int32, String) {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread {
                let process = Process()
                process.executableURL = executable
                process.arguments = arguments
                let pipe = Pipe()
                process.standardOutput = pipe
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: CLIError("could not start \(executable.path): \(error)"))
                    return
                }
                let data = pipe.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                continuation.resume(returning: (process.terminationStatus, String(decoding: data, as: UTF8.self)))
            }
            thread.name = "dabba-bench-child"
            thread.start()
        }
    }
}
