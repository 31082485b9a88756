// food-notifications: renders the customer's message (push, SMS or e-mail) for every state an order enters, and
// the restaurant's messages for new and cancelled orders. Messages are rows in the service's store (written in
// the same transaction as the inbox mark, so a redelivered event never sends twice) and log lines.
import ArgumentParser
import DabbaPipeline
import DabbaService
import DemoServiceKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation

@main
struct NotificationsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "food-notifications",
        abstract: "Renders customer and restaurant messages for every order state change."
    )

    @OptionGroup var options: PipelineOptions
    @OptionGroup var food: DemoServiceOptions

    func run() async throws {
        try food.check(options, system: "food-delivery")
        let catalog = ReferenceCatalog.standard
        var pipeline = Pipeline(service: "food-notifications", groupID: "food-notifications")
        pipeline.onOrderEvents { update, context in
            let database = try FoodStore.database(context)
            let orderID = update.event.orderId
            var detail: String?
            switch update.event {
            case let placed as OrderPlaced:
                _ = try database.execute(
                    "INSERT INTO orders (order_id, customer_id, restaurant_id, total_minor) VALUES (?, ?, ?, NULL) ON CONFLICT (order_id) DO NOTHING",
                    [.text(orderID), .text(placed.customerId), .text(placed.restaurantId)]
                )
            case let accepted as OrderAccepted:
                _ = try database.execute(
                    "UPDATE orders SET total_minor = ? WHERE order_id = ?",
                    [.integer(Int64(accepted.totalMinor)), .text(orderID)])
            case let rejected as OrderRejected: detail = rejected.detail
            case let failed as PaymentFailed: detail = failed.reason.replacingOccurrences(of: "_", with: " ")
            case let assigned as DeliveryAssigned: detail = "Partner \(assigned.partnerId)"
            default: break
            }
            let rows = try database.query(
                "SELECT customer_id, restaurant_id, total_minor FROM orders WHERE order_id = ?", [.text(orderID)])
            guard let row = rows.first, case .text(let customer) = row[0], case .text(let restaurant) = row[1] else {
                throw PermanentError(HandlerFailure("no placed event seen for order \(orderID)"))
            }
            var total: Int?
            if case .integer(let value) = row[2] { total = Int(value) }
            let summary = OrderSummary(
                orderId: orderID, customerId: customer, restaurantId: restaurant,
                restaurantName: catalog.restaurant(restaurant)?.name ?? restaurant, totalMinor: total
            )
            for message in NotificationRenderer.render(update.to, order: summary, detail: detail) {
                _ = try database.execute(
                    "INSERT INTO notifications (order_id, state, audience, recipient, channel, text, event_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        .text(orderID), .text(update.to.rawValue), .text(message.audience.rawValue),
                        .text(message.recipient),
                        .text(message.channel.rawValue), .text(message.text), .text(context.envelope.id),
                    ]
                )
                try FoodStore.recordEffect(
                    "notify:\(orderID):\(update.to.rawValue):\(message.audience.rawValue)", context: context,
                    in: database)
                context.logger.info("\(message.channel.rawValue) to \(message.recipient): \(message.text)")
            }
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: FoodStore.migrations + [
                "CREATE TABLE IF NOT EXISTS orders (order_id TEXT PRIMARY KEY, customer_id TEXT NOT NULL, restaurant_id TEXT NOT NULL, total_minor INTEGER)",
                "CREATE TABLE IF NOT EXISTS notifications (order_id TEXT NOT NULL, state TEXT NOT NULL, audience TEXT NOT NULL, recipient TEXT NOT NULL, channel TEXT NOT NULL, text TEXT NOT NULL, event_id TEXT NOT NULL)",
            ],
            configure: { food.apply(to: &$0) }
        )
    }
}
