// food-restaurants: each restaurant confirms or rejects accepted orders against its stock and opening hours
// (confirming reserves the stock), then cooks: preparing, and ready after its preparation time (simulated: the
// ready event carries the time the food would be ready). Stock comes back when an order is cancelled before
// the kitchen starts.
import ArgumentParser
import DabbaPipeline
import DabbaService
import DemoServiceKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation

@main
struct RestaurantsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "food-restaurants",
        abstract: "Confirms or rejects orders against stock and opening hours, then cooks them."
    )

    @OptionGroup var options: PipelineOptions
    @OptionGroup var food: DemoServiceOptions

    func run() async throws {
        try food.check(options, system: "food-delivery")
        let catalog = ReferenceCatalog.standard
        var pipeline = Pipeline(service: "food-restaurants", groupID: "food-restaurants")
        pipeline.emits(SampleEvents.confirmed)
        pipeline.emits(SampleEvents.rejectedByRestaurant)
        pipeline.emits(SampleEvents.preparing)
        pipeline.emits(SampleEvents.ready)
        pipeline.onOrderEvents { update, context in
            let database = try FoodStore.database(context)
            let now = Date()
            switch update.event {
            case let order as OrderAccepted:
                guard let restaurant = catalog.restaurant(order.restaurantId) else {
                    throw PermanentError(
                        HandlerFailure("accepted order \(order.orderId) names unknown restaurant \(order.restaurantId)")
                    )
                }
                var stock: [String: Int] = [:]
                for row in try database.query(
                    "SELECT item_id, remaining FROM stock WHERE restaurant_id = ?", [.text(restaurant.id)])
                {
                    if case .text(let item) = row[0], case .integer(let left) = row[1] { stock[item] = Int(left) }
                }
                var utc = Calendar(identifier: .gregorian)
                utc.timeZone = TimeZone(identifier: "UTC") ?? utc.timeZone
                let hour = utc.component(.hour, from: now)
                switch Kitchen.decide(order, restaurant: restaurant, stock: stock, hour: hour) {
                case .reject(let refusal):
                    try await context.emit(
                        OrderRejected(
                            orderId: order.orderId, reason: refusal.reason, rejectedBy: "restaurant",
                            detail: refusal.detail, rejectedAt: now)
                    )
                case .confirm(let minutes):
                    for line in order.lines {
                        _ = try database.execute(
                            "UPDATE stock SET remaining = remaining - ? WHERE restaurant_id = ? AND item_id = ?",
                            [.integer(Int64(line.quantity)), .text(restaurant.id), .text(line.itemId)]
                        )
                        _ = try database.execute(
                            "INSERT INTO reservations (order_id, restaurant_id, item_id, quantity) VALUES (?, ?, ?, ?)",
                            [
                                .text(order.orderId), .text(restaurant.id), .text(line.itemId),
                                .integer(Int64(line.quantity)),
                            ]
                        )
                    }
                    try FoodStore.recordEffect("reserve:\(order.orderId)", context: context, in: database)
                    try await context.emit(
                        OrderConfirmed(
                            orderId: order.orderId, restaurantId: restaurant.id, estimatedReadyMinutes: minutes,
                            confirmedAt: now)
                    )
                }
            case let order as OrderConfirmed:
                try await context.emit(
                    OrderPreparing(
                        orderId: order.orderId, restaurantId: order.restaurantId,
                        preparationMinutes: order.estimatedReadyMinutes, startedAt: now)
                )
            case let order as OrderPreparing:
                guard let restaurant = catalog.restaurant(order.restaurantId) else {
                    throw PermanentError(
                        HandlerFailure("order \(order.orderId) names unknown restaurant \(order.restaurantId)"))
                }
                try FoodStore.recordEffect("cook:\(order.orderId)", context: context, in: database)
                try await context.emit(
                    OrderReady(
                        orderId: order.orderId, restaurantId: restaurant.id, city: restaurant.city,
                        pickupLocation: restaurant.location,
                        readyAt: order.startedAt.addingTimeInterval(Double(order.preparationMinutes) * 60)
                    )
                )
            case let cancel as OrderCancelled where update.from == .confirmed:
                // The kitchen had not started: the reserved stock goes back on the shelf.
                _ = try database.execute(
                    "UPDATE stock SET remaining = remaining + (SELECT SUM(quantity) FROM reservations r WHERE r.order_id = ? AND r.restaurant_id = stock.restaurant_id AND r.item_id = stock.item_id) WHERE EXISTS (SELECT 1 FROM reservations r WHERE r.order_id = ? AND r.restaurant_id = stock.restaurant_id AND r.item_id = stock.item_id)",
                    [.text(cancel.orderId), .text(cancel.orderId)]
                )
                try FoodStore.recordEffect("restock:\(cancel.orderId)", context: context, in: database)
            default:
                break
            }
        }
        let seed = catalog.restaurants.flatMap { restaurant in
            restaurant.menu.map { item in
                "INSERT INTO stock (restaurant_id, item_id, remaining) VALUES ('\(restaurant.id)', '\(item.id)', \(item.stock)) ON CONFLICT (restaurant_id, item_id) DO NOTHING"
            }
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: FoodStore.migrations + [
                "CREATE TABLE IF NOT EXISTS stock (restaurant_id TEXT NOT NULL, item_id TEXT NOT NULL, remaining INTEGER NOT NULL, PRIMARY KEY (restaurant_id, item_id))",
                "CREATE TABLE IF NOT EXISTS reservations (order_id TEXT NOT NULL, restaurant_id TEXT NOT NULL, item_id TEXT NOT NULL, quantity INTEGER NOT NULL)",
            ] + seed,
            configure: { food.apply(to: &$0) }
        )
    }
}
