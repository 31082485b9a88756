import ArgumentParser
import DabbaKafka
import DabbaPipeline
import Foundation

/// The options every Dabba pipeline executable takes, parsed the same way in every service.
///
/// ```
/// --bootstrap/-b HOST:PORT[,…]   Kafka bootstrap servers (default: $DABBA_BOOTSTRAP, or bootstrap.servers from the
///                                properties file or $DABBA_KAFKA_BOOTSTRAP_SERVERS)
/// --property KEY=VALUE           a librdkafka property for every Kafka client (repeatable)
/// --config FILE                  a librdkafka properties file, kcat's -F format (default: $DABBA_KAFKA_CONFIG)
/// --catalog DIR                  the Topics/ catalog (default: $DABBA_CATALOG or ./Topics)
/// --group ID                     override the pipeline's consumer group
/// --instance-id ID               static member id; also names the inbox file and the transactional id (default: default)
/// --concurrency partition|key:N  per-partition order (default) or N keys in parallel per partition (needs --inbox none)
/// --metrics-port N|off           health, readiness and Prometheus metrics (0: any free port; off or -1: no endpoint)
/// --inbox sqlite:PATH|postgres://…|none   the durable inbox (default: sqlite:.dabba/<group>-<instance-id>.sqlite;
///                                         a SQLite file is locked: one process per file)
/// --inbox-retention DURATION     how long inbox entries are kept (default 7d)
/// --statistics-interval DURATION|off  librdkafka statistics as dabba_kafka_* metrics (default 15s)
/// --exactly-once                 consume-transform-produce in Kafka transactions (needs --inbox none)
/// --outbox                       emitted events go through a transactional outbox in the inbox database
/// --key-order-guard              later events of a key wait while an earlier one is in the retry tiers
/// --create-topics                create missing catalog topics at start instead of failing
/// --rate-limit N                 events/s this instance handles at most (applied by pausing partitions)
/// --partition-rate-limit N       events/s handled at most from any one partition
/// --rate-burst N                 events handled at once after a quiet period (default: one second's worth)
/// --max-buffered-bytes SIZE      fetched data buffered ahead of the handlers, e.g. 32MiB (default 64MiB)
/// --control-topic TOPIC|off      the topic of operator pauses (default: $DABBA_CONTROL_TOPIC or dabba.control)
/// --timer-time-scale FACTOR      durable timers' delays pass FACTOR times faster, for demos (default:
///                                $DABBA_TIMER_TIME_SCALE or 1)
/// --breaker NAME:KEY=VALUE,…     tune a declared circuit breaker, e.g. bank:consecutive-failures=5,open=10s (repeatable)
/// --log-level LEVEL              trace|debug|info|notice|warning|error|critical (default info)
/// --contract-report              print the service's contract checks as JSON and exit (no Kafka needed)
/// ```
///
/// Every Kafka client the service creates — the startup topic check, the admin client of `--create-topics`, the
/// pipeline's consumer and producer — uses the same settings: ``kafkaProperties()`` merges `--config`,
/// `DABBA_KAFKA_*` variables and `--property` by ``ClientProperties``' precedence rule.
public struct PipelineOptions: ParsableArguments, Sendable {
    /// Kafka bootstrap servers.
    @Option(name: [.short, .customLong("bootstrap")], help: "Kafka bootstrap servers (default: $DABBA_BOOTSTRAP).")
    public var bootstrap: String?

    /// The catalog directory.
    @Option(help: "The Topics/ catalog directory (default: $DABBA_CATALOG or ./Topics).")
    public var catalog: String?

    /// Consumer group override.
    @Option(help: "Override the pipeline's consumer group.")
    public var group: String?

    /// Static member id.
    @Option(name: .customLong("instance-id"), help: "Static member id; also names the SQLite inbox file (default inbox: .dabba/<group>-default.sqlite).")
    public var instanceID: String?

    /// Concurrency mode.
    @Option(help: "partition (order per partition) or key:N (N keys in parallel per partition; needs --inbox none).")
    public var concurrency: String = "partition"

    /// Metrics port: 0 for any free port, -1 for no endpoint (`--metrics-port off`).
    @Option(
        name: .customLong("metrics-port"),
        // Unconditional: `--metrics-port -1` must not read "-1" as an option.
        parsing: .unconditional,
        help: ArgumentHelp(
            "Port for /health, /ready and /metrics: a port number, 0 (any free port) or off (also -1).",
            valueName: "port|off"
        ),
        transform: parseMetricsPort
    )
    public var metricsPort: Int = 0

    /// How often librdkafka's statistics are recorded as `dabba_kafka_*` metrics (`--statistics-interval off`: never).
    @Option(
        name: .customLong("statistics-interval"),
        help: ArgumentHelp(
            "How often librdkafka's statistics (broker round trips, queues, rebalances) are recorded as dabba_kafka_* "
                + "metrics, e.g. 15s (the default), or off.",
            valueName: "duration|off"
        )
    )
    public var statisticsInterval: String?

