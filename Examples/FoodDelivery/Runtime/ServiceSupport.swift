import ArgumentParser
import DabbaEvents
import DabbaInbox
import DabbaPipeline
import DabbaService
import FoodDeliveryDomain
import Foundation

/// Options every food-delivery service takes besides the standard ``PipelineOptions``.
public struct FoodServiceOptions: ParsableArguments, Sendable {
    /// The consumer session timeout: how long the group waits for a vanished member before reassigning its
    /// partitions. Short values make restarts and rebalances quick on a development machine.
    @Option(
        name: .customLong("session-timeout"), help: "Consumer session timeout, e.g. 6s (default: librdkafka's 45s).")
    public var sessionTimeout: String?

    /// Creates options with defaults.
    public init() {}

    /// Applies the options to a pipeline's runtime settings.
    /// - Parameter configuration: The settings PipelineService derived from the standard options.
    public func apply(to configuration: inout PipelineConfiguration) {
        // Quick metadata refreshes so services started before the topics exist (or before a rebalance) catch up.
        configuration.consumerProperties["topic.metadata.refresh.interval.ms"] = "2000"
        // A batch commits once the broker acknowledged what its handlers emitted; with no linger those events
        // leave at once, so a lightly loaded service adds one round trip per batch rather than a linger period.
        configuration.producerProperties["linger.ms"] = "0"
        if let milliseconds = sessionTimeoutMilliseconds {
            configuration.consumerProperties["session.timeout.ms"] = String(milliseconds)
            configuration.consumerProperties["heartbeat.interval.ms"] = String(max(100, milliseconds / 6))
        }
    }

    /// Refuses standard options the food services cannot honour: they keep their state in the inbox database, so
    /// they need an inbox, and `--exactly-once` (which runs handlers without the inbox's transaction) would leave
    /// them without their store.
    /// - Parameter options: The parsed standard options.
    /// - Throws: `ValidationError` naming the option.
    public func check(_ options: PipelineOptions) throws {
        if options.inbox == "none" {
            throw ValidationError("--inbox none: the food-delivery services keep their state in the inbox database")
        }
        if options.exactlyOnce {
            throw ValidationError(
                "--exactly-once: the food-delivery services need the inbox's transaction for their state; "
                    + "their effects are exactly-once through the inbox and deterministic event ids"
            )
        }
    }

    var sessionTimeoutMilliseconds: Int? {
        guard let sessionTimeout else { return nil }
        let units: [(String, Int)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
        for (suffix, factor) in units where sessionTimeout.hasSuffix(suffix) {
            if let value = Int(sessionTimeout.dropLast(suffix.count)) { return value * factor }
        }
        return nil
    }

    public mutating func validate() throws {
        if sessionTimeout != nil, sessionTimeoutMilliseconds == nil {
            throw ValidationError("--session-timeout must look like 6s or 6000ms, not '\(sessionTimeout ?? "")'")
        }
    }
}

/// The service's own tables for order tracking and effect bookkeeping, created before processing starts.
public enum FoodStore {
    /// Tables every service has: each order's state per the shared state machine, the transitions it refused,
    /// and one row per side effect applied (the duplicate-effect check counts repeated keys).
    public static let migrations = [
        "CREATE TABLE IF NOT EXISTS order_states (order_id TEXT PRIMARY KEY, state TEXT NOT NULL, passed TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS illegal_transitions (order_id TEXT NOT NULL, event_type TEXT NOT NULL, state TEXT, event_id TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS effects (effect TEXT NOT NULL, event_id TEXT NOT NULL)",
    ]

    /// Counts side effects applied more than once (a row per extra application).
    public static let duplicateEffectsQuery =
        "SELECT CAST(COALESCE(SUM(n - 1), 0) AS BIGINT) FROM (SELECT COUNT(*) AS n FROM effects GROUP BY effect HAVING COUNT(*) > 1) AS repeated"

    /// Records a side effect; the same key twice is a duplicate effect.
    /// - Parameters:
    ///   - effect: A key naming the effect (`stock:ord-1`, `notify:ord-1:ready:customer`).
    ///   - context: The handled event (its id is stored for diagnosis).
    ///   - database: The event's transaction.
    public static func recordEffect(_ effect: String, context: EventContext, in database: any InboxTransaction) throws {
        _ = try database.execute(
            "INSERT INTO effects (effect, event_id) VALUES (?, ?)", [.text(effect), .text(context.envelope.id)])
    }

