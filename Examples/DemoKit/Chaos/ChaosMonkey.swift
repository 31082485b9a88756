import DabbaKafka
import Foundation
import Synchronization

/// A broker fault the chaos driver injects through the embedded broker.
public enum ChaosFault: Sendable, Hashable, CustomStringConvertible {
    /// A broker taken down for a while, then brought back.
    case brokerDown(broker: Int32, for: Duration)
    /// The next requests of one API answered with errors.
    case requestErrors(api: KafkaAPI, errors: [BrokerErrorCode])
    /// A partition's leadership moved to another broker.
    case leaderMoved(topic: String, partition: Int32, broker: Int32)

    /// The kinds of fault.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// ``ChaosFault/brokerDown(broker:for:)``.
        case brokerDown
        /// ``ChaosFault/requestErrors(api:errors:)``.
        case requestErrors
        /// ``ChaosFault/leaderMoved(topic:partition:broker:)``.
        case leaderMoved
    }

    /// Request errors clients recover from by retrying, refreshing metadata, finding the coordinator again or
    /// rejoining their group: what a real cluster answers during a leader election, a coordinator move or a
    /// rebalance.
    public static let recoverableRequestErrors: [(KafkaAPI, [BrokerErrorCode])] = [
        (.produce, [.notLeaderForPartition, .notLeaderForPartition]),
        (.produce, [.notEnoughReplicas]),
        (.fetch, [.notLeaderForPartition, .notLeaderForPartition]),
        (.heartbeat, [.rebalanceInProgress]),
        (.offsetCommit, [.coordinatorNotAvailable]),
        (.metadata, [.leaderNotAvailable]),
    ]

    private static let apiNames: [Int16: String] = [
        KafkaAPI.produce.rawValue: "Produce", KafkaAPI.fetch.rawValue: "Fetch",
        KafkaAPI.heartbeat.rawValue: "Heartbeat", KafkaAPI.offsetCommit.rawValue: "OffsetCommit",
        KafkaAPI.metadata.rawValue: "Metadata",
    ]

    private static let errorNames: [Int32: String] = [
        BrokerErrorCode.notLeaderForPartition.rawValue: "NOT_LEADER_FOR_PARTITION",
        BrokerErrorCode.notEnoughReplicas.rawValue: "NOT_ENOUGH_REPLICAS",
        BrokerErrorCode.rebalanceInProgress.rawValue: "REBALANCE_IN_PROGRESS",
        BrokerErrorCode.coordinatorNotAvailable.rawValue: "COORDINATOR_NOT_AVAILABLE",
        BrokerErrorCode.leaderNotAvailable.rawValue: "LEADER_NOT_AVAILABLE",
    ]

    /// How the fault reads in the demo's output.
    public var description: String {
        switch self {
        case .brokerDown(let broker, let duration):
            return "broker \(broker) down for \(DemoConsole.seconds(duration)) s"
        case .requestErrors(let api, let errors):
            let codes = errors.map { Self.errorNames[$0.rawValue] ?? "error \($0.rawValue)" }
            let requests = "\(Self.apiNames[api.rawValue] ?? "API \(api.rawValue)") request\(errors.count == 1 ? "" : "s")"
            return "\(codes.joined(separator: ", ")) answering the next \(requests)"
        case .leaderMoved(let topic, let partition, let broker):
            return "\(topic)[\(partition)] leader moved to broker \(broker)"
        }
    }
}

/// What the chaos driver did so far.
public struct ChaosRecord: Sendable {
    /// Services killed (SIGKILL) and started again.
    public var kills = 0
    /// Broker faults injected.
    public var faults = 0
    /// Each action, as the demo prints it.
    public var actions: [String] = []

    /// Nothing done yet.
    public init() {}
}

/// Disturbs a running system: every ``ChaosSettings/interval`` it either SIGKILLs a random service and starts it
/// again, or injects a broker fault through the embedded broker (kills and faults alternate, starting with a kill).
/// The choices come from ``ChaosSettings/seed``.
///
/// Run it in a task of its own and cancel that task to stop; ``run()`` then returns once the action in progress is
/// undone (a killed service started again, a broker taken down brought back), so the system is whole again.
public final class ChaosMonkey: Sendable {
    /// The settings.
    public let settings: ChaosSettings
    private let services: [ServiceProcess]
    private let broker: EmbeddedBroker
    private let report: @Sendable (String) -> Void
    private let state = Mutex(ChaosRecord())

    /// Creates a chaos driver.
    /// - Parameters:
    ///   - settings: What to do and how often.
    ///   - services: The services it may kill and restart.
    ///   - broker: The embedded broker it injects faults into.
    ///   - report: Called with a line for each action (the demo prints it).
    public init(
        settings: ChaosSettings, services: [ServiceProcess], broker: EmbeddedBroker,
        report: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.settings = settings
        self.services = services
        self.broker = broker
        self.report = report
    }

