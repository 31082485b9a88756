// food-analytics: live metrics of the platform (orders per minute, average and p95 delivery time, revenue, active
// restaurants and customers, orders per outcome), served as Prometheus gauges on the service's /metrics endpoint,
// and a `--report` mode that prints the totals from the service's store.
import ArgumentParser
import CoreMetrics
import DabbaInbox
import DabbaInboxPostgres
import DabbaPipeline
import DabbaService
import DemoServiceKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import DemoKit
import Foundation

@main
struct AnalyticsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "food-analytics",
        abstract: "Live order metrics on /metrics; --report prints the totals of the store."
    )

    @OptionGroup var options: PipelineOptions
    @OptionGroup var food: DemoServiceOptions

    @Flag(help: "Print the totals from the store and exit (no broker needed).")
    var report = false

    func run() async throws {
        try food.check(options, system: "food-delivery")
        if report {
            let path = try sqliteStorePath(
                inbox: options.inbox, group: options.group ?? "food-analytics", instanceID: options.instanceID)
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError(
                    "no analytics store at \(path): run the service first, or pass its --inbox sqlite:PATH")
            }
            let store = try SQLiteInbox(path: path)
            let snapshot = try await store.withConnection {
                try AnalyticsStore.snapshot($0, nowMilliseconds: AnalyticsStore.nowMilliseconds())
            }
            print(AnalyticsStore.describe(snapshot))
            return
        }
        // The service's metrics backend (swift-prometheus unless the process bootstrapped another): the gauges are
        // served on the same /metrics as the pipeline's.
        let metrics = ServiceMetrics.standard()
        let gauges = AnalyticsGauges(factory: metrics.factory)
        var pipeline = Pipeline(service: "food-analytics", groupID: "food-analytics")
        pipeline.onOrderEvents { update, context in
            let database = try FoodStore.database(context)
            let orderID = update.event.orderId
            let eventMilliseconds = Int64((context.envelope.time ?? Date()).timeIntervalSince1970 * 1000)
            switch update.event {
            case let placed as OrderPlaced:
                _ = try database.execute(
                    "INSERT INTO facts (order_id, city, restaurant_id, customer_id, placed_ms, revenue_minor, outcome, done_ms) VALUES (?, ?, ?, ?, ?, 0, NULL, NULL) ON CONFLICT (order_id) DO NOTHING",
                    [
                        .text(orderID), .text(placed.city), .text(placed.restaurantId), .text(placed.customerId),
                        .integer(eventMilliseconds),
                    ]
                )
            case let accepted as OrderAccepted:
                _ = try database.execute(
                    "UPDATE facts SET revenue_minor = ? WHERE order_id = ?",
                    [.integer(Int64(accepted.totalMinor)), .text(orderID)])
            default:
                break
            }
            if update.to.isTerminal {
                _ = try database.execute(
                    "UPDATE facts SET outcome = ?, done_ms = ? WHERE order_id = ?",
                    [.text(update.to.rawValue), .integer(eventMilliseconds), .text(orderID)]
                )
                try FoodStore.recordEffect("outcome:\(orderID)", context: context, in: database)
            }
        }
        let options = self.options
        let food = self.food
        let service = pipeline
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await PipelineService.run(
                    service, options: options,
                    migrations: FoodStore.migrations + [
                        "CREATE TABLE IF NOT EXISTS facts (order_id TEXT PRIMARY KEY, city TEXT NOT NULL, restaurant_id TEXT NOT NULL, customer_id TEXT NOT NULL, placed_ms BIGINT NOT NULL, revenue_minor BIGINT NOT NULL, outcome TEXT, done_ms BIGINT)"
                    ],
                    metrics: metrics,
                    configure: { food.apply(to: &$0) }
                )
            }
            // The gauges follow what is committed: a second connection reads the store once a second.
            group.addTask { await gauges.refresh(every: .seconds(1)) { try AnalyticsStore.reader(options) } }
            // The service ends the group: when it returns (graceful shutdown) or throws, the refresher stops.
            do {
                try await group.next()
            } catch {
                group.cancelAll()
                throw error
            }
            group.cancelAll()
        }
    }
}

/// The analytics gauges, refreshed from the store.
final class AnalyticsGauges: Sendable {
    let placed: Meter
    let revenue: Meter
    let perMinute: Meter
    let averageDelivery: Meter
    let p95Delivery: Meter
    let activeRestaurants: Meter
    let activeCustomers: Meter
    let outcomes: [String: Meter]

    init(factory: any MetricsFactory) {
        func gauge(_ name: String, _ dimensions: [(String, String)] = []) -> Meter {
            Meter(label: name, dimensions: dimensions, factory: factory)
        }
        placed = gauge("food_orders_placed")  // orders placed
        revenue = gauge("food_revenue_minor")  // revenue of delivered orders, in minor units
        perMinute = gauge("food_orders_per_minute")  // orders placed in the last minute
        averageDelivery = gauge("food_delivery_seconds_average")  // mean placed-to-delivered time
        p95Delivery = gauge("food_delivery_seconds_p95")  // its 95th percentile
        activeRestaurants = gauge("food_active_restaurants")  // restaurants with an order in the last hour
        activeCustomers = gauge("food_active_customers")  // customers with an order in the last hour
        var outcomes: [String: Meter] = [:]
        for state in OrderState.allCases where state.isTerminal {
            outcomes[state.rawValue] = gauge("food_orders_finished", [("outcome", state.rawValue)])
        }
        self.outcomes = outcomes
    }

