import DabbaInbox
import Foundation
import TatkalDomain

/// The inventory service's store: each inventory's seats (free, held or booked, with the request holding them) and
/// each admitted request's booking (held, waitlisted in queue order, confirmed, expired, payment failed, not
/// confirmed at the chart). Statements are portable to PostgreSQL.
public enum InventoryBook {
    /// The tables, and every inventory's seats from the reference data.
    public static func migrations(reference: TatkalReference) -> [String] {
        var statements = [
            "CREATE TABLE IF NOT EXISTS inventories (inventory TEXT PRIMARY KEY, quota BIGINT NOT NULL, next_queue BIGINT NOT NULL, charted INTEGER NOT NULL)",
            "CREATE TABLE IF NOT EXISTS seats (inventory TEXT NOT NULL, seat TEXT NOT NULL, seq BIGINT NOT NULL, state TEXT NOT NULL, request_id TEXT, PRIMARY KEY (inventory, seat))",
            "CREATE INDEX IF NOT EXISTS seats_free ON seats (inventory, state, seq)",
            "CREATE TABLE IF NOT EXISTS bookings (request_id TEXT PRIMARY KEY, inventory TEXT NOT NULL, passengers BIGINT NOT NULL, fare_paise BIGINT NOT NULL, state TEXT NOT NULL, seats TEXT NOT NULL, queue BIGINT, held_ms BIGINT, expires_ms BIGINT)",
            "CREATE INDEX IF NOT EXISTS bookings_queue ON bookings (inventory, state, queue)",
        ]
        for inventory in reference.inventories {
            statements.append(
                "INSERT INTO inventories (inventory, quota, next_queue, charted) VALUES ('\(inventory.key)', \(inventory.travelClass.quota), 1, 0) ON CONFLICT (inventory) DO NOTHING"
            )
            let rows = TatkalReference.seats(of: inventory.travelClass).enumerated().map {
                "('\(inventory.key)', '\($0.element)', \($0.offset), 'free')"
            }
            statements.append(
                "INSERT INTO seats (inventory, seat, seq, state) VALUES \(rows.joined(separator: ", ")) ON CONFLICT (inventory, seat) DO NOTHING"
            )
        }
        return statements
    }

    /// A request's booking.
    public struct Booking: Sendable, Hashable {
        /// Its state.
        public var state: String
        /// Seats wanted.
        public var passengers: Int
        /// Fare.
        public var farePaise: Int
        /// Seats held or booked.
        public var seats: [String]
        /// When it was first held.
        public var heldMilliseconds: Int64?
        /// When its hold is due to expire.
        public var expiresMilliseconds: Int64?
    }

    /// The booking of a request, if admitted.
    public static func booking(_ requestId: String, in database: any InboxTransaction) throws -> Booking? {
        guard
            let row = try database.query(
                "SELECT state, passengers, fare_paise, seats, held_ms, expires_ms FROM bookings WHERE request_id = ?",
                [.text(requestId)]
            ).first, let state = row[0].textValue
        else { return nil }
        return Booking(
            state: state, passengers: Int(row[1].integerValue ?? 0), farePaise: Int(row[2].integerValue ?? 0),
            seats: (row[3].textValue ?? "").split(separator: ",").map(String.init), heldMilliseconds: row[4].integerValue,
            expiresMilliseconds: row[5].integerValue)
    }

    /// Free seats of an inventory, in allocation order.
    public static func freeSeats(_ inventory: String, limit: Int, in database: any InboxTransaction) throws -> [String] {
        try database.query(
            "SELECT seat FROM seats WHERE inventory = ? AND state = 'free' ORDER BY seq LIMIT ?",
            [.text(inventory), .integer(Int64(limit))]
        ).compactMap { $0[0].textValue }
    }

    /// Requests waiting, in queue order.
    public static func waitlist(_ inventory: String, in database: any InboxTransaction) throws
        -> [(requestId: String, passengers: Int, farePaise: Int)]
    {
        try database.query(
            "SELECT request_id, passengers, fare_paise FROM bookings WHERE inventory = ? AND state = 'waitlisted' ORDER BY queue",
            [.text(inventory)]
        ).compactMap { row in
            row[0].textValue.map { ($0, Int(row[1].integerValue ?? 0), Int(row[2].integerValue ?? 0)) }
        }
    }

