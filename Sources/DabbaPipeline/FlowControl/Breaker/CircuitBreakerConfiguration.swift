/// Which partitions a circuit breaker pauses while it is open.
public struct CircuitBreakerScope: Hashable, Sendable, CustomStringConvertible {
    let name: String

    /// Only the partitions whose events were held because the dependency was unavailable (the default): partitions
    /// whose events do not need the dependency keep flowing.
    public static let partition = CircuitBreakerScope(name: "partition")
    /// Every partition of the member: the whole consumer stops fetching while the dependency is down.
    public static let consumer = CircuitBreakerScope(name: "consumer")

    /// `partition` or `consumer`.
    public var description: String { name }
}

/// The settings of one named circuit breaker (see ``Pipeline/breaker(_:_:)`` and ``EventContext/breaker(_:)``).
///
/// The breaker is closed while calls succeed. It opens when either threshold is reached: `consecutiveFailures`
/// failures in a row, or a failure rate of at least `failureRate` over the last `window` calls once at least
/// `minimumCalls` were made. While open, calls are refused without reaching the dependency and the pipeline pauses
/// the affected partitions (see ``scope``). After the open period (`openDuration`, multiplied by
/// `backoffMultiplier` after each failed probe up to `maxOpenDuration`, spread by `jitter`) it is half-open: the next
/// `probes` calls go through; if all succeed it closes, if one fails it opens again for a longer period.
public struct CircuitBreakerConfiguration: Sendable {
    /// Failures in a row that open the breaker (nil: no such threshold).
    public var consecutiveFailures: Int?
    /// The failure rate (0–1) over the window that opens the breaker (nil: no such threshold).
    public var failureRate: Double?
    /// How many of the most recent calls the failure rate is computed over.
    public var window: Int
    /// The failure rate is not judged before this many calls are in the window.
    public var minimumCalls: Int
    /// The first open period.
    public var openDuration: Duration
    /// The growth of the open period after each failed probe.
    public var backoffMultiplier: Double
    /// The longest open period.
    public var maxOpenDuration: Duration
    /// Random spread of each open period, as a fraction (0.2 = ±20 %), so instances do not probe in lockstep.
    public var jitter: Double
    /// Calls let through while half-open; all must succeed to close the breaker.
    public var probes: Int
    /// What the pipeline pauses while the breaker is open.
    public var scope: CircuitBreakerScope
    /// Which errors count as the dependency's failures. By default every error except ``PermanentError`` (a
    /// rejection of this event, not a sign the dependency is down), cancellation, and ``DependencyUnavailable`` from
    /// a breaker nested inside this one. An error that does not count is neither a failure nor a success, and is
    /// rethrown unchanged.
    public var counts: @Sendable (any Error) -> Bool

    /// Creates settings; every threshold has a default.
    /// - Parameters:
    ///   - consecutiveFailures: Failures in a row that open the breaker (default 5; nil disables).
    ///   - failureRate: The failure rate that opens it (default 0.5; nil disables).
    ///   - window: Calls the rate is computed over (default 20).
    ///   - minimumCalls: Calls needed before the rate is judged (default 10).
    ///   - openDuration: The first open period (default 10 s).
    ///   - backoffMultiplier: Growth of the open period after a failed probe (default 2).
    ///   - maxOpenDuration: The longest open period (default 5 min).
    ///   - jitter: Spread of each open period (default 0.2).
    ///   - probes: Calls let through while half-open (default 1).
    ///   - scope: What is paused while open (default ``CircuitBreakerScope/partition``).
    ///   - counts: Which errors count as failures (default: all but ``PermanentError`` and cancellation).
    public init(
        consecutiveFailures: Int? = 5,
        failureRate: Double? = 0.5,
        window: Int = 20,
        minimumCalls: Int = 10,
        openDuration: Duration = .seconds(10),
        backoffMultiplier: Double = 2,
        maxOpenDuration: Duration = .seconds(300),
        jitter: Double = 0.2,
        probes: Int = 1,
        scope: CircuitBreakerScope = .partition,
        counts: @escaping @Sendable (any Error) -> Bool = CircuitBreakerConfiguration.countsByDefault
    ) {
        self.consecutiveFailures = consecutiveFailures
        self.failureRate = failureRate
        self.window = window
        self.minimumCalls = minimumCalls
        self.openDuration = openDuration
        self.backoffMultiplier = backoffMultiplier
        self.maxOpenDuration = maxOpenDuration
        self.jitter = jitter
        self.probes = probes
        self.scope = scope
        self.counts = counts
    }

    /// The default of ``counts``: every error except ``PermanentError``, `CancellationError` and
    /// ``DependencyUnavailable`` (another breaker's).
    /// - Parameter error: A call's error.
    /// - Returns: Whether it counts as the dependency's failure.
    @Sendable public static func countsByDefault(_ error: any Error) -> Bool {
        !(error is PermanentError) && !(error is CancellationError) && !(error is DependencyUnavailable)
    }

    /// What is wrong with the settings, or nil: each problem names the setting (as the `--breaker` option spells it).
    public var problems: [String] {
        var problems: [String] = []
        if let consecutiveFailures, consecutiveFailures < 1 {
            problems.append("consecutive-failures must be at least 1 (or off), not \(consecutiveFailures)")
        }
        if let failureRate, !(failureRate > 0 && failureRate <= 1) {
            problems.append("failure-rate must be above 0% and at most 100% (or off), not \(failureRate * 100)%")
        }
        if consecutiveFailures == nil, failureRate == nil {
            problems.append("consecutive-failures and failure-rate are both off: the breaker could never open")
        }
        if window < 1 { problems.append("window must be at least 1, not \(window)") }
        if minimumCalls < 1 || minimumCalls > window {
            problems.append("min-calls must be between 1 and the window (\(window)), not \(minimumCalls)")
        }
        if openDuration <= .zero { problems.append("open must be longer than 0, not \(openDuration)") }
        if !(backoffMultiplier >= 1) { problems.append("multiplier must be at least 1, not \(backoffMultiplier)") }
        if maxOpenDuration < openDuration {
            problems.append("max-open (\(maxOpenDuration)) must be at least open (\(openDuration))")
        }
        if !(jitter >= 0 && jitter < 1) { problems.append("jitter must be at least 0% and below 100%, not \(jitter)") }
        if probes < 1 { problems.append("probes must be at least 1, not \(probes)") }
        return problems
    }
}
