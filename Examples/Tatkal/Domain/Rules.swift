import DemoKit
import Foundation

/// When Tatkal booking is open: from `opensAt` ("10:00") until `closesAt`.
public struct BookingWindow: Sendable, Hashable {
    /// The opening.
    public var opensAt: Date
    /// The closing.
    public var closesAt: Date

    /// Creates a window.
    public init(opensAt: Date, closesAt: Date) {
        self.opensAt = opensAt
        self.closesAt = closesAt
    }

    /// Whether a request made at `time` is in the window.
    public func contains(_ time: Date) -> Bool { time >= opensAt && time < closesAt }
}

/// What the gate decides for a request.
public enum GateDecision: Sendable, Hashable {
    /// Admitted, with the inventory's class, its fare and seats wanted.
    case admit(farePaise: Int, passengers: Int)
    /// Refused, with the reason, a detail and (at capacity) when to retry.
    case reject(TatkalRejection, String, retryAfterSeconds: Int?)
}

/// The gate's checks: the window, the train and class, the passengers, and admission: an inventory admits at most
/// its quota plus an equal waitlist in passengers holding, booked or waiting, since a request beyond that can neither
/// get a seat nor wait for one; such requests are refused `at_capacity` with a retry-after of one hold period
/// (unpaid holds give their places back).
public struct GateRules: Sendable {
    /// The trains.
    public var reference: TatkalReference
    /// The window.
    public var window: BookingWindow
    /// Passengers allowed per request.
    public var maxPassengers = 4
    /// The waitlist's length as a multiple of the quota.
    public var waitlistFactor = 1
    /// The hold period (the retry-after of `at_capacity`).
    public var holdSeconds = 300

    /// Creates the rules.
    public init(reference: TatkalReference = .standard, window: BookingWindow) {
        self.reference = reference
        self.window = window
    }

    /// The most passengers an inventory admits (quota + waitlist).
    public func admissionLimit(_ travelClass: TrainClass) -> Int { travelClass.quota * (1 + waitlistFactor) }

    /// Decides a request.
    /// - Parameters:
    ///   - request: The request.
    ///   - admittedPassengers: Passengers admitted to the request's inventory that still hold, booked or wait.
    /// - Returns: Admit (with the fare) or reject.
    public func decide(_ request: BookingRequested, admittedPassengers: Int) -> GateDecision {
        guard window.contains(request.requestedAt) else {
            return .reject(.windowClosed, "Tatkal booking is open from \(window.opensAt) to \(window.closesAt)", retryAfterSeconds: nil)
        }
        guard let train = reference.trains[request.trainNumber], request.journeyDate == reference.journeyDate else {
            return .reject(
                .unknownTrain, "no train \(request.trainNumber) on \(request.journeyDate)", retryAfterSeconds: nil)
        }
        guard let travelClass = train.classes.first(where: { $0.code == request.travelClass }) else {
            return .reject(
                .classNotOnTrain,
                "\(train.number) has \(train.classes.map(\.code).joined(separator: ", ")), not \(request.travelClass)",
                retryAfterSeconds: nil)
        }
        guard (1...maxPassengers).contains(request.passengers.count) else {
            return .reject(
                .invalidPassengers, "\(request.passengers.count) passengers: 1 to \(maxPassengers) per request",
                retryAfterSeconds: nil)
        }
        if let passenger = request.passengers.first(where: { !(1...125).contains($0.age) || $0.name.isEmpty }) {
            return .reject(
                .invalidPassengers, "passenger '\(passenger.name)' aged \(passenger.age)", retryAfterSeconds: nil)
        }
        let limit = admissionLimit(travelClass)
        guard admittedPassengers + request.passengers.count <= limit else {
            return .reject(
                .atCapacity, "\(request.inventory) admitted \(admittedPassengers) of \(limit) passengers (seats and waitlist)",
                retryAfterSeconds: holdSeconds)
        }
        return .admit(
            farePaise: TatkalFares.total(travelClass, distanceKm: train.distanceKm, passengers: request.passengers.count),
            passengers: request.passengers.count)
    }
}

/// What a passenger does with a hold, decided from the request id: pays in time, pays too late, abandons, or is
/// declined by the gateway; and which gateway.
public struct PassengerBehaviour: Sendable, Hashable {
    /// What happens.
    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// Pays within the hold.
        case pays
        /// Pays after the hold expired (the payment is refunded).
        case paysLate = "pays_late"
        /// Never pays (the hold expires).
        case abandons
        /// The gateway declines the payment.
        case declined
    }

    /// The outcome.
    public var outcome: Outcome
    /// The gateway (`gw-a`, `gw-b`).
    public var gateway: String
    /// After how many seconds of the hold (unscaled) the passenger pays.
    public var paysAfterSeconds: Int

    /// The behaviour for a request: about 70 % pay within the hold, 10 % abandon, 8 % are declined, 12 % pay late.
    public static func of(requestId: String, holdSeconds: Int = 300) -> PassengerBehaviour {
        let hash = stableHash("passenger:" + requestId)
        let roll = Int(hash % 100)
        let gateway = (hash >> 8) % 3 == 0 ? "gw-b" : "gw-a"
        let within = Int((hash >> 16) % UInt64(holdSeconds * 8 / 10)) + holdSeconds / 20
        switch roll {
        case 0..<10: return PassengerBehaviour(outcome: .abandons, gateway: gateway, paysAfterSeconds: 0)
        case 10..<18: return PassengerBehaviour(outcome: .declined, gateway: gateway, paysAfterSeconds: within)
        case 18..<30:
            return PassengerBehaviour(
                outcome: .paysLate, gateway: gateway, paysAfterSeconds: holdSeconds + holdSeconds / 5 + within / 4)
        default: return PassengerBehaviour(outcome: .pays, gateway: gateway, paysAfterSeconds: within)
        }
    }
}
