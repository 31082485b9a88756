import DabbaEvents
import Foundation

/// An event of one Tatkal inventory (a train, date and class): keyed by the inventory, so every request, hold,
/// payment and promotion of one inventory is on one partition and seat allocation is serial by construction.
public protocol InventoryEvent: Event {
    /// The train number (`12951`).
    var trainNumber: String { get }
    /// The journey date (`2026-12-08`).
    var journeyDate: String { get }
    /// The class (`3A`).
    var travelClass: String { get }
}

extension InventoryEvent {
    /// `<train>/<date>/<class>`.
    public var inventory: String { InventoryKey.make(trainNumber, journeyDate, travelClass) }
    /// The inventory.
    public var partitionKey: String? { inventory }
}

/// The key of an inventory.
public enum InventoryKey {
    /// `<train>/<date>/<class>`.
    public static func make(_ train: String, _ date: String, _ travelClass: String) -> String {
        "\(train)/\(date)/\(travelClass)"
    }
}

/// A passenger of a request.
public struct Passenger: Codable, Sendable, Hashable {
    /// The name as on the ID.
    public var name: String
    /// Age in years.
    public var age: Int

    /// Creates a passenger.
    public init(name: String, age: Int) {
        self.name = name
        self.age = age
    }
}

/// `tatkal.booking.requested`: a user asks for seats (1–4 passengers; the gate checks everything).
public struct BookingRequested: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.booking.requested"
    /// The user's request id (a refresh sends the same one again).
    public var requestId: String
    /// The user.
    public var userId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// The passengers.
    public var passengers: [Passenger]
    /// When the user sent it.
    public var requestedAt: Date

    /// Creates the event.
    public init(
        requestId: String, userId: String, trainNumber: String, journeyDate: String, travelClass: String,
        passengers: [Passenger], requestedAt: Date
    ) {
        self.requestId = requestId
        self.userId = userId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.passengers = passengers
        self.requestedAt = requestedAt
    }
}

/// Why the gate refused a request.
public enum TatkalRejection: String, Codable, Sendable, CaseIterable {
    /// Before the Tatkal window opened or after it closed.
    case windowClosed = "window_closed"
    /// No such train on that date.
    case unknownTrain = "unknown_train"
    /// The train has no such class.
    case classNotOnTrain = "class_not_on_train"
    /// More than four passengers, or an age out of range.
    case invalidPassengers = "invalid_passengers"
    /// The inventory's seats and waitlist are taken by requests ahead: retry after `retryAfterSeconds`.
    case atCapacity = "at_capacity"
}

/// `tatkal.booking.rejected`: the gate refused a request; nothing was held.
public struct BookingRejected: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.booking.rejected"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// Why.
    public var reason: TatkalRejection
    /// A human-readable detail.
    public var detail: String
    /// For `at_capacity`: when unpaid holds may have freed places.
    public var retryAfterSeconds: Int?
    /// When.
    public var rejectedAt: Date

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, reason: TatkalRejection,
        detail: String, retryAfterSeconds: Int? = nil, rejectedAt: Date
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.reason = reason
        self.detail = detail
        self.retryAfterSeconds = retryAfterSeconds
        self.rejectedAt = rejectedAt
    }
}

/// `tatkal.booking.admitted`: the gate passed a request to the inventory, with its fare.
public struct BookingAdmitted: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.booking.admitted"
    /// The request.
    public var requestId: String
    /// The user.
    public var userId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// How many seats.
    public var passengers: Int
    /// The total fare in paise (Tatkal charge included).
    public var farePaise: Int
    /// When the user sent it.
    public var requestedAt: Date
    /// When.
    public var admittedAt: Date

    /// Creates the event.
    public init(
        requestId: String, userId: String, trainNumber: String, journeyDate: String, travelClass: String,
        passengers: Int, farePaise: Int, requestedAt: Date, admittedAt: Date
    ) {
        self.requestId = requestId
        self.userId = userId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.passengers = passengers
        self.farePaise = farePaise
        self.requestedAt = requestedAt
        self.admittedAt = admittedAt
    }
}

