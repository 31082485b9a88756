/// Rate limits of one pipeline instance, enforced by pausing its partitions (see ``TokenBucket``).
///
/// The limits are per instance: a group of N instances handles at most N × ``eventsPerSecond`` events a second. There
/// is no limit per key: Kafka pauses partitions, not keys, so holding back one key would hold back every key that
/// shares its partition; a per-partition limit says that honestly.
public struct ThrottleConfiguration: Sendable, Hashable {
    /// Events handled per second by this instance, across all its partitions; nil for no limit.
    public var eventsPerSecond: Double?
    /// Events handled per second from any one partition; nil for no limit.
    public var eventsPerSecondPerPartition: Double?
    /// Events that may be handled at once after a quiet period, per limit; nil for one second's worth of events
    /// (at least 1). It also caps the batch taken from the consumer, so one batch cannot overshoot the budget by
    /// more than that.
    public var burst: Int?

    /// Creates limits; no argument means no limit.
    /// - Parameters:
    ///   - eventsPerSecond: The limit of this instance, in events per second.
    ///   - eventsPerSecondPerPartition: The limit of each partition, in events per second.
    ///   - burst: The burst per limit (default: one second's worth of events).
    public init(eventsPerSecond: Double? = nil, eventsPerSecondPerPartition: Double? = nil, burst: Int? = nil) {
        self.eventsPerSecond = eventsPerSecond
        self.eventsPerSecondPerPartition = eventsPerSecondPerPartition
        self.burst = burst
    }

    /// Whether any limit is set.
    public var isEnabled: Bool { eventsPerSecond != nil || eventsPerSecondPerPartition != nil }

    /// Why these limits cannot be used, or nil.
    public var problem: String? {
        for (name, rate) in [("events per second", eventsPerSecond), ("events per second per partition",
                                                                      eventsPerSecondPerPartition)] {
            if let rate, !(rate > 0 && rate.isFinite) { return "the throttle's \(name) must be positive, not \(rate)" }
        }
        if let burst, burst < 1 { return "the throttle's burst must be at least 1, not \(burst)" }
        return nil
    }

    /// The burst of a limit: the configured one, or one second's worth of events.
    func burst(for rate: Double) -> Int { burst ?? max(1, Int(rate.rounded(.up))) }

    /// The largest batch to take from the consumer: no more than any limit's burst.
    func batchLimit(_ batchSize: Int) -> Int {
        var limit = max(1, batchSize)
        for rate in [eventsPerSecond, eventsPerSecondPerPartition].compactMap({ $0 }) {
            limit = min(limit, burst(for: rate))
        }
        return limit
    }
}
