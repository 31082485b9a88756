import DabbaKafka
import DabbaPipeline
import FoodDeliveryDomain
import Foundation
import Logging
import Synchronization

/// A dead-lettered record and why.
public struct DeadLetter: Sendable, Hashable {
    /// The dead-letter topic.
    public var topic: String
    /// The consumer group that gave up on it.
    public var group: String
    /// The event id.
    public var eventID: String
    /// The error message the pipeline wrote.
    public var reason: String
}

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
        /// The next offset not yet observed, per partition: the observer's group commits nothing, so after one of
        /// its rebalances (a broker fault under `--chaos`) it reads records again, which are not new records.
        var observedUpTo: [TopicPartition: Int64] = [:]
        var seenEventIDs: Set<String> = []
        var events = 0
        var duplicateDeliveries = 0
        var deadLetters: [DeadLetter] = []
        var firstMilliseconds: Int64?
        var lastMilliseconds: Int64?
    }

    private let state = Mutex(State())
    private let consumer: KafkaConsumer
    private let transitions: [String: OrderTransition]
    /// The topics watched.
    public let topics: [String]

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
        var configuration = ConsumerConfiguration(
            bootstrap: bootstrap, groupID: "food-observer-\(UUID().uuidString.prefix(8))")
        configuration.offsetReset = .earliest
        configuration.client.properties["topic.metadata.refresh.interval.ms"] = "1000"
        configuration.sessionTimeout = .seconds(6)
        consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        topics = [ordersTopic] + deadLetterTopics
        try consumer.subscribe(topics: topics)
        var transitions: [String: OrderTransition] = [:]
        for type in allOrderEventTypes { transitions[type.eventType] = type.transition }
        self.transitions = transitions
        self.ordersTopic = ordersTopic
    }

    private let ordersTopic: String

    /// Whether the consumer has its partitions.
    public var isAssigned: Bool { !consumer.assignment.isEmpty }

    /// Reads until ``stop()``.
    /// - Throws: ``KafkaError`` on a fatal consumer error.
    public func run() async throws {
        for try await message in consumer.messages {
            observe(message)
        }
    }

    /// Stops reading and leaves the group.
    public func stop() async {
        try? await consumer.close()
    }

    private func observe(_ message: KafkaMessage) {
        let id = message.header("ce_id") ?? "\(message.topic)/\(message.partition)/\(message.offset)"
        let type = message.header("ce_type") ?? ""
        let timestamp = message.timestampMilliseconds ?? Int64(Date().timeIntervalSince1970 * 1000)
        state.withLock { state in
            let partition = message.topicPartition
            guard message.offset >= state.observedUpTo[partition, default: 0] else { return }
            state.observedUpTo[partition] = message.offset + 1
            if message.topic != ordersTopic {
                let group = message.header(RetryHeaders.group) ?? "?"
                let reason = message.header(RetryHeaders.errorMessage) ?? "?"
                state.deadLetters.append(DeadLetter(topic: message.topic, group: group, eventID: id, reason: reason))
                return
            }
            guard state.seenEventIDs.insert(id).inserted else {
                state.duplicateDeliveries += 1
                return
            }
            state.events += 1
            state.firstMilliseconds = min(state.firstMilliseconds ?? timestamp, timestamp)
            state.lastMilliseconds = max(state.lastMilliseconds ?? timestamp, timestamp)
            guard let transition = transitions[type], let key = message.keyString else { return }
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
    }

    /// A snapshot of what was observed for a set of orders.
    /// - Parameter orderIDs: The orders of interest (the load plan's).
    /// - Returns: Counts, latencies and dead letters.
    public func snapshot(of orderIDs: [String]) -> ObservedRun {
        state.withLock { state in
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
            run.events = state.events
            run.duplicateDeliveries = state.duplicateDeliveries
            run.deadLetters = state.deadLetters
            if let first = state.firstMilliseconds, let last = state.lastMilliseconds {
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