    /// Marks seats with a state and the request (nil request: free).
    public static func setSeats(
        _ seats: [String], of inventory: String, to state: String, request: String?, in database: any InboxTransaction
    ) throws {
        for seat in seats {
            let changed = try database.execute(
                "UPDATE seats SET state = ?, request_id = ? WHERE inventory = ? AND seat = ?",
                [.text(state), request.map { .text($0) } ?? .null, .text(inventory), .text(seat)])
            guard changed == 1 else { throw InboxError(.statement, "no seat \(seat) in \(inventory)") }
        }
    }

    /// Sets a booking's state (and its seats and times when given).
    public static func update(
        _ requestId: String, state: String, seats: [String]? = nil, heldMilliseconds: Int64? = nil,
        expiresMilliseconds: Int64? = nil, in database: any InboxTransaction
    ) throws {
        _ = try database.execute(
            "UPDATE bookings SET state = ?, seats = COALESCE(?, seats), held_ms = COALESCE(held_ms, ?), expires_ms = COALESCE(?, expires_ms) WHERE request_id = ?",
            [
                .text(state), seats.map { .text($0.joined(separator: ",")) } ?? .null,
                heldMilliseconds.map { .integer($0) } ?? .null, expiresMilliseconds.map { .integer($0) } ?? .null,
                .text(requestId),
            ])
    }

    /// What the demo and the tests check per inventory.
    public struct Audit: Sendable, Hashable {
        /// Quota.
        public var quota = 0
        /// Free seats.
        public var free = 0
        /// Held seats.
        public var held = 0
        /// Booked seats.
        public var booked = 0
        /// Seats booked or held for a request that is not confirmed or held (0 unless a seat leaked).
        public var orphans = 0
        /// Fares of confirmed bookings.
        public var revenuePaise = 0
        /// Confirmed bookings.
        public var confirmed = 0

        /// An empty audit (an inventory with no seats).
        public init(quota: Int = 0) { self.quota = quota }
    }

    /// Audits every inventory.
    public static func audit(_ database: any InboxTransaction) throws -> [String: Audit] {
        var audits: [String: Audit] = [:]
        for row in try database.query("SELECT inventory, quota FROM inventories") {
            if let key = row[0].textValue { audits[key] = Audit(quota: Int(row[1].integerValue ?? 0)) }
        }
        for row in try database.query("SELECT inventory, state, COUNT(*) FROM seats GROUP BY inventory, state") {
            guard let key = row[0].textValue, let state = row[1].textValue else { continue }
            let count = Int(row[2].integerValue ?? 0)
            switch state {
            case "free": audits[key, default: Audit()].free = count
            case "held": audits[key, default: Audit()].held = count
            default: audits[key, default: Audit()].booked += count
            }
        }
        for row in try database.query(
            "SELECT s.inventory, COUNT(*) FROM seats s LEFT JOIN bookings b ON b.request_id = s.request_id WHERE s.state <> 'free' AND (b.state IS NULL OR (s.state = 'held' AND b.state <> 'held') OR (s.state = 'booked' AND b.state <> 'confirmed')) GROUP BY s.inventory"
        ) {
            if let key = row[0].textValue { audits[key, default: Audit()].orphans = Int(row[1].integerValue ?? 0) }
        }
        for row in try database.query(
            "SELECT inventory, COUNT(*), CAST(COALESCE(SUM(fare_paise), 0) AS BIGINT) FROM bookings WHERE state = 'confirmed' GROUP BY inventory"
        ) {
            guard let key = row[0].textValue else { continue }
            audits[key, default: Audit()].confirmed = Int(row[1].integerValue ?? 0)
            audits[key, default: Audit()].revenuePaise = Int(row[2].integerValue ?? 0)
        }
        return audits
    }
}
