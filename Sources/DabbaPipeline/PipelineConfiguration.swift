import DabbaKafka
import Tracing

/// How a failed handler call is retried in place before the event moves to the retry topics.
public struct RetryConfiguration: Sendable {
    /// Calls of the handler per delivery for ``TransientError``s (1 disables in-place retries).
    public var inPlaceAttempts: Int
    /// The first backoff.
    public var initialBackoff: Duration
    /// The backoff's growth per attempt.
    public var multiplier: Double
    /// The longest backoff.
    public var maxBackoff: Duration
    /// Random spread of each backoff, as a fraction (0.2 = ±20 %), so instances do not retry in lockstep.
    public var jitter: Double

    /// Three attempts, 100 ms doubling up to 2 s, ±20 % jitter.
    public init(
        inPlaceAttempts: Int = 3,
        initialBackoff: Duration = .milliseconds(100),
        multiplier: Double = 2,
        maxBackoff: Duration = .seconds(2),
        jitter: Double = 0.2
    ) {
        self.inPlaceAttempts = max(1, inPlaceAttempts)
        self.initialBackoff = initialBackoff
        self.multiplier = multiplier
        self.maxBackoff = maxBackoff
        self.jitter = jitter
    }

    /// The backoff before in-place attempt `attempt + 1`.
    func backoff(after attempt: Int) -> Duration {
        let base = Double(initialBackoff.totalMilliseconds) * pow(multiplier, Double(attempt - 1))
        let capped = min(base, Double(maxBackoff.totalMilliseconds))
        let spread = capped * jitter * Double.random(in: -1...1)
        return .milliseconds(max(0, Int64(capped + spread)))
    }
}

/// How events of one partition are processed concurrently.
public struct ConcurrencyMode: Sendable, Hashable {
    enum Kind: Hashable { case partition, key(Int) }
    let kind: Kind
    /// One event at a time per partition (the default): order per partition.
    public static let perPartition = ConcurrencyMode(kind: .partition)
    /// Different keys of one partition in parallel (at most `maxInFlight` per partition); order per key is kept and
    /// the committed offset never passes an unfinished event.
    public static func perKey(maxInFlight: Int) -> ConcurrencyMode { ConcurrencyMode(kind: .key(max(1, maxInFlight))) }
}

/// Runtime settings of a pipeline instance.
public struct PipelineConfiguration: Sendable {
    /// Connection settings for the consumer and producer.
    public var client: ClientConfiguration
    /// A static member id for this instance (also the exactly-once transactional id suffix).
    public var instanceID: String?
    /// Per-partition or per-key concurrency.
    public var concurrency: ConcurrencyMode
    /// In-place retries.
    public var retry: RetryConfiguration
    /// Consume-transform-produce in Kafka transactions: outputs and input offsets commit atomically. Needs
    /// ``instanceID``: the transactional id `<group>-<instance id>` must be the same after a restart, so the new
    /// instance fences its predecessor's open transaction.
    public var exactlyOnce: Bool
    /// Per-key order across retry tiers: while an event of a key is parked in the retry tiers, later events of the
    /// same key wait behind it instead of overtaking it. Needs an inbox (the queues live in its database; use
    /// PostgreSQL when instances run on several machines). Guarded pipelines process one event at a time.
    public var keyOrderGuard: Bool
    /// How many events are processed per batch (one inbox transaction / one Kafka transaction per batch).
    public var batchSize: Int
    /// How long shutdown waits for in-flight handlers.
    public var shutdownTimeout: Duration
    /// The largest error message written to retry and dead-letter headers, in bytes.
    public var maxErrorMessageBytes: Int
    /// Consumer settings beyond the defaults (escape hatch), applied to the pipeline's consumer.
    public var consumerProperties: [String: String]
    /// Producer settings beyond the defaults (escape hatch), applied to the pipeline's producer.
    public var producerProperties: [String: String]
    /// The transactional outbox: emitted events written to the inbox database in the event's transaction and
    /// published by a relay (off by default; see ``OutboxConfiguration``).
    public var outbox: OutboxConfiguration
    /// Rate limits of this instance, applied by pausing partitions (none by default).
    public var throttle: ThrottleConfiguration
    /// The control topic followed for operator pauses (``ControlTopic``); nil: this instance ignores them.
    public var controlTopic: String?
    /// How much fetched data may wait for the handlers.
    public var fetchBudget: FetchBudget
    /// Durable timers: their clock and time scale, and how often due ones are looked for (see ``Timers``).
    public var timers: TimerConfiguration
    /// The tracer of the consumer spans (one per handled event) and of the producer spans of emitted events: nil (the
    /// default) uses the bootstrapped one (`InstrumentationSystem.tracer`); with the no-op tracer no span is made.
    public var tracer: (any Tracer)?

    /// Creates settings with per-partition order, in-place retries, no exactly-once.
    /// - Parameter client: Connection settings.
    public init(client: ClientConfiguration) {
        self.client = client
        self.instanceID = nil
        self.concurrency = .perPartition
        self.retry = RetryConfiguration()
        self.exactlyOnce = false
        self.keyOrderGuard = false
        self.batchSize = 500
        self.shutdownTimeout = .seconds(30)
        self.maxErrorMessageBytes = 1024
        self.consumerProperties = [:]
        self.producerProperties = [:]
        self.outbox = OutboxConfiguration()
        self.throttle = ThrottleConfiguration()
        self.controlTopic = ControlTopic.defaultName
        self.fetchBudget = FetchBudget()
        self.timers = TimerConfiguration()
        self.tracer = nil
    }
}

import Foundation

extension Date {
    /// The moment `milliseconds` after the Unix epoch.
    init(milliseconds: Int64) { self.init(timeIntervalSince1970: Double(milliseconds) / 1000) }
}

extension Duration {
    /// Whole milliseconds.
    var totalMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
