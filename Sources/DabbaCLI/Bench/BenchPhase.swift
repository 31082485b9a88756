import ArgumentParser
import DabbaKafka
import DabbaPipeline

/// What a benchmark phase does.
enum BenchOperation: String, CaseIterable, Sendable {
    case produce, consume
    /// Typed events: `EventProducer.enqueue` (CloudEvents binary mode + JSON); the C baseline writes the same
    /// records (headers, payload bytes, ids and times made per record) with librdkafka directly.
    case typedProduce = "typed-produce"
    /// Typed events in CloudEvents structured mode (the envelope in the JSON value, one header); the C baseline
    /// writes the same records.
    case structuredProduce = "structured-produce"
    /// Structured-mode records (written by structured-produce) decoded into ``BenchEvent``.
    case structuredConsume = "structured-consume"
    /// Typed events: each record decoded into a registered event.
    case typedConsume = "typed-consume"
    /// The typed records read as raw bytes (what typed-consume costs on top of reading the same records).
    case typedBytesConsume = "typed-bytes-consume"
    /// The typed records read by the C baseline, each record's headers parsed by librdkafka and visited: the most any
    /// librdkafka consumer of CloudEvents binary-mode records can do, before decoding anything.
    case typedHeadersConsume = "typed-headers-consume"
    /// The pipeline end to end with no inbox.
    case pipeline
    /// The pipeline with no inbox, each handler calling through a closed circuit breaker (its cost on the hot path).
    case pipelineBreaker = "pipeline-breaker"
    /// The pipeline with the SQLite inbox (one transaction per batch).
    case pipelineInbox = "pipeline-inbox"
    /// The pipeline with the SQLite inbox keeping a table: each event sets its key's value (`table_updates_per_s`).
    case pipelineTable = "pipeline-table"
    /// The pipeline with the SQLite inbox counting events per key in tumbling 1 s windows (`window_events_per_s`).
    case pipelineWindow = "pipeline-window"
    /// The pipeline in exactly-once mode (on the persistent test broker: the embedded one only fakes transactions).
    case pipelineExactlyOnce = "pipeline-eos"
    /// Durable timers: 100,000 due timers (scheduled by as many events with the SQLite inbox) fired on an otherwise
    /// idle pipeline; only the firing is timed.
    case timers
    /// Decoding alone: the typed records are read into memory first, then decoded in a loop (for profiling; not
    /// part of a normal run).
    case typedDecode = "typed-decode"

    /// Who can run it: the raw byte phases have a C baseline; the event phases are Dabba's alone.
    var clients: [BenchClient] {
        switch self {
        case .produce, .consume, .typedProduce, .structuredProduce: [.baseline, .dabba]
        case .typedHeadersConsume: [.baseline]
        default: [.dabba]
        }
    }
}

/// Who does it: Dabba, or the raw librdkafka C baseline compiled into the package (CDabbaBaseline).
enum BenchClient: String, CaseIterable, Sendable {
    case baseline = "c"
    case dabba

    var displayName: String {
        switch self {
        case .baseline: "C (librdkafka)"
        case .dabba: "Dabba"
        }
    }
}

/// One measured unit of `dabba bench`, named `<operation>-<client>` on the command line (`produce-c`, ...).
///
/// To add a measurement: add its operation or client, teach ``BenchPhaseRunner`` to run it, and add a
/// ``BenchComparison`` for the ratio that should appear on the `dabba-bench` line.
struct BenchPhase: Hashable, Sendable, CustomStringConvertible, ExpressibleByArgument {
    var operation: BenchOperation
    var client: BenchClient

    static let all: [BenchPhase] = BenchOperation.allCases.flatMap { operation in
        operation.clients.map { BenchPhase(operation: operation, client: $0) }
    }

    init(operation: BenchOperation, client: BenchClient) {
        self.operation = operation
        self.client = client
    }

    init?(argument: String) {
        guard let phase = Self.all.first(where: { $0.description == argument }) else { return nil }
        self = phase
    }

    static var allValueStrings: [String] { all.map(\.description) }

    var description: String { "\(operation.rawValue)-\(client.rawValue)" }
}

/// A ratio reported on the machine-readable line: how fast `subject` is relative to `baseline`.
struct BenchComparison: Sendable {
    var key: String
    var subject: BenchPhase
    var baseline: BenchPhase