/// What a hold is: seats, fare and expiry (carried by ``SeatsHeld`` and ``WaitlistPromoted``).
public struct Hold: Codable, Sendable, Hashable {
    /// The seats (`B2-17`).
    public var seats: [String]
    /// The fare in paise.
    public var farePaise: Int
    /// When the hold expires unless paid.
    public var expiresAt: Date

    /// Creates a hold.
    public init(seats: [String], farePaise: Int, expiresAt: Date) {
        self.seats = seats
        self.farePaise = farePaise
        self.expiresAt = expiresAt
    }
}

/// `tatkal.seats.held`: the inventory held seats for an admitted request while the passenger pays.
public struct SeatsHeld: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.seats.held"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// The hold.
    public var hold: Hold
    /// When.
    public var heldAt: Date

    /// Creates the event.
    public init(requestId: String, trainNumber: String, journeyDate: String, travelClass: String, hold: Hold, heldAt: Date) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.hold = hold
        self.heldAt = heldAt
    }
}

/// `tatkal.booking.waitlisted`: no seats for the request now; it waits in line.
public struct BookingWaitlisted: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.booking.waitlisted"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// How many seats it needs.
    public var passengers: Int
    /// Its place in the waitlist (1 = next), when it joined.
    public var position: Int
    /// When.
    public var waitlistedAt: Date

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, passengers: Int, position: Int,
        waitlistedAt: Date
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.passengers = passengers
        self.position = position
        self.waitlistedAt = waitlistedAt
    }
}

/// `tatkal.waitlist.promoted`: seats freed by an expired or failed hold went to the head of the waitlist.
public struct WaitlistPromoted: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.waitlist.promoted"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// The hold it now has.
    public var hold: Hold
    /// When.
    public var promotedAt: Date

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, hold: Hold, promotedAt: Date
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.hold = hold
        self.promotedAt = promotedAt
    }
}

/// `tatkal.payment.succeeded`: the passenger paid for a hold (possibly after it expired).
public struct TatkalPaymentSucceeded: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.payment.succeeded"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// The amount in paise.
    public var amountPaise: Int
    /// The payment gateway.
    public var gateway: String
    /// When.
    public var paidAt: Date

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, amountPaise: Int,
        gateway: String, paidAt: Date
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.amountPaise = amountPaise
        self.gateway = gateway
        self.paidAt = paidAt
    }
}

/// `tatkal.payment.failed`: the gateway declined the passenger's payment; the hold is released.
public struct TatkalPaymentFailed: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.payment.failed"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// The gateway.
    public var gateway: String
    /// Why (`declined`).
    public var reason: String
    /// When.
    public var failedAt: Date

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, gateway: String,
        reason: String, failedAt: Date
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.gateway = gateway
        self.reason = reason
        self.failedAt = failedAt
    }
}

/// `tatkal.booking.confirmed`: paid within the hold: the seats are booked under a PNR.
public struct BookingConfirmed: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.booking.confirmed"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// The PNR.
    public var pnr: String
    /// The seats.
    public var seats: [String]
    /// The fare in paise.
    public var farePaise: Int
    /// When the seats were first held (for hold-to-confirmation time).
    public var heldAt: Date
    /// When.
    public var confirmedAt: Date

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, pnr: String, seats: [String],
        farePaise: Int, heldAt: Date, confirmedAt: Date
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.pnr = pnr
        self.seats = seats
        self.farePaise = farePaise
        self.heldAt = heldAt
        self.confirmedAt = confirmedAt
    }
}

/// `tatkal.hold.expired`: a hold was not paid in time; its seats went back (to the waitlist first).
public struct HoldExpired: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.hold.expired"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// The seats released.
    public var seats: [String]
    /// When the hold was due to expire.
    public var dueAt: Date
    /// When it expired.
    public var expiredAt: Date

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, seats: [String], dueAt: Date,
        expiredAt: Date
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.seats = seats
        self.dueAt = dueAt
        self.expiredAt = expiredAt
    }
}