    /// librdkafka properties for every Kafka client.
    @Option(
        name: .customLong("property"),
        help: ArgumentHelp(
            "A librdkafka property for every Kafka client, e.g. security.protocol=SASL_SSL (repeatable). Overrides "
                + "$DABBA_KAFKA_<KEY> variables and the properties file.",
            valueName: "key=value"
        )
    )
    public var properties: [String] = []

    /// A librdkafka properties file.
    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "A librdkafka properties file (key=value lines, # comments; kcat's -F format). Default: "
                + "$DABBA_KAFKA_CONFIG.",
            valueName: "file"
        )
    )
    public var configFile: String?

    /// Inbox location.
    @Option(
        help: """
            sqlite:PATH, a postgres:// URL, or none (default: sqlite:.dabba/<group>-<instance-id>.sqlite, where the \
            instance id is 'default' without --instance-id). One process per SQLite file: a second fails at start.
            """
    )
    public var inbox: String?

    /// Inbox retention.
    @Option(name: .customLong("inbox-retention"), help: "How long inbox entries are kept, e.g. 7d, 12h (default 7d).")
    public var inboxRetention: String?

    /// Exactly-once mode.
    @Flag(name: .customLong("exactly-once"), help: "Consume-transform-produce in Kafka transactions (needs --instance-id and --inbox none).")
    public var exactlyOnce = false

    /// Transactional outbox.
    @Flag(
        name: .customLong("outbox"),
        help: """
            Write emitted events to an outbox in the inbox database, in the event's transaction; a relay publishes \
            them (needs an inbox).
            """
    )
    public var outbox = false

    /// Time scale of durable timers.
    @Option(
        name: .customLong("timer-time-scale"),
        help: """
            Durable timers' relative delays pass this many times faster, for demos: at 100 a 300 s hold takes 3 s \
            (default: $DABBA_TIMER_TIME_SCALE or 1).
            """
    )
    public var timerTimeScale: String?

    /// Per-key order guard.
    @Flag(name: .customLong("key-order-guard"), help: "Later events of a key wait while an earlier one is in the retry tiers.")
    public var keyOrderGuard = false

    /// Create missing topics.
    @Flag(name: .customLong("create-topics"), help: "Create missing catalog topics at start instead of failing.")
    public var createTopics = false

    /// Events per second this instance handles at most.
    @Option(
        name: .customLong("rate-limit"),
        help: ArgumentHelp(
            "Events per second this instance handles at most, across its partitions (a group of N instances: N "
                + "times this). Applied by pausing partitions, never by sleeping in a handler.",
            valueName: "events/s"
        )
    )
    public var rateLimit: Double?

    /// Events per second handled at most from any one partition.
    @Option(
        name: .customLong("partition-rate-limit"),
        help: ArgumentHelp("Events per second handled at most from any one partition.", valueName: "events/s")
    )
    public var partitionRateLimit: Double?

    /// The rate limits' burst.
    @Option(
        name: .customLong("rate-burst"),
        help: ArgumentHelp(
            "Events handled at once after a quiet period, per rate limit; also the largest batch (default: one "
                + "second's worth). Needs --rate-limit or --partition-rate-limit.",
            valueName: "events"
        )
    )
    public var rateBurst: Int?

    /// The fetch budget, as typed (`32MiB`).
    @Option(
        name: .customLong("max-buffered-bytes"),
        help: ArgumentHelp(
            "Fetched data buffered ahead of the handlers, e.g. 32MiB, 512KiB or a number of bytes (default 64MiB, "
                + "at least 2MiB): a slow handler makes the consumer fetch less.",
            valueName: "size"
        )
    )
    public var maxBufferedBytes: String?

    /// The control topic, or `off`.
    @Option(
        name: .customLong("control-topic"),
        help: ArgumentHelp(
            "The topic followed for operator pauses (dabba group pause, POST /pause); default: "
                + "$\(ControlTopic.environmentVariable) or \(ControlTopic.defaultName). off ignores operator pauses.",
            valueName: "topic|off"
        )
    )
    public var controlTopic: String?
    /// Settings of declared circuit breakers (see ``resolvedBreakers(for:)``).
    @Option(
        name: .customLong("breaker"),
        help: ArgumentHelp(
            "Tune a circuit breaker the service declares (repeatable): NAME:KEY=VALUE,… with consecutive-failures=N|off, "
                + "failure-rate=P%|off, window=N, min-calls=N, open=DURATION, multiplier=X, max-open=DURATION, "
                + "jitter=P%, probes=N, scope=partition|consumer.",
            valueName: "name:settings"
        )
    )
    public var breakers: [String] = []

    /// Log level.
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    public var logLevel: String = "info"

    /// Print the contract report instead of running (`dabba contract verify` starts services this way).
    @Flag(
        name: .customLong("contract-report"),
        help: "Check the service's event types against the catalog, print the report as JSON and exit (1 on failure)."
    )
    public var contractReport = false

    /// Creates options with defaults (ArgumentParser fills them from the command line).
    public init() {}

    /// The bootstrap servers from `--bootstrap`, `DABBA_BOOTSTRAP` or `bootstrap.servers` in another source.
    /// - Throws: `ValidationError` when no source gives them or the properties cannot be read.
    public func resolvedBootstrap() throws -> String {
        guard let servers = try kafkaProperties().bootstrapServers else { throw Self.missingBootstrap }
        return servers
    }

    /// The error when no source gives the bootstrap servers.
    static var missingBootstrap: ValidationError {
        ValidationError(
            "no bootstrap servers: pass --bootstrap HOST:PORT, set DABBA_BOOTSTRAP, or set bootstrap.servers in "
                + "--config FILE"
        )
    }

    /// The librdkafka properties from `--config` (or `DABBA_KAFKA_CONFIG`), `DABBA_KAFKA_*` variables,
    /// `DABBA_BOOTSTRAP`, `--property` and `--bootstrap`, merged by ``ClientProperties``' precedence rule.
    /// - Parameter environment: The process environment.
    /// - Returns: The merged properties.
    /// - Throws: `ValidationError` naming a malformed `--property`, an unreadable properties file or its bad line.
    public func kafkaProperties(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> ClientProperties {
        do {
            return try ClientProperties(
                bootstrap: bootstrap.flatMap { $0.isEmpty ? nil : $0 }, properties: properties, configFile: configFile,
                environment: environment
            )
        } catch {
            throw ValidationError(error.message)
        }
    }

    /// The catalog directory from the option, `DABBA_CATALOG`, or `./Topics`.
    public var resolvedCatalog: String {
        catalog ?? ProcessInfo.processInfo.environment["DABBA_CATALOG"] ?? "Topics"
    }

    /// The parsed concurrency mode.
    public func resolvedConcurrency() throws -> ConcurrencyMode {
        if concurrency == "partition" { return .perPartition }
        if concurrency.hasPrefix("key:"), let count = Int(concurrency.dropFirst(4)), count > 0 {
            return .perKey(maxInFlight: count)
        }
        throw ValidationError("--concurrency must be 'partition' or 'key:N' with N > 0, not '\(concurrency)'")
    }

    /// The durable timers' time scale from `--timer-time-scale`, else `DABBA_TIMER_TIME_SCALE`, else 1.
    /// - Parameter environment: The process environment.
    /// - Returns: The factor.
    /// - Throws: `ValidationError` naming the source of a value that is not a positive number.
    public func resolvedTimerTimeScale(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> Double {
        let variable = TimerConfiguration.timeScaleEnvironmentVariable
        let (text, source) = timerTimeScale.map { ($0, "--timer-time-scale") }
            ?? environment[variable].map { ($0, "$\(variable)") } ?? ("1", "")
        guard let scale = TimerConfiguration.parseTimeScale(text) else {
            throw ValidationError("\(source) must be a positive number such as 100, not '\(text)'")
        }
        return scale
    }

    /// The librdkafka statistics interval from `--statistics-interval`: 15 s by default, nil for `off`.
    /// - Throws: `ValidationError` for a value that is neither `off` nor a positive duration such as `15s`.
    public func resolvedStatisticsInterval() throws -> Duration? {
        let text = statisticsInterval ?? "15s"
        if text == "off" { return nil }
        guard let duration = parseDuration(text), duration > .zero else {
            throw ValidationError("--statistics-interval must be off or a positive duration such as 15s, not '\(text)'")
        }
        return duration
    }

    /// The inbox retention as a duration.
    public func resolvedRetention() throws -> Duration {
        let text = inboxRetention ?? "7d"
        guard let duration = parseDuration(text) else {
            throw ValidationError("--inbox-retention must look like 30m, 12h or 7d, not '\(text)'")
        }
        return duration
    }

    /// The rate limits from `--rate-limit`, `--partition-rate-limit` and `--rate-burst`.
    /// - Throws: `ValidationError` naming a limit that is not a positive number, or a burst without a limit.
    public func resolvedThrottle() throws -> ThrottleConfiguration {
        for (option, value) in [("--rate-limit", rateLimit), ("--partition-rate-limit", partitionRateLimit)] {
            if let value, !(value > 0 && value.isFinite) {
                throw ValidationError("\(option) must be a positive number of events per second, not \(value)")
            }
        }
        if let rateBurst {
            guard rateLimit != nil || partitionRateLimit != nil else {
                throw ValidationError("--rate-burst applies to a rate limit: add --rate-limit or --partition-rate-limit")
            }
            guard rateBurst >= 1 else { throw ValidationError("--rate-burst must be at least 1, not \(rateBurst)") }
        }
        return ThrottleConfiguration(
            eventsPerSecond: rateLimit, eventsPerSecondPerPartition: partitionRateLimit, burst: rateBurst
        )
    }

    /// The fetch budget from `--max-buffered-bytes`.
    /// - Throws: `ValidationError` naming the option for a size that does not parse or is below 2 MiB.
    public func resolvedFetchBudget() throws -> FetchBudget {
        guard let text = maxBufferedBytes else { return FetchBudget() }
        guard let bytes = parseByteSize(text) else {
            throw ValidationError("--max-buffered-bytes must look like 32MiB, 512KiB, 1GiB or a number of bytes, not '\(text)'")
        }
        let budget = FetchBudget(maxBufferedBytes: bytes)
        if budget.problem != nil {
            throw ValidationError("--max-buffered-bytes must be at least 2MiB, not '\(text)'")
        }
        return budget
    }

    /// The control topic from `--control-topic` or `DABBA_CONTROL_TOPIC`; nil for `off`.
    public var resolvedControlTopic: String? {
        let name = ControlTopic.resolvedName(option: controlTopic)
        return name == "off" ? nil : name
    }

    public mutating func validate() throws {
        _ = try resolvedConcurrency()
        _ = try resolvedRetention()
        _ = try resolvedThrottle()
        _ = try resolvedStatisticsInterval()
        _ = try resolvedFetchBudget()
        _ = try resolvedTimerTimeScale()
        if maxBufferedBytes != nil {
            let clashing = properties.compactMap { $0.split(separator: "=").first.map(String.init) }
                .filter(FetchBudget.propertyNames.contains)
            if let first = clashing.first {
                throw ValidationError(
                    "--max-buffered-bytes sets \(first) (among others) and so does --property \(first)=…: drop one "
                        + "of them"
                )
            }
        }
        try validateBreakers()
        guard metricsPort >= -1, metricsPort <= 65535 else {
            throw ValidationError("--metrics-port must be off, 0 (any free port) or a port number, not \(metricsPort)")
        }
        for property in properties {
            do {
                _ = try ClientProperties.Entry.parse(property, source: .propertyOption)
            } catch {
                throw ValidationError(error.message)
            }
        }
        if inbox == "none", inboxRetention != nil {
            throw ValidationError("--inbox-retention applies to an inbox, and --inbox is none: drop one of them")
        }
        if outbox, inbox == "none" {
            throw ValidationError(
                "--outbox keeps emitted events in the inbox database: it needs an inbox (sqlite:PATH or a postgres:// "
                    + "URL), not --inbox none"
            )
        }
        if outbox, exactlyOnce {
            throw ValidationError(
                "--outbox and --exactly-once both decide how emitted events are published: choose one (the outbox "
                    + "commits them with the inbox database, exactly-once in a Kafka transaction)"
            )
        }
        var requested = PipelineConfiguration(client: ClientConfiguration(bootstrapServers: []))
        requested.exactlyOnce = exactlyOnce
        requested.concurrency = try resolvedConcurrency()
        if let refusal = PipelineRunner.refusal(of: requested, hasInbox: inbox != "none") {
            throw ValidationError(refusal)
        }
        if exactlyOnce, instanceID?.isEmpty ?? true {
            throw ValidationError(
                "--exactly-once needs --instance-id: the transactional id <group>-<instance id> must be the same "
                    + "after a restart, so the restarted instance fences its predecessor's open transaction"
            )
        }
    }
}

/// Parses `--metrics-port`: a number, or `off` (stored as -1, as `-1` itself is).
func parseMetricsPort(_ text: String) throws -> Int {
    if text.lowercased() == "off" { return -1 }
    guard let port = Int(text) else {
        throw ValidationError("--metrics-port must be off, 0 (any free port) or a port number, not '\(text)'")
    }
    return port
}

/// Parses `32MiB`, `512KiB`, `1GiB`, `100B` or a plain number of bytes.
func parseByteSize(_ text: String) -> Int? {
    let units: [(String, Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
        guard let value = Int(text.dropLast(suffix.count)), value >= 0 else { return nil }
        let (bytes, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? nil : bytes
    }
    guard let value = Int(text), value >= 0 else { return nil }
    return value
}

/// Parses `500ms`, `30s`, `5m`, `12h`, `7d`.
func parseDuration(_ text: String) -> Duration? {
    let units: [(String, Int64)] = [("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000)]
    for (suffix, milliseconds) in units where text.hasSuffix(suffix) {
        guard let value = Int64(text.dropLast(suffix.count)), value >= 0 else { return nil }
        return .milliseconds(value * milliseconds)
    }
    return nil
}
