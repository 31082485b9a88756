import Testing

@testable import DabbaPipeline

/// One step of a table: a call at a time (milliseconds from the start) with its outcome, or a call expected to be
/// refused.
enum BreakerStep: CustomStringConvertible {
    case call(Int, CircuitBreaker.Outcome)
    case refused(Int)

    var description: String {
        switch self {
        case .call(let at, let outcome): "call@\(at)ms \(outcome)"
        case .refused(let at): "refused@\(at)ms"
        }
    }
}

struct BreakerCase: CustomTestStringConvertible, Sendable {
    let name: String
    let configuration: CircuitBreakerConfiguration
    let steps: [BreakerStep]
    /// The transitions expected, as `from>to@step index`.
    let transitions: [String]
    let finalState: CircuitBreaker.State
    var testDescription: String { name }
}

/// Settings without jitter, so open periods are exact.
private func settings(
    consecutive: Int? = nil, rate: Double? = nil, window: Int = 10, minimumCalls: Int = 10, open: Int = 1000,
    multiplier: Double = 2, maxOpen: Int = 60_000, probes: Int = 1
) -> CircuitBreakerConfiguration {
    CircuitBreakerConfiguration(
        consecutiveFailures: consecutive, failureRate: rate, window: window, minimumCalls: minimumCalls,
        openDuration: .milliseconds(open), backoffMultiplier: multiplier, maxOpenDuration: .milliseconds(maxOpen),
        jitter: 0, probes: probes
    )
}

private let F = CircuitBreaker.Outcome.failure
private let S = CircuitBreaker.Outcome.success
private let I = CircuitBreaker.Outcome.ignored

private let cases: [BreakerCase] = [
    BreakerCase(
        name: "consecutive failures open it; a success in between starts the count again",
        configuration: settings(consecutive: 3),
        steps: [.call(0, F), .call(1, F), .call(2, S), .call(3, F), .call(4, F), .call(5, F), .refused(6)],
        transitions: ["closed>open@5"], finalState: .open
    ),
    BreakerCase(
        name: "errors that do not count neither add to nor reset the consecutive count",
        configuration: settings(consecutive: 2),
        steps: [.call(0, F), .call(1, I), .call(2, F), .refused(3)],
        transitions: ["closed>open@2"], finalState: .open
    ),
    BreakerCase(
        name: "the failure rate is not judged before the minimum number of calls",
        configuration: settings(rate: 0.5, window: 10, minimumCalls: 10),
        steps: Array(repeating: BreakerStep.call(0, F), count: 9) + [.call(1, F), .refused(2)],
        transitions: ["closed>open@9"], finalState: .open
    ),
    BreakerCase(
        name: "a failure rate at the threshold over a full window opens it",
        configuration: settings(rate: 0.5, window: 4, minimumCalls: 4),
        steps: [.call(0, S), .call(1, F), .call(2, S), .call(3, F), .refused(4)],
        transitions: ["closed>open@3"], finalState: .open
    ),
    BreakerCase(
        name: "the window slides: old failures leave it",
        configuration: settings(rate: 0.75, window: 4, minimumCalls: 4),
        // F F S S → 50 %; then S S push the failures out; F F F → 3 of 4.
        steps: [.call(0, F), .call(1, F), .call(2, S), .call(3, S), .call(4, S), .call(5, S), .call(6, F), .call(7, F),
                .call(8, F), .refused(9)],
        transitions: ["closed>open@8"], finalState: .open
    ),
    BreakerCase(
        name: "open refuses until its period ends; a successful probe closes it",
        configuration: settings(consecutive: 1, open: 1000),
        steps: [.call(0, F), .refused(500), .refused(999), .call(1000, S), .call(1001, F), .refused(1002)],
        transitions: ["closed>open@0", "open>half-open@3", "half-open>closed@3", "closed>open@4"], finalState: .open
    ),
    BreakerCase(
        name: "a failed probe re-opens it for a longer period (exponential backoff)",
        configuration: settings(consecutive: 1, open: 1000, multiplier: 2),
        // Opens at 0 until 1000; probe fails at 1000 → open until 3000; probe fails at 3000 → until 7000.
        steps: [.call(0, F), .call(1000, F), .refused(2999), .call(3000, F), .refused(6999), .call(7000, S)],
        transitions: ["closed>open@0", "open>half-open@1", "half-open>open@1", "open>half-open@3",
                      "half-open>open@3", "open>half-open@5", "half-open>closed@5"],
        finalState: .closed
    ),
    BreakerCase(
        name: "the open period is capped",
        configuration: settings(consecutive: 1, open: 1000, multiplier: 10, maxOpen: 5000),
        steps: [.call(0, F), .call(1000, F), .refused(5999), .call(6000, S)],
        transitions: ["closed>open@0", "open>half-open@1", "half-open>open@1", "open>half-open@3",
                      "half-open>closed@3"],
        finalState: .closed
    ),
    BreakerCase(
        name: "after closing, the backoff starts again from the first period",
        configuration: settings(consecutive: 1, open: 1000, multiplier: 2),
        steps: [.call(0, F), .call(1000, F), .call(3000, S), .call(3001, F), .refused(4000), .call(4001, S)],
        transitions: ["closed>open@0", "open>half-open@1", "half-open>open@1", "open>half-open@2",
                      "half-open>closed@2", "closed>open@3", "open>half-open@5", "half-open>closed@5"],
        finalState: .closed
    ),
]

