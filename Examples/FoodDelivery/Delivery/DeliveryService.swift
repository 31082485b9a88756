// food-delivery: keeps delivery partners' availability and last known position (seeded from the reference
// catalog, moved by partner location events and by deliveries), assigns the nearest free partner of the city to
// each ready order (or queues the order until a partner is free), and follows the delivery: picked up, delivered.
// A cancellation frees the partner.
import ArgumentParser
import DabbaEvents
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation

@main
struct DeliveryService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "food-delivery",
        abstract: "Assigns the nearest free partner to ready orders and follows deliveries."
    )

    @OptionGroup var options: PipelineOptions
    @OptionGroup var food: DemoServiceOptions

    func run() async throws {
        try food.check(options, system: "food-delivery")
        let catalog = ReferenceCatalog.standard
        // Instances sharing a PostgreSQL store share the partner table: one transaction-scoped advisory lock
        // serializes their dispatch work, so two instances never hand out the same free partner.
        let shared = (options.inbox ?? "").hasPrefix("postgres")
        let instance = options.instanceID ?? "pid-\(getpid())"
        @Sendable func lockPartners(_ database: any InboxTransaction) throws {
            if shared { _ = try database.query("SELECT pg_advisory_xact_lock(7351)") }
        }
        var pipeline = Pipeline(service: "food-delivery", groupID: "food-delivery")
        pipeline.emits(SampleEvents.assigned)
        pipeline.emits(SampleEvents.pickedUp)
        pipeline.emits(SampleEvents.delivered)
        pipeline.on(PartnerLocationUpdated.self) { update, context in
            let database = try FoodStore.database(context)
            try lockPartners(database)
            _ = try database.execute(
                "UPDATE partners SET lat = ?, lon = ? WHERE partner_id = ?",
                [.double(update.location.lat), .double(update.location.lon), .text(update.partnerId)]
            )
        }
        pipeline.onOrderEvents { update, context in
            let database = try FoodStore.database(context)
            try lockPartners(database)
            let orderID = update.event.orderId
            switch update.event {
            case let order as OrderAccepted:
                _ = try database.execute(
                    "INSERT INTO deliveries (order_id, lat, lon) VALUES (?, ?, ?) ON CONFLICT (order_id) DO UPDATE SET lat = excluded.lat, lon = excluded.lon",
                    [.text(orderID), .double(order.deliveryLocation.lat), .double(order.deliveryLocation.lon)]
                )
            case let order as OrderReady:
                _ = try database.execute(
                    "INSERT INTO waiting (order_id, city, lat, lon, queued_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT (order_id) DO NOTHING",
                    [
                        .text(orderID), .text(order.city), .double(order.pickupLocation.lat),
                        .double(order.pickupLocation.lon),
                        .integer(Int64(Date().timeIntervalSince1970 * 1000)),
                    ]
                )
                try await Dispatch.assignWaiting(city: order.city, by: instance, context: context, database: database)
            case let assigned as DeliveryAssigned:
                try Dispatch.follow(assigned, by: instance, database)
                try await context.emit(
                    OrderPickedUp(orderId: orderID, partnerId: assigned.partnerId, pickedUpAt: Date()))
            case let pickedUp as OrderPickedUp:
                let rows = try database.query("SELECT lat, lon FROM deliveries WHERE order_id = ?", [.text(orderID)])
                guard let row = rows.first, case .double(let lat) = row[0], case .double(let lon) = row[1] else {
                    throw PermanentError(
                        HandlerFailure("picked-up order \(orderID) has no delivery address (no accepted event seen)"))
                }
                try await context.emit(
                    OrderDelivered(
                        orderId: orderID, partnerId: pickedUp.partnerId, location: Location(lat: lat, lon: lon),
                        deliveredAt: Date())
                )
            case let delivered as OrderDelivered:
                _ = try database.execute(
                    "UPDATE partners SET busy_order = NULL, lat = ?, lon = ? WHERE partner_id = ? AND busy_order = ?",
                    [
                        .double(delivered.location.lat), .double(delivered.location.lon), .text(delivered.partnerId),
                        .text(orderID),
                    ]
                )
                try FoodStore.recordEffect("release:\(orderID)", context: context, in: database)
                try Dispatch.release(orderID, database)
                try await Dispatch.assignWaiting(
                    city: try Dispatch.city(ofPartner: delivered.partnerId, database), by: instance, context: context,
                    database: database
                )
            case is OrderCancelled:
                _ = try database.execute("DELETE FROM waiting WHERE order_id = ?", [.text(orderID)])
                let released = try database.query("SELECT city FROM partners WHERE busy_order = ?", [.text(orderID)])
                _ = try database.execute("UPDATE partners SET busy_order = NULL WHERE busy_order = ?", [.text(orderID)])
                if let row = released.first, case .text(let city) = row[0] {
                    try FoodStore.recordEffect("release:\(orderID)", context: context, in: database)
                    try Dispatch.release(orderID, database)
                    if update.from != .assigned {
                        // The customer cancelled before the log had this service's assignment (its partner was
                        // chosen while the cancellation was already on the way): the `assigned` event comes after
                        // the cancellation, and every service refuses it.
                        try Dispatch.refuse(orderID, database)
                    }
                    try await Dispatch.assignWaiting(city: city, by: instance, context: context, database: database)
                }
            default:
                break
            }
        }
        let seed = catalog.partners.map { partner in
            "INSERT INTO partners (partner_id, city, lat, lon, busy_order) VALUES ('\(partner.id)', '\(partner.city)', \(partner.home.lat), \(partner.home.lon), NULL) ON CONFLICT (partner_id) DO NOTHING"
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: FoodStore.migrations + [
                "CREATE TABLE IF NOT EXISTS partners (partner_id TEXT PRIMARY KEY, city TEXT NOT NULL, lat DOUBLE PRECISION NOT NULL, lon DOUBLE PRECISION NOT NULL, busy_order TEXT)",
                "CREATE TABLE IF NOT EXISTS waiting (order_id TEXT PRIMARY KEY, city TEXT NOT NULL, lat DOUBLE PRECISION NOT NULL, lon DOUBLE PRECISION NOT NULL, queued_ms BIGINT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS deliveries (order_id TEXT PRIMARY KEY, lat DOUBLE PRECISION NOT NULL, lon DOUBLE PRECISION NOT NULL)",
                // One row per assignment: who assigned it, and when the partner was busy (overlaps would be double assignments).
                "CREATE TABLE IF NOT EXISTS assignments (order_id TEXT NOT NULL, partner_id TEXT NOT NULL, assigned_by TEXT NOT NULL, assigned_ms BIGINT NOT NULL, released_ms BIGINT)",
                // Assignments the log refused (the customer's cancellation came first), moved out of `assignments`.
                "CREATE TABLE IF NOT EXISTS refused_assignments (order_id TEXT NOT NULL, partner_id TEXT NOT NULL, assigned_by TEXT NOT NULL, assigned_ms BIGINT NOT NULL, released_ms BIGINT)",
            ] + seed,
            configure: { food.apply(to: &$0) }
        )
    }
}

