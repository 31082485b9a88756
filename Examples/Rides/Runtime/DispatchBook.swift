import DabbaInbox
import Foundation
import RidesDomain

/// Dispatch's store: every driver's last position, duty and current ride (the table matching reads, indexed by
/// zone), every ride's state, and each zone's surge multiplier in force. Statements are portable to PostgreSQL.
public enum DispatchBook {
    /// The tables.
    public static let migrations = [
        "CREATE TABLE IF NOT EXISTS rides_drivers (driver_id TEXT PRIMARY KEY, vehicle TEXT NOT NULL, rating DOUBLE PRECISION NOT NULL, latitude DOUBLE PRECISION NOT NULL, longitude DOUBLE PRECISION NOT NULL, zone TEXT, on_duty INTEGER NOT NULL, reported_ms BIGINT NOT NULL, ride_id TEXT)",
        "CREATE INDEX IF NOT EXISTS rides_drivers_zone ON rides_drivers (zone, on_duty)",
        "CREATE TABLE IF NOT EXISTS rides_rides (ride_id TEXT PRIMARY KEY, zone TEXT NOT NULL, rider TEXT NOT NULL, ride_type TEXT NOT NULL, latitude DOUBLE PRECISION NOT NULL, longitude DOUBLE PRECISION NOT NULL, trip_km DOUBLE PRECISION NOT NULL, state TEXT NOT NULL, requested_ms BIGINT NOT NULL, deadline_ms BIGINT NOT NULL, driver_id TEXT)",
        "CREATE INDEX IF NOT EXISTS rides_rides_open ON rides_rides (state, zone, requested_ms)",
        "CREATE TABLE IF NOT EXISTS rides_surge (zone TEXT PRIMARY KEY, multiplier DOUBLE PRECISION NOT NULL, window_start_ms BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS rides_sampling (zone TEXT PRIMARY KEY)",
        "CREATE TABLE IF NOT EXISTS rides_refused (ride_id TEXT PRIMARY KEY)",
        "CREATE TABLE IF NOT EXISTS rides_counts (kind TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    ]

    /// A driver as dispatch knows it.
    public struct Driver: Sendable, Hashable {
        /// The id.
        public var driverId: String
        /// The vehicle.
        public var vehicle: RideType
        /// The rating.
        public var rating: Double
        /// The last position.
        public var position: GeoPoint
        /// Its zone (nil: outside every zone).
        public var zone: String?
        /// On duty.
        public var onDuty: Bool
        /// The last report's time.
        public var reportedMilliseconds: Int64
        /// The ride it is on.
        public var rideId: String?

        /// Creates a driver.
        public init(
            driverId: String, vehicle: RideType, rating: Double, position: GeoPoint, zone: String?, onDuty: Bool,
            reportedMilliseconds: Int64, rideId: String?
        ) {
            self.driverId = driverId
            self.vehicle = vehicle
            self.rating = rating
            self.position = position
            self.zone = zone
            self.onDuty = onDuty
            self.reportedMilliseconds = reportedMilliseconds
            self.rideId = rideId
        }
    }

    static func driver(_ row: [SQLValue]) -> Driver? {
        guard let id = row[0].textValue, let vehicle = row[1].textValue.flatMap(RideType.init(rawValue:)) else {
            return nil
        }
        return Driver(
            driverId: id, vehicle: vehicle, rating: row[2].doubleValue ?? 0,
            position: GeoPoint(latitude: row[3].doubleValue ?? 0, longitude: row[4].doubleValue ?? 0),
            zone: row[5].textValue, onDuty: row[6].integerValue == 1, reportedMilliseconds: row[7].integerValue ?? 0,
            rideId: row[8].textValue)
    }

    static let driverColumns = "driver_id, vehicle, rating, latitude, longitude, zone, on_duty, reported_ms, ride_id"

    /// A driver by id.
    public static func driver(_ driverId: String, in database: any InboxTransaction) throws -> Driver? {
        try database.query("SELECT \(driverColumns) FROM rides_drivers WHERE driver_id = ?", [.text(driverId)]).first
            .flatMap(driver)
    }

    /// Every driver (what the demo compares with the log).
    public static func drivers(_ database: any InboxTransaction) throws -> [Driver] {
        try database.query("SELECT \(driverColumns) FROM rides_drivers").compactMap(driver)
    }

    /// Writes a driver's report (keeping its ride).
    public static func record(_ report: DriverLocationUpdated, zone: String?, in database: any InboxTransaction) throws {
        _ = try database.execute(
            "INSERT INTO rides_drivers (driver_id, vehicle, rating, latitude, longitude, zone, on_duty, reported_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (driver_id) DO UPDATE SET vehicle = excluded.vehicle, rating = excluded.rating, latitude = excluded.latitude, longitude = excluded.longitude, zone = excluded.zone, on_duty = excluded.on_duty, reported_ms = excluded.reported_ms",
            [
                .text(report.driverId), .text(report.vehicle.rawValue), .double(report.rating),
                .double(report.position.latitude), .double(report.position.longitude), zone.map { .text($0) } ?? .null,
                .integer(report.onDuty ? 1 : 0), .integer(report.reportedAt.rideMilliseconds),
            ])
    }

    /// Free, on-duty drivers with a fresh report in the given zones.
    public static func freeDrivers(in zones: [String], freshSince: Int64, in database: any InboxTransaction) throws
        -> [Driver]
    {
        guard !zones.isEmpty else { return [] }
        let marks = zones.map { _ in "?" }.joined(separator: ", ")
        return try database.query(
            "SELECT \(driverColumns) FROM rides_drivers WHERE zone IN (\(marks)) AND on_duty = 1 AND ride_id IS NULL AND reported_ms >= ?",
            zones.map { .text($0) } + [.integer(freshSince)]
        ).compactMap(driver)
    }

    /// A ride as dispatch knows it.
    public struct Ride: Sendable, Hashable {
        /// The id.
        public var rideId: String
        /// The pickup zone.
        public var zone: String
        /// The rider.
        public var riderId: String
        /// The ride type.
        public var rideType: RideType
        /// The pickup.
        public var pickup: GeoPoint
        /// Pickup to drop.
        public var tripKm: Double
        /// Its state.
        public var state: String
        /// When it was requested.
        public var requestedMilliseconds: Int64
        /// When it expires unless matched.
        public var deadlineMilliseconds: Int64
    }

    static let rideColumns = "ride_id, zone, rider, ride_type, latitude, longitude, trip_km, state, requested_ms, deadline_ms"

    static func ride(_ row: [SQLValue]) -> Ride? {
        guard let id = row[0].textValue, let zone = row[1].textValue, let rider = row[2].textValue,
            let type = row[3].textValue.flatMap(RideType.init(rawValue:)), let state = row[7].textValue
        else { return nil }
        return Ride(
            rideId: id, zone: zone, riderId: rider, rideType: type,
            pickup: GeoPoint(latitude: row[4].doubleValue ?? 0, longitude: row[5].doubleValue ?? 0),
            tripKm: row[6].doubleValue ?? 0, state: state, requestedMilliseconds: row[8].integerValue ?? 0,
            deadlineMilliseconds: row[9].integerValue ?? 0)
    }

    /// A ride by id.
    public static func ride(_ rideId: String, in database: any InboxTransaction) throws -> Ride? {
        try database.query("SELECT \(rideColumns) FROM rides_rides WHERE ride_id = ?", [.text(rideId)]).first.flatMap(ride)
    }

    /// Open requests in the given zones, oldest first.
    public static func openRides(in zones: [String], in database: any InboxTransaction) throws -> [Ride] {
        guard !zones.isEmpty else { return [] }
        let marks = zones.map { _ in "?" }.joined(separator: ", ")
        return try database.query(
            "SELECT \(rideColumns) FROM rides_rides WHERE state = 'open' AND zone IN (\(marks)) ORDER BY requested_ms, ride_id",
            zones.map { .text($0) }
        ).compactMap(ride)
    }

    /// Records a refused request; false when it was refused before (a resend).
    public static func refuse(_ rideId: String, in database: any InboxTransaction) throws -> Bool {
        try database.execute("INSERT INTO rides_refused (ride_id) VALUES (?) ON CONFLICT (ride_id) DO NOTHING", [.text(rideId)]) == 1
    }

    /// Whether a request was refused.
    public static func wasRefused(_ rideId: String, in database: any InboxTransaction) throws -> Bool {
        try !database.query("SELECT 1 FROM rides_refused WHERE ride_id = ?", [.text(rideId)]).isEmpty
    }

    /// Opens a request.
    public static func open(_ request: RideRequested, type: RideType, deadline: Date, in database: any InboxTransaction)
        throws
    {
        _ = try database.execute(
            "INSERT INTO rides_rides (ride_id, zone, rider, ride_type, latitude, longitude, trip_km, state, requested_ms, deadline_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?)",
            [
                .text(request.rideId), .text(request.pickupZone), .text(request.riderId), .text(type.rawValue),
                .double(request.pickup.latitude), .double(request.pickup.longitude),
                .double(RideRules.distanceKm(request.pickup, request.drop)), .integer(request.requestedAt.rideMilliseconds),
                .integer(deadline.rideMilliseconds),
            ])
    }

    /// Moves a ride from one state to another; false when it was not in `from`.
    public static func move(_ rideId: String, from: String, to: String, driver: String? = nil, in database: any InboxTransaction)
        throws -> Bool
    {
        try database.execute(
            "UPDATE rides_rides SET state = ?, driver_id = COALESCE(?, driver_id) WHERE ride_id = ? AND state = ?",
            [.text(to), driver.map { .text($0) } ?? .null, .text(rideId), .text(from)]) == 1
    }

    /// Marks a free driver busy with a ride; false when the driver already has one.
    public static func assign(_ driverId: String, to rideId: String, in database: any InboxTransaction) throws -> Bool {
        try database.execute(
            "UPDATE rides_drivers SET ride_id = ? WHERE driver_id = ? AND ride_id IS NULL", [.text(rideId), .text(driverId)]
        ) == 1
    }

    /// Frees the driver of a ride; returns the driver.
    public static func release(rideOf rideId: String, in database: any InboxTransaction) throws -> String? {
        let driver = try database.query("SELECT driver_id FROM rides_drivers WHERE ride_id = ?", [.text(rideId)]).first?[0]
            .textValue
        _ = try database.execute("UPDATE rides_drivers SET ride_id = NULL WHERE ride_id = ?", [.text(rideId)])
        return driver
    }

    /// The multiplier in force in a zone and the window it comes from.
    public static func surge(of zone: String, in database: any InboxTransaction) throws -> (multiplier: Double, windowStart: Date?) {
        guard
            let row = try database.query(
                "SELECT multiplier, window_start_ms FROM rides_surge WHERE zone = ?", [.text(zone)]
            ).first
        else { return (1, nil) }
        return (row[0].doubleValue ?? 1, row[1].integerValue.map { Date(rideMilliseconds: $0) })
    }

    /// Puts a surge result in force (a newer window only).
    public static func setSurge(_ result: SurgeUpdated, in database: any InboxTransaction) throws {
        _ = try database.execute(
            "INSERT INTO rides_surge (zone, multiplier, window_start_ms) VALUES (?, ?, ?) ON CONFLICT (zone) DO UPDATE SET multiplier = excluded.multiplier, window_start_ms = excluded.window_start_ms WHERE rides_surge.window_start_ms < excluded.window_start_ms",
            [.text(result.pickupZone), .double(result.multiplier), .integer(result.windowStart.rideMilliseconds)])
    }

    /// Whether a zone's supply sampling has started (and starts it).
    public static func startSampling(_ zone: String, in database: any InboxTransaction) throws -> Bool {
        try database.execute(
            "INSERT INTO rides_sampling (zone) VALUES (?) ON CONFLICT (zone) DO NOTHING", [.text(zone)]) == 1
    }

    /// Counts something dispatch ignored or refused (stale reports).
    public static func count(_ kind: String, in database: any InboxTransaction) throws {
        _ = try database.execute(
            "INSERT INTO rides_counts (kind, n) VALUES (?, 1) ON CONFLICT (kind) DO UPDATE SET n = rides_counts.n + 1",
            [.text(kind)])
    }

    /// The oldest of the drivers' latest reports (nil without drivers): once it is past a moment, dispatch has
    /// read every driver's reports up to that moment — it has caught up with the drivers' topic.
    public static func oldestLatestReport(_ database: any InboxTransaction) throws -> Date? {
        try database.query("SELECT MIN(reported_ms) FROM rides_drivers").first?[0].integerValue.map {
            Date(rideMilliseconds: $0)
        }
    }

    /// Rides per state.
    public static func states(_ database: any InboxTransaction) throws -> [String: Int] {
        var states: [String: Int] = [:]
        for row in try database.query("SELECT state, COUNT(*) FROM rides_rides GROUP BY state") {
            if let state = row[0].textValue { states[state] = Int(row[1].integerValue ?? 0) }
        }
        return states
    }
}

extension Date {
    /// Milliseconds since 1970, for the stores.
    public var rideMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// The date of milliseconds since 1970.
    public init(rideMilliseconds: Int64) { self.init(timeIntervalSince1970: Double(rideMilliseconds) / 1000) }
}
