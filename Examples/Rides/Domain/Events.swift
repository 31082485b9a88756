import DabbaEvents
import Foundation

/// An event of one ride or of one pickup zone: keyed by the pickup zone, so a ride's whole lifecycle, the zone's
/// activity and its surge results are on one partition, in one order.
public protocol ZoneEvent: Event {
    /// The pickup zone (`BKC`).
    var pickupZone: String { get }
}

extension ZoneEvent {
    /// The pickup zone.
    public var partitionKey: String? { pickupZone }
}

/// A point on the map.
public struct GeoPoint: Codable, Sendable, Hashable {
    /// Latitude in degrees.
    public var latitude: Double
    /// Longitude in degrees.
    public var longitude: Double

    /// Creates a point.
    public init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }
}

/// A vehicle class, which is also what a rider asks for.
public enum RideType: String, Codable, Sendable, CaseIterable {
    /// An auto-rickshaw.
    case auto
    /// A hatchback.
    case mini
    /// A sedan.
    case sedan
    /// An SUV.
    case suv
}

/// `rides.ride.requested`: a rider asks for a ride from a pickup zone (the app's zone and coordinates).
public struct RideRequested: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.ride.requested"
    /// The app's ride id.
    public var rideId: String
    /// The rider.
    public var riderId: String
    /// The pickup zone.
    public var pickupZone: String
    /// The pickup point.
    public var pickup: GeoPoint
    /// The drop zone.
    public var dropZone: String
    /// The drop point.
    public var drop: GeoPoint
    /// What the rider asks for (`auto`, `mini`, `sedan`, `suv`; the raw text, checked by dispatch).
    public var rideType: String
    /// When.
    public var requestedAt: Date

    /// Creates the event.
    public init(
        rideId: String, riderId: String, pickupZone: String, pickup: GeoPoint, dropZone: String, drop: GeoPoint,
        rideType: String, requestedAt: Date
    ) {
        self.rideId = rideId
        self.riderId = riderId
        self.pickupZone = pickupZone
        self.pickup = pickup
        self.dropZone = dropZone
        self.drop = drop
        self.rideType = rideType
        self.requestedAt = requestedAt
    }
}

/// Why dispatch refused a request.
public enum RideRejection: String, Codable, Sendable, CaseIterable {
    /// Coordinates out of range or outside Mumbai.
    case malformedCoordinates = "malformed_coordinates"
    /// A pickup or drop zone the service does not cover, or a point far from its zone.
    case unknownZone = "unknown_zone"
    /// A ride type that does not exist.
    case unknownRideType = "unknown_ride_type"
}

/// `rides.ride.rejected`: dispatch refused a request; nothing was matched.
public struct RideRejected: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.ride.rejected"
    /// The ride.
    public var rideId: String
    /// The pickup zone as requested.
    public var pickupZone: String
    /// Why.
    public var reason: RideRejection
    /// A human-readable detail.
    public var detail: String
    /// When.
    public var rejectedAt: Date

    /// Creates the event.
    public init(rideId: String, pickupZone: String, reason: RideRejection, detail: String, rejectedAt: Date) {
        self.rideId = rideId
        self.pickupZone = pickupZone
        self.reason = reason
        self.detail = detail
        self.rejectedAt = rejectedAt
    }
}

/// The driver's position dispatch matched on (so the match can be checked against the log).
public struct DriverFix: Codable, Sendable, Hashable {
    /// Where.
    public var point: GeoPoint
    /// The location report's time.
    public var reportedAt: Date

    /// Creates a fix.
    public init(point: GeoPoint, reportedAt: Date) {
        self.point = point
        self.reportedAt = reportedAt
    }
}