    /// Publishes the store's snapshot periodically until cancelled; a store not ready yet (no file or table) is
    /// tried again at the next tick.
    func refresh(every interval: Duration, open: @Sendable () throws -> any InboxStore) async {
        var store: (any InboxStore)?
        while !Task.isCancelled {
            if store == nil { store = try? open() }
            if let store,
                let snapshot = try? await store.withConnection({
                    try AnalyticsStore.snapshot($0, nowMilliseconds: AnalyticsStore.nowMilliseconds())
                })
            {
                publish(snapshot)
            }
            try? await Task.sleep(for: interval)
        }
    }

    func publish(_ snapshot: AnalyticsSnapshot) {
        placed.set(snapshot.ordersPlaced)
        revenue.set(snapshot.revenueMinor)
        perMinute.set(snapshot.ordersLastMinute)
        averageDelivery.set(snapshot.averageDeliverySeconds)
        p95Delivery.set(snapshot.p95DeliverySeconds)
        activeRestaurants.set(snapshot.activeRestaurants)
        activeCustomers.set(snapshot.activeCustomers)
        for (outcome, gauge) in outcomes { gauge.set(snapshot.ordersByOutcome[outcome] ?? 0) }
    }
}

/// Queries over the analytics store.
enum AnalyticsStore {
    /// A second connection to the service's store, for the gauges.
    static func reader(_ options: PipelineOptions) throws -> any InboxStore {
        if let inbox = options.inbox, inbox.hasPrefix("postgres://") || inbox.hasPrefix("postgresql://") {
            return try PostgresInbox(connectionString: inbox)
        }
        let path = try sqliteStorePath(
            inbox: options.inbox, group: options.group ?? "food-analytics", instanceID: options.instanceID)
        try FileManager.default.createDirectory(
            at: URL(fileURLWithPath: path).deletingLastPathComponent(), withIntermediateDirectories: true
        )
        return try SQLiteInbox(path: path)
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    static func snapshot(_ database: any InboxTransaction, nowMilliseconds now: Int64) throws -> AnalyticsSnapshot {
        var snapshot = AnalyticsSnapshot()
        snapshot.ordersPlaced = integer(try database.query("SELECT COUNT(*) FROM facts"))
        for row in try database.query("SELECT outcome, COUNT(*) FROM facts WHERE outcome IS NOT NULL GROUP BY outcome")
        {
            if case .text(let outcome) = row[0], case .integer(let count) = row[1] {
                snapshot.ordersByOutcome[outcome] = Int(count)
            }
        }
        snapshot.revenueMinor = integer(
            try database.query("SELECT COALESCE(SUM(revenue_minor), 0) FROM facts WHERE outcome = 'delivered'"))
        snapshot.ordersLastMinute = integer(
            try database.query("SELECT COUNT(*) FROM facts WHERE placed_ms >= ?", [.integer(now - 60_000)]))
        snapshot.activeRestaurants = integer(
            try database.query(
                "SELECT COUNT(DISTINCT restaurant_id) FROM facts WHERE placed_ms >= ?", [.integer(now - 3_600_000)]))
        snapshot.activeCustomers = integer(
            try database.query(
                "SELECT COUNT(DISTINCT customer_id) FROM facts WHERE placed_ms >= ?", [.integer(now - 3_600_000)]))
        var durations: [Double] = []
        for row in try database.query("SELECT done_ms - placed_ms FROM facts WHERE outcome = 'delivered'") {
            if case .integer(let milliseconds) = row[0] { durations.append(Double(milliseconds) / 1000) }
        }
        snapshot.averageDeliverySeconds = durations.isEmpty ? 0 : durations.reduce(0, +) / Double(durations.count)
        snapshot.p95DeliverySeconds = Percentile.of(95, durations)
        return snapshot
    }

    static func integer(_ rows: [[SQLValue]]) -> Int {
        if let row = rows.first, case .integer(let value) = row[0] { return Int(value) }
        return 0
    }

    static func describe(_ snapshot: AnalyticsSnapshot) -> String {
        let outcomes = ["delivered", "rejected", "cancelled", "payment_failed"]
        return """
            orders placed        \(snapshot.ordersPlaced)
            \(outcomes.map { "\($0.padding(toLength: 20, withPad: " ", startingAt: 0)) \(snapshot.ordersByOutcome[$0] ?? 0)" }.joined(separator: "\n"))
            revenue (delivered)  ₹\(String(format: "%.2f", Double(snapshot.revenueMinor) / 100))
            delivery time        avg \(String(format: "%.2f", snapshot.averageDeliverySeconds)) s, p95 \(String(format: "%.2f", snapshot.p95DeliverySeconds)) s
            orders last minute   \(snapshot.ordersLastMinute)
            active (last hour)   \(snapshot.activeRestaurants) restaurants, \(snapshot.activeCustomers) customers
            analytics orders=\(snapshot.ordersPlaced) \(outcomes.map { "\($0)=\(snapshot.ordersByOutcome[$0] ?? 0)" }.joined(separator: " ")) revenue_minor=\(snapshot.revenueMinor)
            """
    }
}