/// Assignment against the service's partner table.
enum Dispatch {
    /// Assigns free partners of a city to its waiting orders, oldest first, each to the nearest free partner.
    static func assignWaiting(city: String, by instance: String, context: EventContext, database: any InboxTransaction)
        async throws
    {
        while true {
            let waiting = try database.query(
                "SELECT order_id, lat, lon FROM waiting WHERE city = ? ORDER BY queued_ms, order_id LIMIT 1",
                [.text(city)])
            guard let order = waiting.first, case .text(let orderID) = order[0], case .double(let lat) = order[1],
                case .double(let lon) = order[2]
            else { return }
            var free: [PartnerPosition] = []
            for row in try database.query(
                "SELECT partner_id, lat, lon FROM partners WHERE city = ? AND busy_order IS NULL", [.text(city)])
            {
                if case .text(let id) = row[0], case .double(let pLat) = row[1], case .double(let pLon) = row[2] {
                    free.append(PartnerPosition(partnerId: id, location: Location(lat: pLat, lon: pLon)))
                }
            }
            guard let choice = Dispatcher.nearest(to: Location(lat: lat, lon: lon), among: free) else { return }
            // Only a partner still free gets the order (a concurrent instance may have taken them meanwhile).
            let taken = try database.execute(
                "UPDATE partners SET busy_order = ? WHERE partner_id = ? AND busy_order IS NULL",
                [.text(orderID), .text(choice.partner.partnerId)]
            )
            guard taken == 1 else { continue }
            // The assignment's interval (closed on delivery or cancellation) makes any overlap visible.
            _ = try database.execute(
                "INSERT INTO assignments (order_id, partner_id, assigned_by, assigned_ms) VALUES (?, ?, ?, ?)",
                [.text(orderID), .text(choice.partner.partnerId), .text(instance), .integer(Self.nowMilliseconds())]
            )
            _ = try database.execute("DELETE FROM waiting WHERE order_id = ?", [.text(orderID)])
            try FoodStore.recordEffect("assign:\(orderID)", context: context, in: database)
            // The one place the framework's id rule (cause + ordinal) is not the event's identity: a waiting order
            // is assigned while handling whichever event frees a partner (its own ready, another order's delivery
            // or cancellation), so a re-run after a rollback may assign it from another cause, or assign other
            // orders in another order. An order has one assignment, so its id is the order's: every inbox keeps
            // the first and skips any other.
            try await context.emit(
                DeliveryAssigned(
                    orderId: orderID, partnerId: choice.partner.partnerId,
                    distanceToRestaurantKm: (choice.distanceKm * 10).rounded() / 10, assignedAt: Date()
                ),
                metadata: EventMetadata(id: FoodEventID.make(orderId: orderID, type: DeliveryAssigned.eventType))
            )
        }
    }