    static let all: [BenchComparison] = {
        func dabba(_ operation: BenchOperation) -> BenchPhase { BenchPhase(operation: operation, client: .dabba) }
        let headersCeiling = BenchPhase(operation: .typedHeadersConsume, client: .baseline)
        return [BenchOperation.produce, .consume].map { operation in
            BenchComparison(
                key: "\(operation.rawValue)_ratio", subject: dabba(operation),
                baseline: BenchPhase(operation: operation, client: .baseline)
            )
        } + [
            // Typed and pipeline figures are relative to Dabba's own raw byte path.
            BenchComparison(key: "typed_produce_ratio", subject: dabba(.typedProduce), baseline: dabba(.produce)),
            BenchComparison(key: "typed_consume_ratio", subject: dabba(.typedConsume), baseline: dabba(.consume)),
            BenchComparison(key: "pipeline_ratio", subject: dabba(.pipeline), baseline: dabba(.consume)),
            // The pipeline with every handler calling through a closed circuit breaker, against the same without.
            BenchComparison(key: "breaker_ratio", subject: dabba(.pipelineBreaker), baseline: dabba(.pipeline)),
            // Typed consume against reading the very same records as bytes: the cost of the envelope and payload
            // decoding alone (typed records are larger and carry headers, so the raw phase reads faster anyway).
            BenchComparison(
                key: "typed_consume_vs_same_records", subject: dabba(.typedConsume), baseline: dabba(.typedBytesConsume)
            ),
            // The ceiling of typed_consume_ratio: librdkafka parsing the same records' headers, in C, nothing decoded.
            BenchComparison(key: "typed_headers_c_ratio", subject: headersCeiling, baseline: dabba(.consume)),
            // Typed produce against a C program writing the very same records (what librdkafka allows here).
            BenchComparison(
                key: "typed_produce_c_ratio", subject: dabba(.typedProduce),
                baseline: BenchPhase(operation: .typedProduce, client: .baseline)
            ),
            // Typed consume and the plain pipeline against the C header-parse ceiling of binary mode.
            BenchComparison(key: "typed_consume_ceiling_ratio", subject: dabba(.typedConsume), baseline: headersCeiling),
            BenchComparison(key: "pipeline_ceiling_ratio", subject: dabba(.pipeline), baseline: headersCeiling),
            // Structured mode against Dabba's raw byte paths.
            BenchComparison(
                key: "structured_consume_ratio", subject: dabba(.structuredConsume), baseline: dabba(.consume)
            ),
            BenchComparison(
                key: "structured_produce_ratio", subject: dabba(.structuredProduce), baseline: dabba(.produce)
            ),
            // Structured produce against a C program writing the same structured records.
            BenchComparison(
                key: "structured_produce_c_ratio", subject: dabba(.structuredProduce),
                baseline: BenchPhase(operation: .structuredProduce, client: .baseline)
            ),
        ]
    }()
}

/// The messages every phase produces or consumes.
struct BenchWorkload: Sendable {
    var messages: Int
    var valueSize: Int
    var keyCount: Int

    /// Message `i` has the key `key-<i % keyCount>`, exactly as in the C baseline.
    func makeKeys() -> [[UInt8]] {
        (0..<keyCount).map { Array("key-\($0)".utf8) }
    }

    func makeValue() -> [UInt8] {
        [UInt8](repeating: UInt8(ascii: "x"), count: valueSize)
    }
}

/// Where a phase runs: the broker, its topic and (for consumers) its group.
struct BenchTarget: Sendable {
    var bootstrap: String
    var topic: String
    var group: String

    /// Every phase's consumer group has one member, so the session timeout never decides a figure; but when the
    /// embedded broker asks a member to rejoin (it can, right after the first assignment) a rejoin that misses waits
    /// out the session. Six seconds (the tests' value, and the C baseline's) keeps such a stall short; librdkafka's
    /// 45 s would eat a phase's whole deadline.
    static let sessionTimeoutMilliseconds = 6000

    /// A consumer of this target's group, with the benchmark's session timeout.
    var consumerConfiguration: ConsumerConfiguration {
        var configuration = ConsumerConfiguration(bootstrap: bootstrap, groupID: group)
        configuration.sessionTimeout = .milliseconds(Self.sessionTimeoutMilliseconds)
        return configuration
    }

    /// A pipeline on this target's broker, with the benchmark's session timeout.
    var pipelineConfiguration: PipelineConfiguration {
        var configuration = PipelineConfiguration(client: ClientConfiguration(bootstrap: bootstrap))
        configuration.consumerProperties["session.timeout.ms"] = String(Self.sessionTimeoutMilliseconds)
        return configuration
    }
}

/// The outcome of one phase.
struct PhaseResult: Sendable {
    var phase: BenchPhase
    var messages: Int
    var seconds: Double
    /// Peak resident set size of the process that ran the phase, when it finished.
    var peakRSSBytes: Int
    /// Peak resident set size when the phase started (the process's own footprint before any work).
    var startRSSBytes: Int

    var messagesPerSecond: Double { seconds > 0 ? Double(messages) / seconds : 0 }

    /// Value bytes per second, in MB (10^6 bytes).
    func megabytesPerSecond(valueSize: Int) -> Double { messagesPerSecond * Double(valueSize) / 1e6 }

    private static let linePrefix = "dabba-bench-phase"

    /// The line a child process prints for its parent.
    var line: String {
        "\(Self.linePrefix) phase=\(phase) messages=\(messages) seconds=\(seconds) peak_rss=\(peakRSSBytes)"
            + " start_rss=\(startRSSBytes)"
    }

    /// Finds and parses a child's result line in its output (librdkafka may have written other lines).
    init?(output: String) {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix(Self.linePrefix + " ") }) else {
            return nil
        }
        var fields: [Substring: Substring] = [:]
        for field in line.split(separator: " ").dropFirst() {
            guard let equals = field.firstIndex(of: "=") else { continue }
            fields[field[..<equals]] = field[field.index(after: equals)...]
        }
        guard let phase = fields["phase"].flatMap({ BenchPhase(argument: String($0)) }),
            let messages = fields["messages"].flatMap({ Int($0) }),
            let seconds = fields["seconds"].flatMap({ Double($0) }),
            let peak = fields["peak_rss"].flatMap({ Int($0) }),
            let start = fields["start_rss"].flatMap({ Int($0) })
        else { return nil }
        self.init(phase: phase, messages: messages, seconds: seconds, peakRSSBytes: peak, startRSSBytes: start)
    }

    init(phase: BenchPhase, messages: Int, seconds: Double, peakRSSBytes: Int, startRSSBytes: Int) {
        self.phase = phase
        self.messages = messages
        self.seconds = seconds
        self.peakRSSBytes = peakRSSBytes
        self.startRSSBytes = startRSSBytes
    }
}
