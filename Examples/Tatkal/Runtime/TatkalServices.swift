import DabbaInbox
import DabbaPipeline
import DemoServiceKit
import TatkalDomain

/// The five services of the example, by executable name, in start order.
public let tatkalServiceNames = ["tatkal-gate", "tatkal-inventory", "tatkal-payments", "tatkal-notifications", "tatkal-analytics"]

/// Requests (with the gate's rejections and the inventory's released places), keyed by inventory: only the gate and
/// analytics read the burst.
public let tatkalRequestsTopic = "tatkal.requests"

/// Everything after admission, keyed by inventory.
public let tatkalBookingsTopic = "tatkal.bookings"

/// The example system's name in messages.
public let tatkalSystem = "Tatkal"

/// The fetch wait the demo and the tests give the services (see `DemoServiceOptions.fetchWait`).
public let tatkalFetchWait = "20ms"

/// The timer time scale of the demo and the tests: a 300 s hold lasts 5 s.
public let tatkalTimeScale = 60.0

/// The gateways' conditions, changed by the demo while the payments service runs (see `ControlFile`).
public struct GatewayConditions: Codable, Sendable, Equatable {
    /// Gateways that are down.
    public var down: [String]

    /// Every gateway up.
    public static let healthy = GatewayConditions(down: [])

    /// Creates conditions.
    public init(down: [String]) { self.down = down }
}

/// The event types on `tatkal.requests`.
public let tatkalRequestEventTypes: [any InventoryEvent.Type] = [
    BookingRequested.self, BookingRejected.self, PlacesReleased.self,
]

/// The event types on `tatkal.bookings`.
public let tatkalBookingEventTypes: [any InventoryEvent.Type] = [
    BookingAdmitted.self, SeatsHeld.self, BookingWaitlisted.self, WaitlistPromoted.self, TatkalPaymentSucceeded.self,
    TatkalPaymentFailed.self, BookingConfirmed.self, HoldExpired.self, HoldReleased.self, TatkalRefundRequested.self,
    ChartRequested.self,
    ChartPrepared.self,
    // The durable timers' events: declared on the topic for the contract checks, never produced to it.
    HoldExpiryDue.self, PaymentAttemptDue.self,
]

/// The database of the handled event (the Tatkal services keep their state in the inbox database).
public func tatkalDatabase(_ context: EventContext) throws -> any InboxTransaction {
    try ServiceEffects.database(context, system: tatkalSystem)
}
