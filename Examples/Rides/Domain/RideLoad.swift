import DemoKit
import Foundation

/// A deterministic stream of ride requests: pickups around a zone's centre, drops in another zone, ride types
/// weighted (auto 30%, mini 40%, sedan 20%, SUV 10%), and one in fifty malformed (coordinates outside Mumbai, an
/// unknown zone or an unknown ride type).
public struct RideLoad: Sendable {
    /// The zones.
    public var reference: RideReference
    /// The seed.
    public var seed: UInt64
    /// The ride ids' prefix.
    public var runID: String

    /// Creates a load.
    public init(reference: RideReference = .standard, seed: UInt64, runID: String) {
        self.reference = reference
        self.seed = seed
        self.runID = runID
    }

    /// `count` requests, picked up in `zone` (nil: any zone), stamped with `time` (the sender stamps them again).
    public func requests(count: Int, in zone: String? = nil, at time: Date = Date(timeIntervalSince1970: 0))
        -> [RideRequested]
    {
        var random = SeededGenerator(seed: seed)
        let types = ["auto", "auto", "auto", "mini", "mini", "mini", "mini", "sedan", "sedan", "suv"]
        return (1...max(1, count)).map { index in
            let pickupZone = zone.flatMap(reference.zone) ?? reference.zones[Int.random(in: 0..<reference.zones.count, using: &random)]
            var drop = reference.zones[Int.random(in: 0..<reference.zones.count, using: &random)]
            if drop == pickupZone { drop = reference.zones[((reference.zones.firstIndex(of: drop) ?? 0) + 1) % reference.zones.count] }
            var request = RideRequested(
                rideId: "\(runID)\(String(format: "%06d", index))", riderId: "rider\(Int.random(in: 1...50_000, using: &random))",
                pickupZone: pickupZone.name, pickup: Self.near(pickupZone.centre, within: 1.5, using: &random),
                dropZone: drop.name, drop: Self.near(drop.centre, within: 1.5, using: &random),
                rideType: types[Int.random(in: 0..<types.count, using: &random)], requestedAt: time)
            if Int.random(in: 0..<50, using: &random) == 0 {
                switch index % 3 {
                case 0: request.pickup.latitude = 999
                case 1: request.pickupZone = "Atlantis"
                default: request.rideType = "rickshaw-xl"
                }
            }
            return request
        }
    }

    /// A point within `km` of `centre`.
    public static func near(_ centre: GeoPoint, within km: Double, using random: inout SeededGenerator) -> GeoPoint {
        let distance = Double.random(in: 0...km, using: &random)
        let bearing = Double.random(in: 0..<(2 * .pi), using: &random)
        return GeoPoint(
            latitude: centre.latitude + distance / 111.0 * cos(bearing),
            longitude: centre.longitude + distance / (111.0 * cos(centre.latitude * .pi / 180)) * sin(bearing))
    }
}