/// `tatkal.hold.released`: the gateway declined a held request's payment; its seats went back (to the waitlist
/// first). Emitted by the inventory where it decided, so the log shows the seats' order of events.
public struct HoldReleased: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.hold.released"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// The seats released.
    public var seats: [String]
    /// Why (`payment_failed`).
    public var reason: String
    /// When.
    public var releasedAt: Date

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, seats: [String],
        reason: String, releasedAt: Date
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.seats = seats
        self.reason = reason
        self.releasedAt = releasedAt
    }
}

/// `tatkal.places.released`: the inventory gives admission places back to the gate (an unpaid hold expired, a
/// payment was declined). On `tatkal.requests`, keyed by inventory like the requests, so the gate reads releases and
/// requests of one inventory in one order and decides the same way when it handles them again.
public struct PlacesReleased: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.places.released"
    /// The request whose places they were.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// How many passengers' places.
    public var passengers: Int
    /// When.
    public var releasedAt: Date

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, passengers: Int,
        releasedAt: Date
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.passengers = passengers
        self.releasedAt = releasedAt
    }
}

/// `tatkal.refund.requested`: a payment arrived after its hold expired (or for a request that holds nothing):
/// the money goes back.
public struct TatkalRefundRequested: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.refund.requested"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// The amount in paise.
    public var amountPaise: Int
    /// Why (`late_payment`).
    public var reason: String
    /// When.
    public var requestedAt: Date

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, amountPaise: Int,
        reason: String, requestedAt: Date
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.amountPaise = amountPaise
        self.reason = reason
        self.requestedAt = requestedAt
    }
}

/// `tatkal.chart.requested`: the operator (the demo) asks for an inventory's chart.
public struct ChartRequested: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.chart.requested"
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// When.
    public var requestedAt: Date

    /// Creates the event.
    public init(trainNumber: String, journeyDate: String, travelClass: String, requestedAt: Date) {
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.requestedAt = requestedAt
    }
}

/// `tatkal.chart.prepared`: the inventory is closed: what is booked stays, the remaining waitlist is not confirmed.
public struct ChartPrepared: InventoryEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "tatkal.chart.prepared"
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// Seats booked.
    public var bookedSeats: Int
    /// The requests still waitlisted, now not confirmed, in waitlist order.
    public var notConfirmed: [String]
    /// When.
    public var preparedAt: Date

    /// Creates the event.
    public init(
        trainNumber: String, journeyDate: String, travelClass: String, bookedSeats: Int, notConfirmed: [String],
        preparedAt: Date
    ) {
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.bookedSeats = bookedSeats
        self.notConfirmed = notConfirmed
        self.preparedAt = preparedAt
    }
}

/// The inventory's durable timer event: a hold is due to expire (never on a topic: see Docs/time-and-state.md).
public struct HoldExpiryDue: InventoryEvent, Hashable {
    /// The event type name.
    public static let eventType = "tatkal.hold.expiry-due"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String

    /// Creates the event.
    public init(requestId: String, trainNumber: String, journeyDate: String, travelClass: String) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
    }
}

/// The payments service's durable timer event: the passenger is about to pay (never on a topic).
public struct PaymentAttemptDue: InventoryEvent, Hashable {
    /// The event type name.
    public static let eventType = "tatkal.payment.attempt-due"
    /// The request.
    public var requestId: String
    /// The train.
    public var trainNumber: String
    /// The journey date.
    public var journeyDate: String
    /// The class.
    public var travelClass: String
    /// The amount in paise.
    public var amountPaise: Int
    /// The gateway the passenger uses.
    public var gateway: String
    /// 1 for the first try; more while the gateway is down.
    public var attempt: Int

    /// Creates the event.
    public init(
        requestId: String, trainNumber: String, journeyDate: String, travelClass: String, amountPaise: Int,
        gateway: String, attempt: Int
    ) {
        self.requestId = requestId
        self.trainNumber = trainNumber
        self.journeyDate = journeyDate
        self.travelClass = travelClass
        self.amountPaise = amountPaise
        self.gateway = gateway
        self.attempt = attempt
    }
}
