/// Where an order is in its life.
public enum OrderState: String, Codable, Sendable, CaseIterable {
    /// The customer placed it.
    case placed
    /// The platform validated, priced and charged it.
    case accepted
    /// The restaurant took it.
    case confirmed
    /// The kitchen is cooking.
    case preparing
    /// Ready for pickup.
    case ready
    /// A partner is on the way to the restaurant.
    case assigned
    /// Out for delivery.
    case pickedUp = "picked_up"
    /// Terminal: the customer has it.
    case delivered
    /// Terminal: the platform or the restaurant refused it.
    case rejected
    /// Terminal: cancelled before pickup.
    case cancelled
    /// Terminal: the payment failed.
    case paymentFailed = "payment_failed"

    /// Whether the order's life is over.
    public var isTerminal: Bool {
        switch self {
        case .delivered, .rejected, .cancelled, .paymentFailed: true
        default: false
        }
    }

    /// The summary bucket of a terminal state: `delivered`, `rejected` or `cancelled` (a failed payment cancels).
    public var terminalBucket: String? {
        switch self {
        case .delivered: "delivered"
        case .rejected: "rejected"
        case .cancelled, .paymentFailed: "cancelled"
        default: nil
        }
    }
}

/// What an order event asks the state machine to do.
public enum OrderTransition: String, Sendable, CaseIterable {
    /// `food.order.placed`.
    case place
    /// `food.order.accepted`.
    case accept
    /// `food.order.rejected`.
    case reject
    /// `food.payment.failed`.
    case failPayment
    /// `food.order.confirmed`.
    case confirm
    /// `food.order.preparing`.
    case startPreparing
    /// `food.order.ready`.
    case markReady
    /// `food.delivery.assigned`.
    case assignPartner
    /// `food.order.picked-up`.
    case pickUp
    /// `food.order.delivered`.
    case deliver
    /// `food.order.cancelled`.
    case cancel

    /// The state the order is in after the transition.
    public var target: OrderState {
        switch self {
        case .place: .placed
        case .accept: .accepted
        case .reject: .rejected
        case .failPayment: .paymentFailed
        case .confirm: .confirmed
        case .startPreparing: .preparing
        case .markReady: .ready
        case .assignPartner: .assigned
        case .pickUp: .pickedUp
        case .deliver: .delivered
        case .cancel: .cancelled
        }
    }

    /// The states the transition is legal from (`nil`: the order does not exist yet).
    public var sources: Set<OrderState?> {
        switch self {
        case .place: [nil]
        case .accept, .failPayment: [.placed]
        case .reject: [.placed, .accepted]
        case .confirm: [.accepted]
        case .startPreparing: [.confirmed]
        case .markReady: [.preparing]
        case .assignPartner: [.ready]
        case .pickUp: [.assigned]
        case .deliver: [.pickedUp]
        case .cancel: [.placed, .accepted, .confirmed, .preparing, .ready, .assigned]
        }
    }
}

/// The outcome of feeding one event to the state machine.
public enum TransitionOutcome: Sendable, Equatable {
    /// The order moved from `from` to `to`.
    case applied(from: OrderState?, to: OrderState)
    /// The transition is illegal in the current state (a late or repeated event): every service ignores it.
    case illegal(current: OrderState?, transition: OrderTransition)
}

/// The order state machine every service applies to the same per-order log, so they all agree on which events
/// count: a transition that is illegal at its place in the log (a `ready` after `cancelled`, a second
/// `confirmed`) is rejected by everyone, and an order has exactly one terminal state.
public enum OrderStateMachine {
    /// Applies a transition to a state.
    /// - Parameters:
    ///   - transition: The event's transition.
    ///   - current: The order's state (`nil` if unknown).
    /// - Returns: The new state, or why the transition is illegal.
    public static func apply(_ transition: OrderTransition, to current: OrderState?) -> TransitionOutcome {
        guard transition.sources.contains(current) else { return .illegal(current: current, transition: transition) }
        return .applied(from: current, to: transition.target)
    }

    /// Replays a sequence of transitions from nothing, skipping illegal ones.
    /// - Parameter transitions: The order's events, in log order.
    /// - Returns: The states passed through (the last is the current one).
    public static func replay(_ transitions: [OrderTransition]) -> [OrderState] {
        var states: [OrderState] = []
        for transition in transitions {
            if case .applied(_, let next) = apply(transition, to: states.last) { states.append(next) }
        }
        return states
    }
}
