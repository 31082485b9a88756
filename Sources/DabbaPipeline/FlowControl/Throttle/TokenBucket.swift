/// A token bucket that can go into debt: taking more tokens than it holds is allowed, and the bucket then tells
/// when the debt is repaid. A batch is handled whole and debited afterwards; while in debt, nothing more is taken.
///
/// Over any window of length T the tokens taken are at most `burst + rate × T` plus the last batch's overshoot, so
/// the long-run rate is `rate`. Pure value type: the caller passes the time (an injected clock in tests).
public struct TokenBucket: Sendable, Hashable {
    /// Tokens added per second.
    public let rate: Double
    /// The most tokens the bucket holds.
    public let burst: Double
    private var tokens: Double
    private var updated: ContinuousClock.Instant

    /// Creates a full bucket.
    /// - Parameters:
    ///   - rate: Tokens added per second (positive).
    ///   - burst: The capacity (at least 1).
    ///   - now: The current time.
    public init(rate: Double, burst: Int, now: ContinuousClock.Instant) {
        self.rate = rate
        self.burst = Double(max(1, burst))
        self.tokens = self.burst
        self.updated = now
    }

    /// The tokens held at `now` (negative: in debt).
    public mutating func available(at now: ContinuousClock.Instant) -> Double {
        refill(now)
        return tokens
    }

    /// Takes tokens, going into debt if there are not enough.
    /// - Parameters:
    ///   - count: How many tokens.
    ///   - now: The current time.
    public mutating func take(_ count: Int, at now: ContinuousClock.Instant) {
        refill(now)
        tokens -= Double(count)
    }

    /// When the bucket is out of debt (holds at least 0 tokens again), or nil if it is not in debt at `now`.
    public mutating func repaid(after now: ContinuousClock.Instant) -> ContinuousClock.Instant? {
        refill(now)
        guard tokens < 0 else { return nil }
        return now.advanced(by: .nanoseconds(Int64((-tokens / rate * 1e9).rounded(.up))))
    }

    private mutating func refill(_ now: ContinuousClock.Instant) {
        guard now > updated else { return }
        let elapsed = now - updated
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        tokens = min(burst, tokens + seconds * rate)
        updated = now
    }
}
