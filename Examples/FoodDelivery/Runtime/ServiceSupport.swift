import ArgumentParser
import DemoServiceKit
import DabbaEvents
import DabbaInbox
import DabbaPipeline
import DabbaService
import FoodDeliveryDomain
import Foundation

/// The service's own tables for order tracking and effect bookkeeping, created before processing starts.
public enum FoodStore {
    /// Tables every service has: each order's state per the shared state machine, the transitions it refused,
    /// and one row per side effect applied (the duplicate-effect check counts repeated keys).
    public static let migrations = [
        "CREATE TABLE IF NOT EXISTS order_states (order_id TEXT PRIMARY KEY, state TEXT NOT NULL, passed TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS illegal_transitions (order_id TEXT NOT NULL, event_type TEXT NOT NULL, state TEXT, event_id TEXT NOT NULL)",
    ] + ServiceEffects.migrations

    /// Records a side effect; the same key twice is a duplicate effect (see ``ServiceEffects``).
    public static func recordEffect(_ effect: String, context: EventContext, in database: any InboxTransaction) throws {
        try ServiceEffects.record(effect, context: context, in: database)
    }

    /// The database of the handled event, or a permanent failure when the service runs without an inbox.
    public static func database(_ context: EventContext) throws -> any InboxTransaction {
        try ServiceEffects.database(context, system: "food-delivery")
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
