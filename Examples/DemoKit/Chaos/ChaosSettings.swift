/// How a ``ChaosMonkey`` disturbs a running system.
public struct ChaosSettings: Sendable {
    /// Time between two actions. Actions alternate: a service killed and restarted, then a broker fault.
    public var interval: Duration
    /// The seed of the choices (which service, which fault): the same seed makes the same sequence of actions.
    public var seed: UInt64
    /// How long a killed service stays down before it is started again.
    public var restartDelay: Duration
    /// How long a broker taken down stays down.
    public var brokerDowntime: Duration
    /// Topics whose partition leaders may be moved, with their partition counts (leader moves need more than one
    /// broker).
    public var leaderTopics: [String: Int32]
    /// The fault kinds to choose from (all by default; those the cluster cannot have are skipped: a broker down and a
    /// leader move need more than one broker).
    public var faults: Set<ChaosFault.Kind>

    /// Creates settings.
    /// - Parameters:
    ///   - interval: Time between two actions.
    ///   - seed: The seed of the choices.
    ///   - restartDelay: How long a killed service stays down.
    ///   - brokerDowntime: How long a broker taken down stays down.
    ///   - leaderTopics: Topics whose partition leaders may move, with their partition counts.
    ///   - faults: The fault kinds to choose from.
    public init(
        interval: Duration = .seconds(4),
        seed: UInt64 = 5,
        restartDelay: Duration = .seconds(1),
        brokerDowntime: Duration = .seconds(2),
        leaderTopics: [String: Int32] = [:],
        faults: Set<ChaosFault.Kind> = Set(ChaosFault.Kind.allCases)
    ) {
        self.interval = interval
        self.seed = seed
        self.restartDelay = restartDelay
        self.brokerDowntime = brokerDowntime
        self.leaderTopics = leaderTopics
        self.faults = faults
    }
}
