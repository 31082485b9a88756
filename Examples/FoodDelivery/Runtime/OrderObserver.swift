import DabbaKafka
import DabbaPipeline
import FoodDeliveryDomain
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import Synchronization

/// Watches `food.orders` (and the groups' dead-letter topics) from the outside, applying the same state machine as
/// the services: how many orders are in each state, when each reached its terminal state, what was dead-lettered.
/// The demo and the end-to-end tests use it; it reads with its own throwaway consumer group.
public final class OrderObserver: Sendable {
    struct Tracked {
        var states: [OrderState] = []
        var placedAtMilliseconds: Int64?
        var terminalAtMilliseconds: Int64?
        var rejectionReason: String?
    }

    struct State {
        var orders: [String: Tracked] = [:]
    }

    /// The tracked orders, shared with the watcher's callback.
    final class Tracker: Sendable {
        let state = Mutex(State())
    }

    private let tracker: Tracker
    private let watcher: EventLogWatcher
    /// The topics watched.
    public var topics: [String] { watcher.topics }

    /// Creates an observer (call ``run()`` to start reading).
    /// - Parameters:
    ///   - bootstrap: The brokers.
    ///   - ordersTopic: The order events' topic.
    ///   - deadLetterTopics: Dead-letter topics to watch.
    ///   - logger: The logger.
    /// - Throws: ``KafkaError`` if the consumer cannot be created.
    public init(bootstrap: String, ordersTopic: String = "food.orders", deadLetterTopics: [String], logger: Logger)
        throws
    {
        let transitions = Dictionary(
            allOrderEventTypes.map { ($0.eventType, $0.transition) }, uniquingKeysWith: { first, _ in first })
        let tracker = Tracker()
        self.tracker = tracker
        watcher = try EventLogWatcher(
            bootstrap: bootstrap, mainTopic: ordersTopic, deadLetterTopics: deadLetterTopics,
            groupPrefix: "food-observer", logger: logger
        ) { message, type, timestamp in
            guard let transition = transitions[type], let key = message.keyString else { return }
            tracker.state.withLock { state in
                Self.track(message, key: key, transition: transition, timestamp: timestamp, in: &state)
            }
        }
    }

    /// Whether the consumer has its partitions.
    public var isAssigned: Bool { watcher.isAssigned }

    /// Reads until ``stop()``.
    /// - Throws: ``KafkaError`` on a fatal consumer error.
    public func run() async throws {
        try await watcher.run()
    }

    /// Stops reading and leaves the group.
    public func stop() async {
        await watcher.stop()
    }

    private static func track(
        _ message: KafkaMessage, key: String, transition: OrderTransition, timestamp: Int64, in state: inout State
    ) {
        var tracked = state.orders[key] ?? Tracked()
        if case .applied(_, let next) = OrderStateMachine.apply(transition, to: tracked.states.last) {
            tracked.states.append(next)
            if next == .placed { tracked.placedAtMilliseconds = timestamp }
            if next.isTerminal { tracked.terminalAtMilliseconds = timestamp }
            if next == .rejected, let value = message.value,
                let payload = try? JSONSerialization.jsonObject(with: Data(value)) as? [String: Any]
            {
                tracked.rejectionReason = payload["reason"] as? String
            }
        }
        state.orders[key] = tracked
    }

    /// A snapshot of what was observed for a set of orders.
    /// - Parameter orderIDs: The orders of interest (the load plan's).
    /// - Returns: Counts, latencies and dead letters.
    public func snapshot(of orderIDs: [String]) -> ObservedRun {
        let counts = watcher.counts
        return tracker.state.withLock { state in
            var run = ObservedRun()
            var latencies: [Double] = []
            for id in orderIDs {
                let tracked = state.orders[id]
                let current = tracked?.states.last
                run.byState[current?.rawValue ?? "not_placed_yet", default: 0] += 1
                if let current, current.isTerminal {
                    run.terminal[current.rawValue, default: 0] += 1
                    if let placed = tracked?.placedAtMilliseconds, let done = tracked?.terminalAtMilliseconds {
                        latencies.append(Double(done - placed))
                    }
                } else {
                    run.unfinished.append(id)
                }
                run.passed[id] = tracked?.states ?? []
                if let reason = tracked?.rejectionReason { run.rejectionReasons[id] = reason }
            }
            run.p50Milliseconds = Percentile.of(50, latencies)
            run.p99Milliseconds = Percentile.of(99, latencies)
            run.events = counts.events
            run.duplicateDeliveries = counts.duplicateDeliveries
            run.deadLetters = counts.deadLetters
            if let first = counts.firstMilliseconds, let last = counts.lastMilliseconds {
                run.spanSeconds = Double(last - first) / 1000
            }
            return run
        }
    }
}

/// What the observer saw for a run.
public struct ObservedRun: Sendable {
    /// Orders per current state (`not_placed_yet` for orders not observed yet).
    public var byState: [String: Int] = [:]
    /// Orders per terminal state.
    public var terminal: [String: Int] = [:]
    /// Orders not (yet) in a terminal state.
    public var unfinished: [String] = []
    /// The states each order passed through.
    public var passed: [String: [OrderState]] = [:]
    /// The `reason` of each rejected order's rejection.
    public var rejectionReasons: [String: String] = [:]
    /// Median placed-to-terminal time.
    public var p50Milliseconds: Double = 0
    /// 99th percentile placed-to-terminal time.
    public var p99Milliseconds: Double = 0
    /// Distinct events seen on the orders topic.
    public var events = 0
    /// Records seen again with an id already seen (redeliveries after a crash: no effect, the inboxes skip them).
    public var duplicateDeliveries = 0
    /// Dead-lettered records.
    public var deadLetters: [DeadLetter] = []
    /// Time between the first and the last event.
    public var spanSeconds: Double = 0

    /// Orders in a terminal bucket: `delivered`, `rejected`, `cancelled` (payment failures count as cancelled).
    public func count(bucket: String) -> Int {
        terminal.reduce(0) { total, entry in
            OrderState(rawValue: entry.key)?.terminalBucket == bucket ? total + entry.value : total
        }
    }
}