    /// The database of the handled event, or a permanent failure when the service runs without an inbox.
    /// - Parameter context: The event context.
    /// - Returns: The event's transaction.
    /// - Throws: ``PermanentError`` when there is no inbox.
    public static func database(_ context: EventContext) throws -> any InboxTransaction {
        guard let database = context.database else {
            throw PermanentError(
                HandlerFailure(
                    "the food-delivery services keep their state in the inbox database: do not start them with --inbox none"
                ))
        }
        return database
    }
}

/// A legal transition of an order, as a service sees it while handling the event.
public struct OrderUpdate: Sendable {
    /// The event.
    public let event: any OrderEvent
    /// The state before (nil for a new order).
    public let from: OrderState?
    /// The state after.
    public let to: OrderState
    /// Every state the order passed through, including `to`.
    public let passed: [OrderState]
}

extension Pipeline {
    /// Handles every order event type with the shared state machine: the order's state lives in the service's
    /// `order_states` table; legal transitions reach `react` (inside the event's transaction), illegal ones are
    /// recorded in `illegal_transitions` and logged, and nothing else happens.
    /// - Parameter react: The service's reaction to a legal transition.
    public mutating func onOrderEvents(_ react: @escaping @Sendable (OrderUpdate, EventContext) async throws -> Void) {
        for type in allOrderEventTypes {
            register(type, react)
        }
    }

    private mutating func register<E: OrderEvent>(
        _ type: E.Type, _ react: @escaping @Sendable (OrderUpdate, EventContext) async throws -> Void
    ) {
        on(type) { event, context in
            let database = try FoodStore.database(context)
            let rows = try database.query(
                "SELECT state, passed FROM order_states WHERE order_id = ?", [.text(event.orderId)])
            var current: OrderState?
            var passed: [OrderState] = []
            if let row = rows.first, case .text(let state) = row[0], case .text(let history) = row[1] {
                current = OrderState(rawValue: state)
                passed = history.split(separator: ",").compactMap { OrderState(rawValue: String($0)) }
            }
            switch OrderStateMachine.apply(E.transition, to: current) {
            case .illegal(let state, _):
                _ = try database.execute(
                    "INSERT INTO illegal_transitions (order_id, event_type, state, event_id) VALUES (?, ?, ?, ?)",
                    [
                        .text(event.orderId), .text(E.eventType), state.map { .text($0.rawValue) } ?? .null,
                        .text(context.envelope.id),
                    ]
                )
                context.logger.debug(
                    "ignored \(E.eventType) for \(event.orderId) in state \(state?.rawValue ?? "none")")
            case .applied(let from, let to):
                passed.append(to)
                _ = try database.execute(
                    "INSERT INTO order_states (order_id, state, passed) VALUES (?, ?, ?) ON CONFLICT(order_id) DO UPDATE SET state = excluded.state, passed = excluded.passed",
                    [.text(event.orderId), .text(to.rawValue), .text(passed.map(\.rawValue).joined(separator: ","))]
                )
                try await react(OrderUpdate(event: event, from: from, to: to, passed: passed), context)
            }
        }
    }
}

/// Ids of order events that are facts about the order rather than about the event that caused them: the orders the
/// load generator places (so a plan produced again places no order twice) and delivery's assignments (an order has
/// one, whichever event's handling made it). Every other emitted event gets the framework's id derived from its cause.
public enum FoodEventID {
    /// `<orderId>/<event type>`: at most one such event per order and type.
    public static func make(orderId: String, type: String) -> String { "\(orderId)/\(type)" }
}

/// Resolves the SQLite file a service's store is in, the way PipelineService does, for report modes and tools.
/// - Parameters:
///   - inbox: The `--inbox` option (`sqlite:PATH`), or nil for the default.
///   - group: The consumer group.
///   - instanceID: The `--instance-id`, if any.
/// - Returns: The file path.
/// - Throws: `ValidationError` when the inbox is not SQLite.
public func sqliteStorePath(inbox: String?, group: String, instanceID: String?) throws -> String {
    let value = inbox ?? "sqlite:.dabba/\(group)-\(instanceID ?? "default").sqlite"
    guard value.hasPrefix("sqlite:") else {
        throw ValidationError("this mode reads a SQLite store: pass --inbox sqlite:PATH, not '\(value)'")
    }
    return String(value.dropFirst("sqlite:".count))
}
