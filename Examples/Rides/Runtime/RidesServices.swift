import DabbaEvents
import DabbaInbox
import DabbaPipeline
import DemoServiceKit
import RidesDomain

/// The five services of the example, by executable name, in start order.
public let rideServiceNames = ["rides-dispatch", "rides-surge", "rides-trips", "rides-notifications", "rides-analytics"]

/// Requests, matches, trips, zone activity and surge results, keyed by pickup zone.
public let ridesTopic = "rides.rides"

/// Drivers' location reports, keyed by driver, compacted.
public let driversTopic = "rides.drivers"

/// The example system's name in messages.
public let ridesSystem = "rides"

/// The fetch wait the demo and the tests give the services (see `DemoServiceOptions.fetchWait`).
public let ridesFetchWait = "20ms"

/// The event types on `rides.rides`.
public let rideEventTypes: [any Event.Type] = [
    RideRequested.self, RideRejected.self, RideMatched.self, RideExpired.self, RideCancelRequested.self,
    RideCancelled.self, TripStarted.self, TripCompleted.self, ZoneActivity.self, SurgeUpdated.self,
    // The durable timers' events: declared on the topic for the contract checks, never produced to it.
    RideExpiryDue.self, SupplySampleDue.self, TripProgressDue.self,
]

/// The event types on `rides.drivers`.
public let driverEventTypes: [any Event.Type] = [DriverLocationUpdated.self]

/// The database of the handled event (the rides services keep their state in the inbox database).
public func ridesDatabase(_ context: EventContext) throws -> any InboxTransaction {
    try ServiceEffects.database(context, system: ridesSystem)
}
