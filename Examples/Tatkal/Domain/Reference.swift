import DemoKit
import Foundation

/// A class of a train with its Tatkal quota.
public struct TrainClass: Sendable, Hashable {
    /// The class code (`3A`).
    public var code: String
    /// Tatkal seats on the journey date (scaled up from the real quota so the burst really holds, expires and
    /// promotes).
    public var quota: Int
    /// Seats per coach, for seat numbers.
    public var seatsPerCoach: Int
    /// The coach letter (`B` for 3A: `B1-17`).
    public var coachLetter: String
    /// The base fare per kilometre, in paise.
    public var paisePerKm: Int
    /// The Tatkal charge per passenger: a share of the base fare within a minimum and a maximum, in paise.
    public var tatkalShare: Double
    /// The minimum Tatkal charge.
    public var tatkalMinPaise: Int
    /// The maximum Tatkal charge.
    public var tatkalMaxPaise: Int
}

/// A train on the journey date.
public struct Train: Sendable, Hashable {
    /// The number (`12951`).
    public var number: String
    /// The name.
    public var name: String
    /// The distance travelled, in km.
    public var distanceKm: Int
    /// Its classes.
    public var classes: [TrainClass]
}

/// The seeded trains of the demo: 12951 Mumbai Central – New Delhi Rajdhani (1A, 2A, 3A) and 12002 Bhopal – New
/// Delhi Shatabdi (EC, CC), on one journey date.
public struct TatkalReference: Sendable {
    /// The journey date.
    public let journeyDate: String
    /// The trains by number.
    public let trains: [String: Train]

    /// The demo's trains, for the day after the demo's "today".
    public static let standard = TatkalReference(
        journeyDate: "2026-12-08",
        trains: [
            Train(
                number: "12951", name: "Mumbai Central – New Delhi Rajdhani", distanceKm: 1386,
                classes: [
                    TrainClass(
                        code: "1A", quota: 24, seatsPerCoach: 24, coachLetter: "H", paisePerKm: 400, tatkalShare: 0.3,
                        tatkalMinPaise: 40_000, tatkalMaxPaise: 50_000),
                    TrainClass(
                        code: "2A", quota: 96, seatsPerCoach: 48, coachLetter: "A", paisePerKm: 240, tatkalShare: 0.3,
                        tatkalMinPaise: 40_000, tatkalMaxPaise: 50_000),
                    TrainClass(
                        code: "3A", quota: 240, seatsPerCoach: 64, coachLetter: "B", paisePerKm: 170, tatkalShare: 0.3,
                        tatkalMinPaise: 30_000, tatkalMaxPaise: 40_000),
                ]),
            Train(
                number: "12002", name: "Bhopal – New Delhi Shatabdi", distanceKm: 707,
                classes: [
                    TrainClass(
                        code: "EC", quota: 48, seatsPerCoach: 56, coachLetter: "E", paisePerKm: 260, tatkalShare: 0.3,
                        tatkalMinPaise: 40_000, tatkalMaxPaise: 50_000),
                    TrainClass(
                        code: "CC", quota: 192, seatsPerCoach: 78, coachLetter: "C", paisePerKm: 130, tatkalShare: 0.3,
                        tatkalMinPaise: 10_000, tatkalMaxPaise: 15_000),
                ]),
        ].reduce(into: [:]) { $0[$1.number] = $1 })

    /// Creates reference data.
    public init(journeyDate: String, trains: [String: Train]) {
        self.journeyDate = journeyDate
        self.trains = trains
    }

    /// Every inventory (train, date, class) with its train and class, in key order.
    public var inventories: [(key: String, train: Train, travelClass: TrainClass)] {
        trains.values.flatMap { train in
            train.classes.map { (InventoryKey.make(train.number, journeyDate, $0.code), train, $0) }
        }.sorted { $0.key < $1.key }
    }

    /// The class of a train on the journey date.
    public func travelClass(train: String, date: String, code: String) -> TrainClass? {
        guard date == journeyDate else { return nil }
        return trains[train]?.classes.first { $0.code == code }
    }

    /// The seat numbers of a class, in allocation order (`B1-1` … `B4-48`).
    public static func seats(of travelClass: TrainClass) -> [String] {
        (0..<travelClass.quota).map { index in
            "\(travelClass.coachLetter)\(index / travelClass.seatsPerCoach + 1)-\(index % travelClass.seatsPerCoach + 1)"
        }
    }
}

/// Fares: the base fare by class and distance plus the Tatkal charge, per passenger.
public enum TatkalFares {
    /// The fare of one passenger, in paise.
    public static func perPassenger(_ travelClass: TrainClass, distanceKm: Int) -> Int {
        let base = travelClass.paisePerKm * distanceKm
        let charge = Int((Double(base) * travelClass.tatkalShare).rounded())
        let tatkal = min(travelClass.tatkalMaxPaise, max(travelClass.tatkalMinPaise, charge))
        // Fares are in whole rupees.
        return (base + tatkal + 50) / 100 * 100
    }

    /// The fare of a request.
    public static func total(_ travelClass: TrainClass, distanceKm: Int, passengers: Int) -> Int {
        perPassenger(travelClass, distanceKm: distanceKm) * passengers
    }
}


/// The PNR of a confirmed request: ten digits, derived from the request id.
public func pnr(for requestId: String) -> String {
    String(format: "%010llu", stableHash("pnr:" + requestId) % 10_000_000_000)
}
