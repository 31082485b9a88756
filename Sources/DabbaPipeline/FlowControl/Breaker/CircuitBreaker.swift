import Foundation

/// The state machine of one circuit breaker: closed, open, half-open. Pure: the time is passed in, and the random
/// spread of open periods comes from an injected source, so it is tested with tables of calls and instants.
package struct CircuitBreaker: Sendable {
    /// The breaker's state.
    package enum State: Int, Sendable, CustomStringConvertible {
        /// Calls go through; outcomes are counted.
        case closed = 0
        /// The open period is over: a few probe calls go through.
        case halfOpen = 1
        /// Calls are refused.
        case open = 2

        /// `closed`, `half-open` or `open`.
        package var description: String {
            switch self {
            case .closed: "closed"
            case .halfOpen: "half-open"
            case .open: "open"
            }
        }
    }

    /// Leave to call the dependency, handed back with the call's outcome.
    package struct Permission: Sendable, Equatable {
        /// The state period the call started in: an outcome from an earlier period (a slow call that finished after
        /// the breaker opened) does not count.
        let period: Int
        /// Whether the call is a half-open probe.
        package let isProbe: Bool
    }

    /// What a call's outcome was, for the breaker.
    package enum Outcome: Sendable {
        /// The call succeeded.
        case success
        /// The call failed in a way that counts against the dependency.
        case failure
        /// The call ended in a way that says nothing about the dependency (an error that does not count).
        case ignored
    }

    /// A change of state.
    package struct Transition: Sendable, Equatable {
        /// The state before.
        package let from: State
        /// The state after.
        package let to: State
        /// When the breaker will be half-open, if it opened.
        package let openUntil: ContinuousClock.Instant?
    }

    /// The settings.
    package let configuration: CircuitBreakerConfiguration
    /// The current state.
    package private(set) var state: State = .closed
    /// When the current open period ends (set while open).
    package private(set) var openUntil: ContinuousClock.Instant?
    /// How many times in a row the breaker opened without closing in between (the backoff exponent).
    package private(set) var openings = 0
    /// When the breaker last left the closed state (nil while closed).
    package private(set) var notClosedSince: ContinuousClock.Instant?
    /// Time spent open or half-open, in periods that have ended.
    package private(set) var timeNotClosed: Duration = .zero
    private var period = 0
    private var recent: [Bool] = []
    private var recentNext = 0
    private var recentFailures = 0
    private var consecutiveFailures = 0
    private var probesStarted = 0
    private var probesSucceeded = 0
    private let spread: @Sendable () -> Double

    /// Creates a closed breaker.
    /// - Parameters:
    ///   - configuration: The settings (assumed valid: see ``CircuitBreakerConfiguration/problems``).
    ///   - spread: A random number in -1...1 for the jitter of each open period.
    package init(
        configuration: CircuitBreakerConfiguration,
        spread: @escaping @Sendable () -> Double = { Double.random(in: -1...1) }
    ) {
        self.configuration = configuration
        self.spread = spread
    }

    /// Asks to call the dependency at `now`: the permission, or nil when the call is refused (open, or half-open with
    /// every probe taken). An open breaker whose period is over becomes half-open here.
    /// - Parameter now: The current time.
    /// - Returns: The permission (nil if refused) and the transition this caused, if any.
    package mutating func acquire(at now: ContinuousClock.Instant) -> (Permission?, Transition?) {
        var transition: Transition?
        if state == .open, let openUntil, now >= openUntil {
            transition = move(to: .halfOpen, at: now)
        }
        switch state {
        case .closed:
            return (Permission(period: period, isProbe: false), transition)
        case .open:
            return (nil, transition)
        case .halfOpen:
            guard probesStarted < configuration.probes else { return (nil, transition) }
            probesStarted += 1
            return (Permission(period: period, isProbe: true), transition)
        }
    }

    /// Records the outcome of a permitted call.
    /// - Parameters:
    ///   - outcome: What happened.
    ///   - permission: The permission the call was made under.
    ///   - now: The current time.
    /// - Returns: The transition the outcome caused, if any.
    package mutating func record(
        _ outcome: Outcome, for permission: Permission, at now: ContinuousClock.Instant
    ) -> Transition? {
        guard permission.period == period else { return nil }
        switch state {
        case .open:
            return nil
        case .halfOpen:
            switch outcome {
            case .success:
                probesSucceeded += 1
                return probesSucceeded >= configuration.probes ? move(to: .closed, at: now) : nil
            case .failure:
                return move(to: .open, at: now)
            case .ignored:
                // The probe slot is free again for a call that tells something.
                probesStarted -= 1
                return nil
            }
        case .closed:
            switch outcome {
            case .ignored:
                return nil
            case .success:
                consecutiveFailures = 0
                remember(failed: false)
                // The call that completes the minimum number of calls may reveal a rate already over the threshold.
                return shouldOpen ? move(to: .open, at: now) : nil
            case .failure:
                consecutiveFailures += 1
                remember(failed: true)
                return shouldOpen ? move(to: .open, at: now) : nil
            }
        }
    }

    /// The failure rate over the window, once at least ``CircuitBreakerConfiguration/minimumCalls`` were made.
    package var failureRate: Double? {
        guard recent.count >= configuration.minimumCalls, !recent.isEmpty else { return nil }
        return Double(recentFailures) / Double(recent.count)
    }

    /// Time spent open or half-open up to `now`, the current period included.
    /// - Parameter now: The current time.
    package func timeNotClosed(at now: ContinuousClock.Instant) -> Duration {
        timeNotClosed + (notClosedSince.map { now - $0 } ?? .zero)
    }

    /// The open period after `openings` openings in a row: the first period times the multiplier per earlier
    /// opening, capped, then spread by the jitter.
    /// - Parameter openings: Openings in a row, from 1.
    package func openPeriod(openings: Int) -> Duration {
        let first = Double(configuration.openDuration.totalMilliseconds)
        let grown = first * pow(configuration.backoffMultiplier, Double(max(0, openings - 1)))
        let capped = min(grown, Double(configuration.maxOpenDuration.totalMilliseconds))
        let spreadOut = capped * (1 + configuration.jitter * max(-1, min(1, spread())))
        return .milliseconds(Int64(max(1, spreadOut)))
    }

    private var shouldOpen: Bool {
        if let threshold = configuration.consecutiveFailures, consecutiveFailures >= threshold { return true }
        if let threshold = configuration.failureRate, let rate = failureRate, rate >= threshold { return true }
        return false
    }

    /// Adds an outcome to the count-based sliding window (a ring of the last `window` calls).
    private mutating func remember(failed: Bool) {
        if recent.count < configuration.window {
            recent.append(failed)
        } else {
            if recent[recentNext] { recentFailures -= 1 }
            recent[recentNext] = failed
            recentNext = (recentNext + 1) % configuration.window
        }
        if failed { recentFailures += 1 }
    }

    private mutating func move(to next: State, at now: ContinuousClock.Instant) -> Transition {
        let from = state
        state = next
        period += 1
        probesStarted = 0
        probesSucceeded = 0
        switch next {
        case .open:
            openings += 1
            openUntil = now + openPeriod(openings: openings)
            if notClosedSince == nil { notClosedSince = now }
        case .halfOpen:
            break
        case .closed:
            openings = 0
            openUntil = nil
            consecutiveFailures = 0
            recent = []
            recentNext = 0
            recentFailures = 0
            if let since = notClosedSince { timeNotClosed += now - since }
            notClosedSince = nil
        }
        return Transition(from: from, to: next, openUntil: next == .open ? openUntil : nil)
    }
}