@Suite("Circuit breaker state machine")
struct CircuitBreakerTests {
    @Test("tables of calls decide as documented", arguments: cases)
    func table(_ testCase: BreakerCase) {
        let start = ContinuousClock.now
        var breaker = CircuitBreaker(configuration: testCase.configuration, spread: { 0 })
        var transitions: [String] = []
        func note(_ transition: CircuitBreaker.Transition?, _ index: Int) {
            if let transition { transitions.append("\(transition.from)>\(transition.to)@\(index)") }
        }
        for (index, step) in testCase.steps.enumerated() {
            switch step {
            case .call(let at, let outcome):
                let now = start + .milliseconds(at)
                let (permission, transition) = breaker.acquire(at: now)
                note(transition, index)
                guard let permission else {
                    Issue.record("step \(index) (\(step)) was refused")
                    return
                }
                note(breaker.record(outcome, for: permission, at: now), index)
            case .refused(let at):
                let (permission, transition) = breaker.acquire(at: start + .milliseconds(at))
                note(transition, index)
                #expect(permission == nil, "step \(index) (\(step)) was let through")
            }
        }
        #expect(transitions == testCase.transitions)
        #expect(breaker.state == testCase.finalState)
    }

    @Test("half-open lets exactly `probes` calls through; all must succeed; an ignored probe frees its slot")
    func probes() throws {
        let start = ContinuousClock.now
        var breaker = CircuitBreaker(configuration: settings(consecutive: 1, open: 100, probes: 2), spread: { 0 })
        let first = try #require(breaker.acquire(at: start).0)
        _ = breaker.record(.failure, for: first, at: start)
        let later = start + .milliseconds(100)
        let (maybeProbe1, toHalfOpen) = breaker.acquire(at: later)
        let probe1 = try #require(maybeProbe1)
        let probe2 = try #require(breaker.acquire(at: later).0)
        let third = breaker.acquire(at: later).0
        #expect(toHalfOpen?.to == .halfOpen)
        #expect(probe1.isProbe && probe2.isProbe)
        #expect(third == nil)
        #expect(breaker.record(.ignored, for: probe2, at: later) == nil)
        let probe3 = try #require(breaker.acquire(at: later).0)
        #expect(breaker.record(.success, for: probe1, at: later) == nil)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.record(.success, for: probe3, at: later)?.to == .closed)
    }

    @Test("an outcome from before the breaker opened does not count")
    func staleOutcome() throws {
        let start = ContinuousClock.now
        var breaker = CircuitBreaker(configuration: settings(consecutive: 1, open: 100), spread: { 0 })
        let slow = try #require(breaker.acquire(at: start).0)
        let fast = try #require(breaker.acquire(at: start).0)
        #expect(breaker.record(.failure, for: fast, at: start)?.to == .open)
        let until = breaker.openUntil
        #expect(breaker.record(.failure, for: slow, at: start + .milliseconds(50)) == nil)
        #expect(breaker.openUntil == until)
        #expect(breaker.openings == 1)
    }