    /// Makes the store follow an `assigned` event of the log, which is the truth: the order no longer waits, its
    /// partner is the one the event names, and its assignment row says so. They differ from what this service
    /// decided when the batch that emitted the event was rolled back (a crash, an emit that failed, a failed
    /// statement) and ran again with other partners free: the event of the first run is the one in the log (the
    /// second has the same id and every inbox skips it), while the store holds the second run's decision, or none.
    static func follow(_ assigned: DeliveryAssigned, by instance: String, _ database: any InboxTransaction) throws {
        let order = assigned.orderId
        let partner = assigned.partnerId
        _ = try database.execute("DELETE FROM waiting WHERE order_id = ?", [.text(order)])
        _ = try database.execute(
            "UPDATE partners SET busy_order = NULL WHERE busy_order = ? AND partner_id <> ?",
            [.text(order), .text(partner)]
        )
        _ = try database.execute(
            "UPDATE partners SET busy_order = ? WHERE partner_id = ?", [.text(order), .text(partner)])
        let corrected = try database.execute(
            "UPDATE assignments SET partner_id = ? WHERE order_id = ? AND partner_id <> ?",
            [.text(partner), .text(order), .text(partner)])
        let recorded = try database.query("SELECT COUNT(*) FROM assignments WHERE order_id = ?", [.text(order)])
        if corrected == 0, case .integer(0) = recorded.first?.first {
            _ = try database.execute(
                "INSERT INTO assignments (order_id, partner_id, assigned_by, assigned_ms) VALUES (?, ?, ?, ?)",
                [.text(order), .text(partner), .text(instance), .integer(nowMilliseconds())]
            )
        }
    }

    /// Moves an order's assignment to `refused_assignments`: the log refused it, so it was never an assignment.
    static func refuse(_ orderID: String, _ database: any InboxTransaction) throws {
        _ = try database.execute(
            """
            INSERT INTO refused_assignments (order_id, partner_id, assigned_by, assigned_ms, released_ms)
            SELECT order_id, partner_id, assigned_by, assigned_ms, released_ms FROM assignments WHERE order_id = ?
            """,
            [.text(orderID)]
        )
        _ = try database.execute("DELETE FROM assignments WHERE order_id = ?", [.text(orderID)])
    }

    /// Closes the open assignment interval of an order.
    static func release(_ orderID: String, _ database: any InboxTransaction) throws {
        _ = try database.execute(
            "UPDATE assignments SET released_ms = ? WHERE order_id = ? AND released_ms IS NULL",
            [.integer(nowMilliseconds()), .text(orderID)]
        )
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func city(ofPartner partnerID: String, _ database: any InboxTransaction) throws -> String {
        let rows = try database.query("SELECT city FROM partners WHERE partner_id = ?", [.text(partnerID)])
        guard let row = rows.first, case .text(let city) = row[0] else {
            throw PermanentError(HandlerFailure("unknown delivery partner '\(partnerID)'"))
        }
        return city
    }
}