    /// What it did so far.
    public var record: ChaosRecord { state.withLock { $0 } }

    /// The fault kinds this cluster can have (a broker down and a leader move need a second broker).
    public var possibleFaults: [ChaosFault.Kind] {
        ChaosFault.Kind.allCases.filter { kind in
            guard settings.faults.contains(kind) else { return false }
            switch kind {
            case .brokerDown: return broker.brokerCount > 1
            case .leaderMoved: return broker.brokerCount > 1 && !settings.leaderTopics.isEmpty
            case .requestErrors: return true
            }
        }
    }

    /// Acts every interval until the calling task is cancelled. An action in progress is completed first (its waits
    /// are cut short), so it returns with every service it killed started again and every broker up.
    public func run() async {
        var random = SeededGenerator(seed: settings.seed)
        var killNext = true
        while true {
            do { try await Task.sleep(for: settings.interval) } catch { break }
            if killNext, !services.isEmpty {
                await killAndRestart(services[Int(random.next() % UInt64(services.count))])
            } else if let fault = chooseFault(&random) {
                await inject(fault)
            }
            killNext.toggle()
        }
    }

    /// Kills a service (SIGKILL), waits for it to exit, and starts it again after ``ChaosSettings/restartDelay``.
    /// - Parameter service: The victim.
    public func killAndRestart(_ service: ServiceProcess) async {
        if service.isRunning {
            let pid = service.pid
            service.send(SIGKILL)
            _ = await service.waitForExit(timeout: .seconds(30))
            state.withLock { $0.kills += 1 }
            log("SIGKILL \(service.name) (pid \(pid))")
        }
        await pause(settings.restartDelay)
        start(service)
    }

    /// Injects a fault; a broker taken down is brought back after ``ChaosSettings/brokerDowntime``.
    /// - Parameter fault: The fault.
    public func inject(_ fault: ChaosFault) async {
        do {
            switch fault {
            case .brokerDown(let id, let duration):
                try await broker.setBrokerDown(id)
                count(fault)
                await pause(duration)
                try await broker.setBrokerUp(id)
            case .requestErrors(let api, let errors):
                try await broker.injectErrors(api, errors)
                count(fault)
            case .leaderMoved(let topic, let partition, let id):
                try await broker.setPartitionLeader(topic: topic, partition: partition, broker: id)
                count(fault)
            }
        } catch {
            log("could not inject \(fault): \(error)")
        }
    }

    private func chooseFault(_ random: inout SeededGenerator) -> ChaosFault? {
        let kinds = possibleFaults
        guard !kinds.isEmpty else { return nil }
        let brokers = UInt64(broker.brokerCount)
        switch kinds[Int(random.next() % UInt64(kinds.count))] {
        case .brokerDown:
            return .brokerDown(broker: Int32(1 + random.next() % brokers), for: settings.brokerDowntime)
        case .requestErrors:
            let choices = ChaosFault.recoverableRequestErrors
            let (api, errors) = choices[Int(random.next() % UInt64(choices.count))]
            return .requestErrors(api: api, errors: errors)
        case .leaderMoved:
            let topics = settings.leaderTopics.sorted { $0.key < $1.key }
            let (topic, partitions) = topics[Int(random.next() % UInt64(topics.count))]
            return .leaderMoved(
                topic: topic, partition: Int32(random.next() % UInt64(max(1, partitions))),
                broker: Int32(1 + random.next() % brokers))
        }
    }

    private func start(_ service: ServiceProcess) {
        do {
            try service.restart()
            log("restarted \(service.name) (pid \(service.pid))")
        } catch {
            log("could not restart \(service.name): \(error)")
        }
    }

    private func count(_ fault: ChaosFault) {
        state.withLock { $0.faults += 1 }
        log("fault: \(fault)")
    }

    private func log(_ line: String) {
        state.withLock { $0.actions.append(line) }
        report(line)
    }

    /// Sleeps, or returns at once when the task is cancelled (undoing an action is never put off).
    private func pause(_ duration: Duration) async {
        try? await Task.sleep(for: duration)
    }
}

/// A ``ChaosMonkey`` running in a task of its own until ``stop()``.
public final class ChaosRun: Sendable {
    private let monkey: ChaosMonkey
    private let task: Task<Void, Never>

    /// Starts the driver.
    /// - Parameter monkey: The driver.
    public init(_ monkey: ChaosMonkey) {
        self.monkey = monkey
        task = Task { await monkey.run() }
    }

    /// What it did so far.
    public var record: ChaosRecord { monkey.record }

    /// Stops it and waits until what it disturbed is whole again (every service it killed running, every broker up).
    /// Calling it again returns at once.
    public func stop() async {
        task.cancel()
        await task.value
    }
}
