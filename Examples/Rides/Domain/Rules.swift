import DemoKit
import Foundation

/// A pickup zone of the service: a name and its centre.
public struct Zone: Sendable, Hashable {
    /// The name (`BKC`).
    public var name: String
    /// Its centre.
    public var centre: GeoPoint
}

/// The zones, the drivers and the rules of the example, the same in every process.
public struct RideReference: Sendable {
    /// The zones.
    public let zones: [Zone]
    /// How many drivers: `d0001` … .
    public let driverCount: Int

    /// Eight Mumbai zones and 1,000 drivers.
    public static let standard = RideReference(
        zones: [
            Zone(name: "BKC", centre: GeoPoint(latitude: 19.0660, longitude: 72.8656)),
            Zone(name: "Bandra", centre: GeoPoint(latitude: 19.0596, longitude: 72.8295)),
            Zone(name: "Andheri", centre: GeoPoint(latitude: 19.1197, longitude: 72.8464)),
            Zone(name: "Dadar", centre: GeoPoint(latitude: 19.0178, longitude: 72.8478)),
            Zone(name: "LowerParel", centre: GeoPoint(latitude: 18.9986, longitude: 72.8258)),
            Zone(name: "Worli", centre: GeoPoint(latitude: 19.0176, longitude: 72.8152)),
            Zone(name: "Colaba", centre: GeoPoint(latitude: 18.9067, longitude: 72.8147)),
            Zone(name: "Powai", centre: GeoPoint(latitude: 19.1176, longitude: 72.9060)),
        ],
        driverCount: 1000)

    /// Creates a reference.
    public init(zones: [Zone], driverCount: Int) {
        self.zones = zones
        self.driverCount = driverCount
    }

    /// A zone by name.
    public func zone(_ name: String) -> Zone? { zones.first { $0.name == name } }

    /// The zone a point is in: the nearest centre within ``RideRules/zoneRadiusKm``, or nil.
    public func zone(of point: GeoPoint) -> Zone? {
        let nearest = zones.min { RideRules.distanceKm($0.centre, point) < RideRules.distanceKm($1.centre, point) }
        guard let nearest, RideRules.distanceKm(nearest.centre, point) <= RideRules.zoneRadiusKm else { return nil }
        return nearest
    }

    /// The id of driver `number` (1-based).
    public static func driver(_ number: Int) -> String { "d" + String(format: "%04d", number) }

    /// Every driver.
    public var drivers: [String] { (1...driverCount).map(Self.driver) }

    /// A driver's vehicle and rating (fixed per driver) and home zone.
    public func profile(of driver: String) -> (vehicle: RideType, rating: Double, home: Zone) {
        let hash = stableHash(driver)
        let vehicles: [RideType] = [.auto, .auto, .mini, .mini, .mini, .sedan, .sedan, .suv]
        let rating = 3.5 + Double((hash >> 8) % 16) / 10
        return (vehicles[Int(hash % 8)], min(5, rating), zones[Int((hash >> 20) % UInt64(zones.count))])
    }
}

/// Dispatch's, surge's and the fares' rules, as pure functions.
public enum RideRules {
    /// A driver is considered for a request within this distance of its pickup.
    public static let matchRadiusKm = 3.0
    /// A point belongs to the nearest zone centre within this distance.
    public static let zoneRadiusKm = 4.0
    /// A driver whose last report is older than this (by the phone's clock) is not matched.
    public static let freshness: Duration = .seconds(30)
    /// How long a request waits for a driver.
    public static let matchDeadline: Duration = .seconds(120)
    /// How often dispatch samples a zone's free drivers for surge.
    public static let supplySampleInterval: Duration = .seconds(5)
    /// The bounding box of the service area (Mumbai): latitude, longitude.
    public static let area = (latitude: 18.85...19.30, longitude: 72.75...73.05)
    /// Average speed in the city, km/h, for pickup ETAs and trip durations.
    public static let cityKmPerHour = 20.0

    /// When the next supply sample is due: ``supplySampleInterval`` of wall-clock time from now (a durable timer
    /// scheduled at a date, so a demo's faster timers do not flood the surge windows with samples).
    public static func nextSample(after now: Date = Date()) -> Date {
        now.addingTimeInterval(Double(supplySampleInterval.components.seconds))
    }

    /// The great-circle distance in km.
    public static func distanceKm(_ a: GeoPoint, _ b: GeoPoint) -> Double {
        let radius = 6371.0
        let dLat = (b.latitude - a.latitude) * .pi / 180
        let dLon = (b.longitude - a.longitude) * .pi / 180
        let h =
            sin(dLat / 2) * sin(dLat / 2) + cos(a.latitude * .pi / 180) * cos(b.latitude * .pi / 180) * sin(dLon / 2)
            * sin(dLon / 2)
        return 2 * radius * asin(min(1, sqrt(h)))
    }

