import ArgumentParser
import DabbaPipeline
import Foundation

/// The options every Dabba pipeline executable takes, parsed the same way in every service.
///
/// ```
/// --bootstrap/-b HOST:PORT[,…]   Kafka bootstrap servers (default: $DABBA_BOOTSTRAP)
/// --catalog DIR                  the Topics/ catalog (default: $DABBA_CATALOG or ./Topics)
/// --group ID                     override the pipeline's consumer group
/// --instance-id ID               static member id; also names the inbox file and the transactional id (default: default)
/// --concurrency partition|key:N  per-partition order (default) or N keys in parallel per partition
/// --metrics-port N               health, readiness and Prometheus metrics (0: any free port; -1: off)
/// --inbox sqlite:PATH|postgres://…|none   the durable inbox (default: sqlite:.dabba/<group>-<instance-id>.sqlite;
///                                         a SQLite file is locked: one process per file)
/// --inbox-retention DURATION     how long inbox entries are kept (default 7d)
/// --exactly-once                 consume-transform-produce in Kafka transactions
/// --outbox                       emitted events go through a transactional outbox in the inbox database
/// --key-order-guard              later events of a key wait while an earlier one is in the retry tiers
/// --create-topics                create missing catalog topics at start instead of failing
/// --log-level LEVEL              trace|debug|info|notice|warning|error|critical (default info)
/// --contract-report              print the service's contract checks as JSON and exit (no Kafka needed)
/// ```
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
    @Option(help: "partition (order per partition) or key:N (N keys in parallel per partition).")
    public var concurrency: String = "partition"

    /// Metrics port.
    @Option(name: .customLong("metrics-port"), help: "Port for /health, /ready and /metrics (0: any free port; -1: off).")
    public var metricsPort: Int = 0

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
    public var inboxRetention: String = "7d"

    /// Exactly-once mode.
    @Flag(name: .customLong("exactly-once"), help: "Consume-transform-produce in Kafka transactions (needs --instance-id).")
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

    /// Per-key order guard.
    @Flag(name: .customLong("key-order-guard"), help: "Later events of a key wait while an earlier one is in the retry tiers.")
    public var keyOrderGuard = false

    /// Create missing topics.
    @Flag(name: .customLong("create-topics"), help: "Create missing catalog topics at start instead of failing.")
    public var createTopics = false

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

    /// The bootstrap servers from the option or `DABBA_BOOTSTRAP`.
    public func resolvedBootstrap() throws -> String {
        if let bootstrap, !bootstrap.isEmpty { return bootstrap }
        if let fromEnvironment = ProcessInfo.processInfo.environment["DABBA_BOOTSTRAP"], !fromEnvironment.isEmpty {
            return fromEnvironment
        }
        throw ValidationError("no bootstrap servers: pass --bootstrap HOST:PORT or set DABBA_BOOTSTRAP")
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

    /// The inbox retention as a duration.
    public func resolvedRetention() throws -> Duration {
        guard let duration = parseDuration(inboxRetention) else {
            throw ValidationError("--inbox-retention must look like 30m, 12h or 7d, not '\(inboxRetention)'")
        }
        return duration
    }

    public mutating func validate() throws {
        _ = try resolvedConcurrency()
        _ = try resolvedRetention()
        guard metricsPort >= -1, metricsPort <= 65535 else {
            throw ValidationError("--metrics-port must be -1 (off), 0 (any free port) or a port number, not \(metricsPort)")
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
        if exactlyOnce, instanceID?.isEmpty ?? true {
            throw ValidationError(
                "--exactly-once needs --instance-id: the transactional id <group>-<instance id> must be the same "
                    + "after a restart, so the restarted instance fences its predecessor's open transaction"
            )
        }
    }
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
