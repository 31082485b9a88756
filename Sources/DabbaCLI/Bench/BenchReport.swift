import Foundation

/// The results of a `dabba bench` run and how they are printed.
struct BenchReport {
    let workload: BenchWorkload
    let isolation: BenchSession.Isolation
    private(set) var results: [BenchPhase: [PhaseResult]] = [:]

    init(workload: BenchWorkload, isolation: BenchSession.Isolation) {
        self.workload = workload
        self.isolation = isolation
    }

    mutating func add(_ result: PhaseResult) {
        results[result.phase, default: []].append(result)
    }

    /// A phase's fastest run (the machine is shared and noisy: the best run is the least disturbed one).
    func best(_ phase: BenchPhase) -> PhaseResult? {
        results[phase]?.max { $0.messagesPerSecond < $1.messagesPerSecond }
    }

    /// The highest peak RSS among a phase's runs.
    func peakRSS(_ phase: BenchPhase) -> Int? {
        results[phase]?.map(\.peakRSSBytes).max()
    }

    func ratio(_ comparison: BenchComparison) -> Double? {
        guard let subject = best(comparison.subject), let baseline = best(comparison.baseline),
            baseline.messagesPerSecond > 0
        else { return nil }
        return subject.messagesPerSecond / baseline.messagesPerSecond
    }

    /// The typed consumer's peak RSS over the C consumer's, both reading the same typed topic (a million-event
    /// backlog over four times the bench's partitions) with the same librdkafka settings, each in its own process.
    var consumeRSSRatio: Double? {
        guard let dabba = peakRSS(BenchPhase(operation: .typedConsume, client: .dabba)),
            let baseline = peakRSS(BenchPhase(operation: .typedHeadersConsume, client: .baseline)), baseline > 0
        else { return nil }
        return Double(dabba) / Double(baseline)
    }

    /// The machine-readable summary, always the last line of the output. Later measurements append their pairs.
    var machineLine: String {
        var pairs: [(String, String)] = []
        for comparison in BenchComparison.all {
            pairs.append((comparison.key, ratio(comparison).map { String(format: "%.3f", $0) } ?? "nan"))
        }
        func eventsPerSecond(_ operation: BenchOperation) -> String {
            best(BenchPhase(operation: operation, client: .dabba)).map { String(Int($0.messagesPerSecond)) } ?? "skipped"
        }
        pairs.append(("inbox_events_per_s", eventsPerSecond(.pipelineInbox)))
        pairs.append(("eos_events_per_s", eventsPerSecond(.pipelineExactlyOnce)))
        // Every event of the table phase sets one key: its events per second are table updates per second.
        pairs.append(("table_updates_per_s", eventsPerSecond(.pipelineTable)))
        pairs.append(("timers_fired_per_s", eventsPerSecond(.timers)))
        pairs.append(("window_events_per_s", eventsPerSecond(.pipelineWindow)))
        pairs.append(("consume_rss_ratio", consumeRSSRatio.map { String(format: "%.3f", $0) } ?? "nan"))
        return "dabba-bench " + pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
    }

    func progressLine(_ result: PhaseResult, repetition: Int, of repetitions: Int) -> String {
        let run = repetitions > 1 ? "run \(repetition)/\(repetitions)  " : ""
        return "\(run)\(pad("\(result.phase)", 14)) \(padLeft(Self.grouped(result.messagesPerSecond), 10)) msgs/s"
            + "  \(String(format: "%.3f", result.seconds)) s  peak RSS \(Self.mebibytes(result.peakRSSBytes))"
    }

    /// Phase, msgs/s, MB/s (value bytes), ratio to the C baseline, peak RSS.
    var table: String {
        var rows = [["phase", "client", "msgs/s", "MB/s", "vs C", "peak RSS", "RSS at start"]]
        for phase in BenchPhase.all {
            guard let result = best(phase) else { continue }
            let baseline = best(BenchPhase(operation: phase.operation, client: .baseline))
            let ratio = baseline.map { result.messagesPerSecond / $0.messagesPerSecond }
            rows.append([
                phase.operation.rawValue,
                phase.client.displayName,
                Self.grouped(result.messagesPerSecond),
                String(format: "%.1f", result.megabytesPerSecond(valueSize: workload.valueSize)),
                ratio.map { String(format: "%.3f", $0) } ?? "-",
                Self.mebibytes(peakRSS(phase) ?? result.peakRSSBytes),
                Self.mebibytes(result.startRSSBytes),
            ])
        }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let lines = rows.map { row in
            row.enumerated().map { column, cell in
                column < 2 ? pad(cell, widths[column]) : padLeft(cell, widths[column])
            }.joined(separator: "  ")
        }
        let counts = results.values.map(\.count)
        let most = counts.max() ?? 0
        let least = counts.min() ?? 0
        let best =
            least == most
            ? "best of \(most) run\(most == 1 ? "" : "s") per phase"
            : "best of \(least) run\(least == 1 ? "" : "s") per phase, of \(most) for the raw produce and consume phases"
        var notes = ["\(best); MB/s counts value bytes (10^6 B)"]
        notes.append(
            isolation == .childProcess
                ? "peak RSS: max over runs of each phase's own process (the dabba binary, its client and buffers)"
                : "peak RSS: cumulative for this process, broker included (use child processes for per-phase peaks)"
        )
        return (lines + notes.map { "  " + $0 }).joined(separator: "\n")
    }

    static func grouped(_ value: Double) -> String {
        let digits = String(Int(value.rounded()))
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0, (digits.count - index).isMultiple(of: 3) { result.append(",") }
            result.append(character)
        }
        return result
    }

    static func mebibytes(_ bytes: Int) -> String {
        String(format: "%.1f MiB", Double(bytes) / 1_048_576)
    }
}

private func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

private func padLeft(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : String(repeating: " ", count: width - text.count) + text
}
