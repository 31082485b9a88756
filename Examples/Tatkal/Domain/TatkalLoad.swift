import DemoKit
import Foundation

/// One request of a load, or a user's refresh of one already sent.
public struct TatkalRequest: Sendable, Hashable {
    /// The event.
    public var event: BookingRequested
    /// 1 for the first send, 2 for a refresh (same request id, a new record).
    public var submission: Int

    /// Creates a request.
    public init(event: BookingRequested, submission: Int) {
        self.event = event
        self.submission = submission
    }

    /// The record's event id.
    public var eventID: String { "\(event.requestId)/requested/\(submission)" }
}

/// A deterministic burst of Tatkal requests: most for the Rajdhani's 3A and the Shatabdi's CC, 1–4 passengers each,
/// with refreshes (the same request id again), unknown trains, classes not on the train and invalid passengers.
public struct TatkalLoad: Sendable {
    /// Distinct requests.
    public var requests: Int
    /// The seed.
    public var seed: UInt64
    /// The request ids' prefix.
    public var runID: String
    /// The trains.
    public var reference: TatkalReference

    /// Creates a load.
    public init(requests: Int, seed: UInt64 = 10, runID: String = "REQ", reference: TatkalReference = .standard) {
        self.requests = requests
        self.seed = seed
        self.runID = runID
        self.reference = reference
    }

    /// The requests in sending order, stamped with `time` (the demo stamps them again when it sends them).
    public func requests(at time: Date = Date(timeIntervalSince1970: 0)) -> [TatkalRequest] {
        var random = SeededGenerator(seed: seed)
        let inventories = reference.inventories
        // Popularity: 3A and CC are most wanted.
        let weights = inventories.map { entry -> Int in
            switch entry.travelClass.code {
            case "3A": 40
            case "CC": 25
            case "2A": 15
            case "EC": 10
            default: 10
            }
        }
        let total = weights.reduce(0, +)
        var result: [TatkalRequest] = []
        result.reserveCapacity(requests + requests / 40)
        for index in 1...max(1, requests) {
            var pick = Int.random(in: 0..<total, using: &random)
            var chosen = 0
            for (position, weight) in weights.enumerated() {
                if pick < weight {
                    chosen = position
                    break
                }
                pick -= weight
            }
            let inventory = inventories[chosen]
            let count = [1, 1, 2, 2, 2, 3, 4][Int.random(in: 0..<7, using: &random)]
            var passengers = (0..<count).map { seat in
                Passenger(name: "Passenger \(index)-\(seat + 1)", age: Int.random(in: 5...80, using: &random))
            }
            var train = inventory.train.number
            var travelClass = inventory.travelClass.code
            switch Int.random(in: 0..<1000, using: &random) {
            case 0: train = "99999"
            case 1: travelClass = train == "12951" ? "CC" : "3A"
            case 2: passengers += [Passenger(name: "Extra", age: 30), Passenger(name: "Extra", age: 31), Passenger(name: "Extra", age: 32), Passenger(name: "Extra", age: 33)]
            case 3: passengers[0].age = 0
            default: break
            }
            let request = BookingRequested(
                requestId: "\(runID)\(String(format: "%06d", index))", userId: "user\(Int.random(in: 1...40_000, using: &random))",
                trainNumber: train, journeyDate: reference.journeyDate, travelClass: travelClass, passengers: passengers,
                requestedAt: time)
            result.append(TatkalRequest(event: request, submission: 1))
            // A user refreshing: the same request again.
            if Int.random(in: 0..<50, using: &random) == 0 { result.append(TatkalRequest(event: request, submission: 2)) }
        }
        return result
    }

    /// The distinct request ids, in first-sent order.
    public static func distinct(_ requests: some Sequence<TatkalRequest>) -> [String] {
        var seen = Set<String>()
        return requests.compactMap { seen.insert($0.event.requestId).inserted ? $0.event.requestId : nil }
    }
}
