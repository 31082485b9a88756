import Logging
import Synchronization

/// The circuit breakers of one pipeline runner, by name: those the pipeline declares, and any other name a handler
/// uses (with the default settings, and a warning the first time).
package final class CircuitBreakers: Sendable {
    /// One breaker's state machine under its own lock, so breakers of different dependencies never contend.
    final class Cell: Sendable {
        let name: String
        let scope: CircuitBreakerScope
        let counts: @Sendable (any Error) -> Bool
        let machine: Mutex<CircuitBreaker>

        init(name: String, configuration: CircuitBreakerConfiguration, spread: @escaping @Sendable () -> Double) {
            self.name = name
            scope = configuration.scope
            counts = configuration.counts
            machine = Mutex(CircuitBreaker(configuration: configuration, spread: spread))
        }
    }

    /// A state change, handed to the runner's observer while the breaker's lock is held: transitions of one breaker
    /// are observed exactly once each, in order.
    package typealias Observer = @Sendable (_ name: String, _ scope: CircuitBreakerScope, CircuitBreaker.Transition)
        -> Void

    private let declared: [String: Cell]
    private let undeclared = Mutex<[String: Cell]>([:])
    private let defaults: CircuitBreakerConfiguration
    private let spread: @Sendable () -> Double
    private let observer: Observer
    private let logger: Logger
    /// The clock every breaker reads (injected in tests).
    package let clock: @Sendable () -> ContinuousClock.Instant

    /// Creates the breakers.
    /// - Parameters:
    ///   - declared: The settings of the declared breakers, by name.
    ///   - defaults: The settings of breakers used without a declaration.
    ///   - clock: The current time.
    ///   - spread: A random number in -1...1 for the jitter of open periods.
    ///   - logger: Where the warning about an undeclared breaker goes.
    ///   - observer: Called on every transition.
    /// - Throws: ``PipelineError`` (`configuration`) naming a breaker with invalid settings.
    package init(
        declared: [String: CircuitBreakerConfiguration],
        defaults: CircuitBreakerConfiguration = CircuitBreakerConfiguration(),
        clock: @escaping @Sendable () -> ContinuousClock.Instant = { .now },
        spread: @escaping @Sendable () -> Double = { Double.random(in: -1...1) },
        logger: Logger,
        observer: @escaping Observer = { _, _, _ in }
    ) throws {
        for (name, configuration) in declared.sorted(by: { $0.key < $1.key }) {
            if let problem = configuration.problems.first {
                throw PipelineError(.configuration, "circuit breaker '\(name)': \(problem)")
            }
        }
        self.declared = declared.reduce(into: [:]) { cells, entry in
            cells[entry.key] = Cell(name: entry.key, configuration: entry.value, spread: spread)
        }
        self.defaults = defaults
        self.clock = clock
        self.spread = spread
        self.logger = logger
        self.observer = observer
    }

    /// The breaker named `name`, made with the default settings (and a warning) on first use if undeclared.
    func cell(_ name: String) -> Cell {
        if let cell = declared[name] { return cell }
        return undeclared.withLock { cells in
            if let cell = cells[name] { return cell }
            let advice = "declare it with pipeline.breaker(\"\(name)\", …) to choose them and tune them with --breaker"
            logger.warning("circuit breaker '\(name)' is used but not declared: it has the default settings (\(advice))")
            let cell = Cell(name: name, configuration: defaults, spread: spread)
            cells[name] = cell
            return cell
        }
    }

    /// Asks to call a dependency.
    /// - Parameter cell: The breaker.
    /// - Returns: The permission, or the refusal to throw.
    func acquire(_ cell: Cell) -> Result<CircuitBreaker.Permission, DependencyUnavailable> {
        let now = clock()
        return cell.machine.withLock { machine in
            let (permission, transition) = machine.acquire(at: now)
            if let transition { observer(cell.name, cell.scope, transition) }
            if let permission { return .success(permission) }
            return .failure(DependencyUnavailable(machine.state == .halfOpen ? .probing : .open, dependency: cell.name))
        }
    }

    /// Records a permitted call's outcome; returns the transition it caused.
    func record(
        _ outcome: CircuitBreaker.Outcome, for permission: CircuitBreaker.Permission, in cell: Cell
    ) -> CircuitBreaker.Transition? {
        let now = clock()
        return cell.machine.withLock { machine in
            let transition = machine.record(outcome, for: permission, at: now)
            if let transition { observer(cell.name, cell.scope, transition) }
            return transition
        }
    }

    /// The state of a breaker (closed for a name never used).
    package func state(of name: String) -> CircuitBreaker.State {
        existing(name)?.machine.withLock { $0.state } ?? .closed
    }

    /// The scope of a breaker (the default scope for a name never used).
    package func scope(of name: String) -> CircuitBreakerScope {
        existing(name)?.scope ?? defaults.scope
    }

    /// Until when a partition held for this breaker stays paused: the end of the open period while open; while
    /// half-open, a short while (the probe's result releases it sooner, see the runner's observer); now when closed.
    package func holdUntil(_ name: String) -> ContinuousClock.Instant {
        let now = clock()
        guard let cell = existing(name) else { return now }
        return cell.machine.withLock { machine in
            switch machine.state {
            case .closed: return now
            case .open: return machine.openUntil ?? now
            case .halfOpen: return now + min(Self.probeRecheck, machine.configuration.openDuration)
            }
        }
    }

    /// How long a partition refused during a half-open period waits before trying again, at most.
    static let probeRecheck = Duration.seconds(1)

    /// Every breaker used or declared so far, by name: its state, when its open period ends, and the time it has
    /// spent not closed.
    package var snapshot: [BreakerSnapshot] {
        let now = clock()
        let cells = Array(declared.values) + undeclared.withLock { Array($0.values) }
        var result: [BreakerSnapshot] = []
        for cell in cells {
            let (state, openUntil, timeNotClosed) = cell.machine.withLock {
                ($0.state, $0.openUntil, $0.timeNotClosed(at: now))
            }
            result.append(
                BreakerSnapshot(name: cell.name, state: state, openUntil: openUntil, timeNotClosed: timeNotClosed)
            )
        }
        return result.sorted { $0.name < $1.name }
    }

    /// Why the pipeline is degraded (breakers not closed), or nil when every breaker is closed.
    package var degradation: String? {
        let now = clock()
        let notClosed = snapshot.filter { $0.state != .closed }
        guard !notClosed.isEmpty else { return nil }
        return "degraded: "
            + notClosed.map { entry in
                let scope = scope(of: entry.name) == .consumer ? "all partitions" : "its partitions"
                if entry.state == .open, let until = entry.openUntil {
                    let seconds = max(0, Double((until - now).totalMilliseconds) / 1000)
                    return "circuit breaker \(entry.name) open, \(scope) paused, next probe in "
                        + "\(Int(seconds.rounded(.up)))s"
                }
                return "circuit breaker \(entry.name) half-open (probing), \(scope) paused"
            }.joined(separator: "; ")
    }

    private func existing(_ name: String) -> Cell? {
        declared[name] ?? undeclared.withLock { $0[name] }
    }
}

/// One breaker as metrics and readiness see it.
package struct BreakerSnapshot: Sendable {
    /// The dependency's name.
    package var name: String
    /// Its state.
    package var state: CircuitBreaker.State
    /// When its open period ends (while open).
    package var openUntil: ContinuousClock.Instant?
    /// Time spent open or half-open so far.
    package var timeNotClosed: Duration
}
