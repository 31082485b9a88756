import ArgumentParser
import DabbaKafka

/// `dabba bench`: measures Dabba against a raw librdkafka baseline on the embedded broker.
///
/// By default every phase runs in its own child process (`dabba bench --phase <phase> ...`) against the embedded
/// broker hosted by the parent, so each phase's peak RSS is its own (not the broker's, nor an earlier phase's) and no
/// phase inherits another's heap or threads.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmark against raw librdkafka.",
        discussion: """
            Starts the embedded broker and measures, in the same run, Dabba's producer (enqueue with delivery \
            reports) and consumer (messages with markProcessed) against a C program using librdkafka directly with \
            the same properties. Each phase runs in its own child process, so its peak RSS is its own.

            Progress goes to standard error. Standard output gets a table (msgs/s, MB/s of values, the Dabba/C \
            ratio, peak RSS per phase) and ends with one line for scripts: \
            `dabba-bench produce_ratio=<r> consume_ratio=<r>`.
            """
    )

    @Option(help: "Messages per phase.")
    var messages = 1_000_000

    @Option(help: "Value size in bytes.")
    var size = 100

    @Option(help: "Distinct keys (message i has key \"key-<i % keys>\").")
    var keys = 10_000

    @Option(help: "Partitions per benchmark topic (the embedded broker keeps ~5 MiB per partition).")
    var partitions = 32

    @Option(
        name: .customLong("repeat"),
        help: ArgumentHelp(
            "Runs; each phase reports its best (alternating which client goes first; the raw phases run three "
                + "rounds per run)."
        )
    )
    var repetitions = 1

    @Flag(help: "Run all phases in this process (peak RSS is then cumulative, and includes the broker).")
    var inProcess = false

    @Flag(help: "Only the raw produce and consume phases against the C baseline (skip typed and pipeline phases).")
    var rawOnly = false

    // Child-process mode: one phase against a running broker. Not for direct use.
    @Option(help: .private)
    var phase: BenchPhase?

    @Option(help: .private)
    var bootstrap: String?

    @Option(help: .private)
    var topic: String?

    @Option(help: .private)
    var group: String?

    var workload: BenchWorkload { BenchWorkload(messages: messages, valueSize: size, keyCount: keys) }

    func validate() throws {
        guard messages >= 1 else { throw ValidationError("--messages must be at least 1") }
        guard size >= 1 else { throw ValidationError("--size must be at least 1") }
        guard keys >= 1 else { throw ValidationError("--keys must be at least 1") }
        guard (1...100_000).contains(partitions) else { throw ValidationError("--partitions must be 1...100000") }
        guard repetitions >= 1 else { throw ValidationError("--repeat must be at least 1") }
        if phase != nil {
            guard bootstrap != nil, topic != nil, group != nil else {
                throw ValidationError("--phase needs --bootstrap, --topic and --group")
            }
        } else if let problem = EmbeddedBrokerRetention.problem(workload, partitions: partitions) {
            throw ValidationError(problem)
        }
    }

    func run() async throws {
        if let phase, let bootstrap, let topic, let group {
            let target = BenchTarget(bootstrap: bootstrap, topic: topic, group: group)
            let result = try await BenchPhaseRunner.run(phase, workload: workload, target: target)
            Output.line(result.line)
            return
        }
        let session = BenchSession(
            workload: workload,
            partitions: partitions,
            repetitions: repetitions,
            isolation: inProcess ? .inProcess : .childProcess,
            includesEventPhases: !rawOnly
        )
        let report = try await session.run()
        Output.line(report.table)
        Output.line(report.machineLine)
    }
}

/// The embedded broker keeps only the newest ~5 MiB of each partition: a workload that overflows a partition would
/// leave the consumers waiting for messages that are gone.
enum EmbeddedBrokerRetention {
    static let bytesPerPartition = 5 * 1024 * 1024
    /// A record's bytes beyond key and value in a v2 batch (length, attributes, deltas, varint lengths), rounded up.
    static let recordOverhead = 16

    /// Why the workload does not fit, or nil if it does. Places the keys exactly as the murmur2 partitioner will.
    static func problem(_ workload: BenchWorkload, partitions: Int) -> String? {
        var bytes = [Int](repeating: 0, count: partitions)
        let perKey = workload.messages / workload.keyCount
        let extra = workload.messages % workload.keyCount
        for (index, key) in workload.makeKeys().enumerated() {
            let count = perKey + (index < extra ? 1 : 0)
            let partition = Int(Murmur2Partitioner.partition(forKey: key, partitionCount: Int32(partitions)))
            bytes[partition] += count * (workload.valueSize + key.count + recordOverhead)
        }
        guard let busiest = bytes.max(), busiest > bytesPerPartition else { return nil }
        return "the busiest partition would hold ~\(busiest / 1024) KiB, more than the embedded broker keeps "
            + "(\(bytesPerPartition / 1024) KiB per partition): use more --partitions or fewer --messages"
    }
}
