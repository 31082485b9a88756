import ArgumentParser

/// The `--chaos` options every example demo takes.
public struct ChaosOptions: ParsableArguments, Sendable {
    /// Whether to disturb the run.
    @Flag(
        help:
            "While orders flow, SIGKILL a random service every few seconds and restart it, and inject broker faults (a broker down and back, request errors, a partition leader moved)."
    )
    public var chaos = false

    /// Seconds between two chaos actions.
    @Option(
        name: .customLong("chaos-interval"), help: "Seconds between two chaos actions (kills and faults alternate).")
    public var chaosInterval: Double = 4

    /// The seed of the chaos choices (the default's first kills reach every service of the food-delivery demo).
    @Option(name: .customLong("chaos-seed"), help: "The seed of the chaos choices (which service, which fault).")
    public var chaosSeed: UInt64 = 5

    /// Creates options with defaults.
    public init() {}

    /// Refuses an interval that is not positive.
    public func validate() throws {
        guard chaosInterval > 0 else {
            throw ValidationError("--chaos-interval must be more than 0 seconds, not \(chaosInterval)")
        }
    }

    /// The settings these options select.
    /// - Parameter leaderTopics: Topics whose partition leaders may move, with their partition counts.
    /// - Returns: The settings.
    public func settings(leaderTopics: [String: Int32]) -> ChaosSettings {
        ChaosSettings(
            interval: .milliseconds(Int64(chaosInterval * 1000)), seed: chaosSeed, leaderTopics: leaderTopics)
    }

    /// How many brokers the embedded cluster should have: several under chaos, so a broker down or a leader moved
    /// leaves the others serving; one otherwise.
    public var brokers: Int { chaos ? 3 : 1 }
}