    @Test("jitter spreads the open period both ways, within its fraction")
    func jitter() {
        var configuration = settings(consecutive: 1, open: 1000)
        configuration.jitter = 0.2
        func period(spread: Double, openings: Int) -> Duration {
            CircuitBreaker(configuration: configuration, spread: { spread }).openPeriod(openings: openings)
        }
        #expect(period(spread: 1, openings: 1) == .milliseconds(1200))
        #expect(period(spread: -1, openings: 1) == .milliseconds(800))
        #expect(period(spread: 0, openings: 3) == .milliseconds(4000))
    }

    @Test("time open counts open and half-open periods, closed periods not")
    func timeOpen() throws {
        let start = ContinuousClock.now
        var breaker = CircuitBreaker(configuration: settings(consecutive: 1, open: 1000), spread: { 0 })
        let first = try #require(breaker.acquire(at: start).0)
        _ = breaker.record(.failure, for: first, at: start)
        #expect(breaker.timeNotClosed(at: start + .milliseconds(400)) == .milliseconds(400))
        let probeTime = start + .milliseconds(1500)
        let probe = try #require(breaker.acquire(at: probeTime).0)
        _ = breaker.record(.success, for: probe, at: probeTime)
        #expect(breaker.timeNotClosed(at: start + .seconds(10)) == .milliseconds(1500))
    }

    /// A dependency failing 30 % of calls: a fixed pattern (3 failures in every 10 calls, never two in a row) and a
    /// seeded random sequence, each against a reference model of the documented rule.
    @Test(
        "a dependency failing 30% of calls: the thresholds decide as documented",
        arguments: [
            (settings(consecutive: 5, rate: 0.5, window: 20, minimumCalls: 10), nil as Int?),
            (settings(consecutive: 2, rate: nil), nil),
            (settings(consecutive: 1, rate: nil), 0),
            (settings(consecutive: nil, rate: 0.3, window: 10, minimumCalls: 10), 9),
            (settings(consecutive: nil, rate: 0.35, window: 10, minimumCalls: 10), nil),
        ] as [(CircuitBreakerConfiguration, Int?)]
    )
    func thirtyPercentPattern(configuration: CircuitBreakerConfiguration, opensAt: Int?) {
        let pattern: [Bool] = [true, false, false, true, false, false, true, false, false, false]
        let outcomes = (0..<1000).map { pattern[$0 % pattern.count] }
        #expect(Self.firstOpening(configuration, outcomes) == opensAt)
        #expect(Self.referenceOpening(configuration, outcomes) == opensAt)
    }

    @Test(
        "a seeded random 30% failure sequence opens exactly where the documented rule says",
        arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64]
    )
    func thirtyPercentRandom(seed: UInt64) {
        var generator = SplitMix(seed: seed)
        let outcomes = (0..<2000).map { _ in Double(generator.next() % 10_000) / 10_000 < 0.3 }
        let failureShare = Double(outcomes.filter { $0 }.count) / Double(outcomes.count)
        #expect(abs(failureShare - 0.3) < 0.05)
        for configuration in [
            settings(consecutive: 5, rate: 0.5, window: 20, minimumCalls: 10),
            settings(consecutive: nil, rate: 0.5, window: 100, minimumCalls: 50),
            settings(consecutive: 4, rate: nil),
        ] {
            #expect(Self.firstOpening(configuration, outcomes) == Self.referenceOpening(configuration, outcomes))
        }
        // Over a long window the rate stays near 30 %: a 50 % threshold never trips.
        let longWindow = settings(consecutive: nil, rate: 0.5, window: 100, minimumCalls: 100)
        #expect(Self.firstOpening(longWindow, outcomes) == nil)
    }

    /// The index of the call whose outcome opens the breaker (calls spaced 1 ms apart, never reaching the end of the
    /// open period), or nil.
    static func firstOpening(_ configuration: CircuitBreakerConfiguration, _ outcomes: [Bool]) -> Int? {
        let start = ContinuousClock.now
        var breaker = CircuitBreaker(configuration: configuration, spread: { 0 })
        for (index, failed) in outcomes.enumerated() {
            let now = start + .microseconds(index)
            guard let permission = breaker.acquire(at: now).0 else { return nil }
            if breaker.record(failed ? .failure : .success, for: permission, at: now)?.to == .open { return index }
        }
        return nil
    }

    /// The documented rule, computed directly: open at the first call after which either the last
    /// `consecutiveFailures` calls all failed, or the last `window` calls (at least `minimumCalls` of them) failed
    /// at `failureRate` or more.
    static func referenceOpening(_ configuration: CircuitBreakerConfiguration, _ outcomes: [Bool]) -> Int? {
        for index in outcomes.indices {
            let upTo = outcomes[...index]
            if let run = configuration.consecutiveFailures, upTo.count >= run, upTo.suffix(run).allSatisfy({ $0 }) {
                return index
            }
            let window = upTo.suffix(configuration.window)
            if let rate = configuration.failureRate, window.count >= configuration.minimumCalls,
                Double(window.filter { $0 }.count) / Double(window.count) >= rate
            {
                return index
            }
        }
        return nil
    }
}