    /// Which vehicles may serve a ride type: an auto only an auto; a mini a mini or a sedan; a sedan a sedan or an
    /// SUV; an SUV only an SUV.
    public static func compatible(_ vehicle: RideType, for request: RideType) -> Bool {
        switch request {
        case .auto: vehicle == .auto
        case .mini: vehicle == .mini || vehicle == .sedan
        case .sedan: vehicle == .sedan || vehicle == .suv
        case .suv: vehicle == .suv
        }
    }

    /// A driver's score for a request (lower is better): the distance, less half a km per rating star above 4.
    public static func score(distanceKm: Double, rating: Double) -> Double { distanceKm - 0.5 * (rating - 4) }

    /// Checks a request: its ride type, coordinates and zones.
    /// - Returns: The refusal and its detail, or nil.
    public static func check(_ request: RideRequested, reference: RideReference) -> (RideRejection, String)? {
        guard RideType(rawValue: request.rideType) != nil else {
            return (.unknownRideType, "no ride type \(request.rideType)")
        }
        for (name, point) in [("pickup", request.pickup), ("drop", request.drop)] {
            guard area.latitude.contains(point.latitude), area.longitude.contains(point.longitude) else {
                return (.malformedCoordinates, "\(name) \(point.latitude),\(point.longitude) is outside the service area")
            }
        }
        for (name, zone, point) in [("pickup", request.pickupZone, request.pickup), ("drop", request.dropZone, request.drop)] {
            guard let known = reference.zone(zone) else { return (.unknownZone, "no \(name) zone \(zone)") }
            guard distanceKm(known.centre, point) <= zoneRadiusKm else {
                return (.unknownZone, "\(name) point is \(String(format: "%.1f", distanceKm(known.centre, point))) km from \(zone)")
            }
        }
        return nil
    }

    /// The surge multiplier of a window: 1 plus half of the demand in excess of supply (as a ratio) plus 0.1 per
    /// unmatched request, clamped to [1, 3] and rounded to a tenth.
    public static func multiplier(demand: Int, supply: Int, unmatched: Int) -> Double {
        let ratio = Double(demand) / Double(max(1, supply))
        let raw = 1 + 0.5 * max(0, ratio - 1) + 0.1 * Double(unmatched)
        return (min(3, max(1, raw)) * 10).rounded() / 10
    }

    /// The fare in paise: a base plus a rate per km by vehicle, times the multiplier, rounded to the rupee.
    public static func farePaise(vehicle: RideType, tripKm: Double, multiplier: Double) -> Int {
        let (base, perKm): (Double, Double) =
            switch vehicle {
            case .auto: (30, 15)
            case .mini: (50, 18)
            case .sedan: (80, 22)
            case .suv: (120, 30)
            }
        return Int(((base + perKm * tripKm) * multiplier).rounded()) * 100
    }

    /// Seconds to cover a distance at city speed (at least one).
    public static func seconds(forKm km: Double) -> Int { max(1, Int((km / cityKmPerHour * 3600).rounded())) }
}

/// A surge window's aggregate: requests, unmatched expiries and the last supply sample, in log order. The surge
/// service folds a zone's activity into it, and the demo's observer folds the log the same way to check the result.
public struct SurgeTally: Codable, Sendable, Hashable {
    /// How long after a window's end its zone's activity still counts (by stream time).
    public static let grace: Duration = .seconds(5)

    /// Requests.
    public var demand = 0
    /// Unmatched expiries.
    public var unmatched = 0
    /// The last supply sample (nil: none).
    public var supply: Int?

    /// An empty tally.
    public init() {}

    /// The tally with one more activity.
    public func adding(_ activity: ZoneActivity) -> SurgeTally {
        var tally = self
        tally.demand += activity.requests
        tally.unmatched += activity.unmatched
        if let free = activity.freeDrivers { tally.supply = free }
        return tally
    }

    /// The window's result. A window without a supply sample (a zone's first requests, before dispatch sampled it)
    /// reports supply 0 but takes no surge from demand: only unmatched requests raise it.
    public func surge(zone: String, start: Date, end: Date) -> SurgeUpdated {
        SurgeUpdated(
            pickupZone: zone, windowStart: start, windowEnd: end, demand: demand, supply: supply ?? 0,
            unmatched: unmatched,
            multiplier: RideRules.multiplier(demand: demand, supply: supply ?? demand, unmatched: unmatched))
    }
}