/// `rides.ride.matched`: dispatch gave a request its driver, marking the driver busy in the same transaction.
public struct RideMatched: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.ride.matched"
    /// The ride.
    public var rideId: String
    /// The rider.
    public var riderId: String
    /// The pickup zone.
    public var pickupZone: String
    /// The driver.
    public var driverId: String
    /// The driver's vehicle.
    public var vehicle: RideType
    /// The driver's position dispatch used.
    public var driverFix: DriverFix
    /// Driver to pickup, in km.
    public var pickupKm: Double
    /// Estimated seconds until pickup.
    public var etaSeconds: Int
    /// Pickup to drop, in km.
    public var tripKm: Double
    /// The surge multiplier in force in the zone.
    public var multiplier: Double
    /// The surge window it comes from (nil: no surge result yet, 1.0).
    public var surgeWindowStart: Date?
    /// The fare estimate in paise.
    public var fareEstimatePaise: Int
    /// When the rider asked.
    public var requestedAt: Date
    /// When.
    public var matchedAt: Date

    /// Creates the event.
    public init(
        rideId: String, riderId: String, pickupZone: String, driverId: String, vehicle: RideType, driverFix: DriverFix,
        pickupKm: Double, etaSeconds: Int, tripKm: Double, multiplier: Double, surgeWindowStart: Date?,
        fareEstimatePaise: Int, requestedAt: Date, matchedAt: Date
    ) {
        self.rideId = rideId
        self.riderId = riderId
        self.pickupZone = pickupZone
        self.driverId = driverId
        self.vehicle = vehicle
        self.driverFix = driverFix
        self.pickupKm = pickupKm
        self.etaSeconds = etaSeconds
        self.tripKm = tripKm
        self.multiplier = multiplier
        self.surgeWindowStart = surgeWindowStart
        self.fareEstimatePaise = fareEstimatePaise
        self.requestedAt = requestedAt
        self.matchedAt = matchedAt
    }
}

/// `rides.ride.expired`: no driver matched before the request's deadline.
public struct RideExpired: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.ride.expired"
    /// The ride.
    public var rideId: String
    /// The pickup zone.
    public var pickupZone: String
    /// The deadline.
    public var deadline: Date
    /// When.
    public var expiredAt: Date

    /// Creates the event.
    public init(rideId: String, pickupZone: String, deadline: Date, expiredAt: Date) {
        self.rideId = rideId
        self.pickupZone = pickupZone
        self.deadline = deadline
        self.expiredAt = expiredAt
    }
}

/// `rides.ride.cancel-requested`: the rider gives up waiting (only a request not yet matched can be cancelled).
public struct RideCancelRequested: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.ride.cancel-requested"
    /// The ride.
    public var rideId: String
    /// The pickup zone.
    public var pickupZone: String
    /// The rider.
    public var riderId: String
    /// When.
    public var requestedAt: Date

    /// Creates the event.
    public init(rideId: String, pickupZone: String, riderId: String, requestedAt: Date) {
        self.rideId = rideId
        self.pickupZone = pickupZone
        self.riderId = riderId
        self.requestedAt = requestedAt
    }
}

/// `rides.ride.cancelled`: dispatch cancelled a request at its rider's wish, or refused to (`matched`: a driver is
/// already on the way).
public struct RideCancelled: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.ride.cancelled"
    /// The ride.
    public var rideId: String
    /// The pickup zone.
    public var pickupZone: String
    /// Whether the ride is cancelled (false: it was already matched, expired or cancelled, and stays so).
    public var cancelled: Bool
    /// The ride's state when the cancellation arrived (`open`, `matched`, `started`, `completed`, `expired`,
    /// `cancelled`, `rejected`, or `unknown` for a ride dispatch never received).
    public var stateBefore: String
    /// When.
    public var decidedAt: Date

    /// Creates the event.
    public init(rideId: String, pickupZone: String, cancelled: Bool, stateBefore: String, decidedAt: Date) {
        self.rideId = rideId
        self.pickupZone = pickupZone
        self.cancelled = cancelled
        self.stateBefore = stateBefore
        self.decidedAt = decidedAt
    }
}

/// `rides.trip.started`: the driver picked the rider up.
public struct TripStarted: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.trip.started"
    /// The ride.
    public var rideId: String
    /// The pickup zone.
    public var pickupZone: String
    /// The driver.
    public var driverId: String
    /// When.
    public var startedAt: Date

    /// Creates the event.
    public init(rideId: String, pickupZone: String, driverId: String, startedAt: Date) {
        self.rideId = rideId
        self.pickupZone = pickupZone
        self.driverId = driverId
        self.startedAt = startedAt
    }
}

/// `rides.trip.completed`: the rider was dropped; the fare is final and the driver is free again.
public struct TripCompleted: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.trip.completed"
    /// The ride.
    public var rideId: String
    /// The pickup zone.
    public var pickupZone: String
    /// The driver.
    public var driverId: String
    /// The ride type.
    public var vehicle: RideType
    /// Pickup to drop, in km.
    public var tripKm: Double
    /// The multiplier of the match.
    public var multiplier: Double
    /// The fare in paise.
    public var farePaise: Int
    /// When.
    public var completedAt: Date

    /// Creates the event.
    public init(
        rideId: String, pickupZone: String, driverId: String, vehicle: RideType, tripKm: Double, multiplier: Double,
        farePaise: Int, completedAt: Date
    ) {
        self.rideId = rideId
        self.pickupZone = pickupZone
        self.driverId = driverId
        self.vehicle = vehicle
        self.tripKm = tripKm
        self.multiplier = multiplier
        self.farePaise = farePaise
        self.completedAt = completedAt
    }
}

