/// Settings of the transactional outbox (see ``OutboxRelay``): whether handlers' emitted events go through the
/// inbox database instead of straight to Kafka, and how the relay publishes them.
public struct OutboxConfiguration: Sendable {
    /// Outbox mode: emitted events are written to the outbox table in the event's database transaction and published
    /// by the relay after the commit. Needs an inbox that keeps an outbox (``DabbaInbox/OutboxStore``: SQLite or
    /// PostgreSQL); not combinable with ``PipelineConfiguration/exactlyOnce``.
    public var enabled: Bool
    /// The most records the relay reads and publishes per round.
    public var relayBatchSize: Int
    /// How often the relay looks at the outbox when no batch signalled new rows (also how often a standby relay
    /// asks whether it may take over).
    public var pollInterval: Duration
    /// The relay counts as stalled (readiness fails) when the oldest unsent event is older than this and nothing
    /// was acknowledged for as long.
    public var stallThreshold: Duration
    /// The longest wait between retries after a failed publish or database call.
    public var maxBackoff: Duration
    /// How long a read-back of already published records (after a restart or a takeover) may take.
    public var readBackTimeout: Duration

    /// Creates settings.
    /// - Parameter enabled: Whether outbox mode is on (off by default).
    public init(enabled: Bool = false) {
        self.enabled = enabled
        self.relayBatchSize = 500
        self.pollInterval = .seconds(1)
        self.stallThreshold = .seconds(60)
        self.maxBackoff = .seconds(5)
        self.readBackTimeout = .seconds(60)
    }
}