/// A small seeded generator, so the random sequence is the same on every run.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var value = state
        value = (value ^ (value >> 30)) &* 0xBF58_476D_1CE4_E5B9
        value = (value ^ (value >> 27)) &* 0x94D0_49BB_1331_11EB
        return value ^ (value >> 31)
    }
}

@Suite("Circuit breaker settings from text (--breaker)")
struct CircuitBreakerSettingsTests {
    @Test("every setting is read, and settings not named keep their value")
    func applies() throws {
        let base = CircuitBreakerConfiguration(window: 50)
        let parsed = try base.applying(
            "consecutive-failures=3,failure-rate=25%,min-calls=20,open=500ms,multiplier=3,max-open=2m,jitter=10%,"
                + "probes=2,scope=consumer"
        )
        #expect(parsed.consecutiveFailures == 3)
        #expect(parsed.failureRate == 0.25)
        #expect(parsed.window == 50)
        #expect(parsed.minimumCalls == 20)
        #expect(parsed.openDuration == .milliseconds(500))
        #expect(parsed.backoffMultiplier == 3)
        #expect(parsed.maxOpenDuration == .seconds(120))
        #expect(parsed.jitter == 0.1)
        #expect(parsed.probes == 2)
        #expect(parsed.scope == .consumer)
        let off = try base.applying("consecutive-failures=off,failure-rate=0.6")
        #expect(off.consecutiveFailures == nil && off.failureRate == 0.6)
        // A long open period alone raises the cap instead of failing on a setting not given.
        #expect(try base.applying("open=10m").maxOpenDuration == .seconds(600))
        let named = try CircuitBreakerConfiguration.namedSettings("bank:open=10s")
        #expect(named.name == "bank" && named.settings == "open=10s")
    }

    @Test(
        "bad input is refused, naming the bad part",
        arguments: [
            ("open=10", "open=10: expected a duration"),
            ("failure-rate=150%", "failure-rate=150%: expected a percentage"),
            ("consecutive-failures=0", "consecutive-failures=0: expected a number of at least 1"),
            ("scope=cluster", "scope=cluster: expected partition or consumer"),
            ("retries=3", "unknown setting 'retries'"),
            ("open", "'open' is not KEY=VALUE"),
            ("open=1s,open=2s", "open is given twice"),
            ("min-calls=30", "min-calls must be between 1 and the window (20)"),
            ("consecutive-failures=off,failure-rate=off", "could never open"),
            ("max-open=1s", "max-open (1.0 seconds) must be at least open (10.0 seconds)"),
        ]
    )
    func refuses(text: String, message: String) {
        do {
            _ = try CircuitBreakerConfiguration().applying(text)
            Issue.record("'\(text)' was accepted")
        } catch let error as PipelineError {
            #expect(error.message.contains(message), "\(error.message)")
        } catch {
            Issue.record("unexpected \(error)")
        }
    }

    @Test("a value without a name is refused")
    func needsName() {
        #expect(throws: PipelineError.self) { try CircuitBreakerConfiguration.namedSettings("open=10s") }
        #expect(throws: PipelineError.self) { try CircuitBreakerConfiguration.namedSettings(":open=10s") }
    }
}