/// `rides.zone.activity`: what the surge windows count, from dispatch: a request (`requests` 1), an expiry
/// (`unmatched` 1) or a sample of the zone's free drivers (`freeDrivers`).
public struct ZoneActivity: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.zone.activity"
    /// The zone.
    public var pickupZone: String
    /// Requests (0 or 1).
    public var requests: Int
    /// Requests that expired unmatched (0 or 1).
    public var unmatched: Int
    /// Free drivers in the zone now, for a sample.
    public var freeDrivers: Int?

    /// Creates the event.
    public init(pickupZone: String, requests: Int = 0, unmatched: Int = 0, freeDrivers: Int? = nil) {
        self.pickupZone = pickupZone
        self.requests = requests
        self.unmatched = unmatched
        self.freeDrivers = freeDrivers
    }
}

/// `rides.surge.updated`: one zone's surge result for one closed window: demand, supply, unmatched and the
/// multiplier they give (``RideRules/multiplier(demand:supply:unmatched:)``), in force from now in the zone.
public struct SurgeUpdated: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.surge.updated"
    /// The zone.
    public var pickupZone: String
    /// The window's start.
    public var windowStart: Date
    /// The window's end (exclusive).
    public var windowEnd: Date
    /// Requests in the window.
    public var demand: Int
    /// Free drivers at the window's last sample (0 without one).
    public var supply: Int
    /// Requests that expired unmatched in the window.
    public var unmatched: Int
    /// The multiplier, in [1, 3].
    public var multiplier: Double

    /// Creates the event.
    public init(
        pickupZone: String, windowStart: Date, windowEnd: Date, demand: Int, supply: Int, unmatched: Int,
        multiplier: Double
    ) {
        self.pickupZone = pickupZone
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.demand = demand
        self.supply = supply
        self.unmatched = unmatched
        self.multiplier = multiplier
    }
}

/// `rides.ride.expiry-due`: dispatch's durable timer at a request's deadline (never a record of a topic).
public struct RideExpiryDue: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.ride.expiry-due"
    /// The ride.
    public var rideId: String
    /// The pickup zone.
    public var pickupZone: String

    /// Creates the event.
    public init(rideId: String, pickupZone: String) {
        self.rideId = rideId
        self.pickupZone = pickupZone
    }
}

/// `rides.zone.sample-due`: dispatch's durable timer for a zone's next supply sample (never a record of a topic).
public struct SupplySampleDue: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.zone.sample-due"
    /// The zone.
    public var pickupZone: String

    /// Creates the event.
    public init(pickupZone: String) { self.pickupZone = pickupZone }
}

/// `rides.trip.progress-due`: the trips service's durable timer for a matched ride's next step (pickup, then drop).
public struct TripProgressDue: ZoneEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.trip.progress-due"
    /// The ride.
    public var rideId: String
    /// The pickup zone.
    public var pickupZone: String

    /// Creates the event.
    public init(rideId: String, pickupZone: String) {
        self.rideId = rideId
        self.pickupZone = pickupZone
    }
}

/// `rides.driver.location-updated`: a driver's app reports where it is and whether the driver takes rides (every
/// 2 s), on the compacted `rides.drivers`, keyed by driver: the latest one per driver is the driver's state.
public struct DriverLocationUpdated: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "rides.driver.location-updated"
    /// The driver.
    public var driverId: String
    /// The vehicle.
    public var vehicle: RideType
    /// The driver's rating (1–5).
    public var rating: Double
    /// Where.
    public var position: GeoPoint
    /// Whether the driver takes rides (false: off duty, or gone offline).
    public var onDuty: Bool
    /// The phone's time of the fix (a stale one is older than the last).
    public var reportedAt: Date

    /// Creates the event.
    public init(driverId: String, vehicle: RideType, rating: Double, position: GeoPoint, onDuty: Bool, reportedAt: Date) {
        self.driverId = driverId
        self.vehicle = vehicle
        self.rating = rating
        self.position = position
        self.onDuty = onDuty
        self.reportedAt = reportedAt
    }

    /// The driver.
    public var partitionKey: String? { driverId }
}
