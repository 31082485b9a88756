// food-orders: validates placed orders (restaurant exists and is open, items on the menu, customer within the
// delivery radius), prices them from the menu with a delivery charge by distance, charges the payment, and owns
// the order state machine (illegal transitions are recorded and ignored).
import ArgumentParser
import DabbaPipeline
import DabbaService
import DemoServiceKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation

@main
struct OrdersService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "food-orders", abstract: "Validates, prices and charges orders; owns the order state machine."
    )

    @OptionGroup var options: PipelineOptions
    @OptionGroup var food: DemoServiceOptions

    func run() async throws {
        try food.check(options, system: "food-delivery")
        let pricer = OrderPricer()
        var pipeline = Pipeline(service: "food-orders", groupID: "food-orders")
        pipeline.emits(SampleEvents.accepted)
        pipeline.emits(SampleEvents.rejectedByPlatform)
        pipeline.emits(SampleEvents.paymentFailed)
        pipeline.onOrderEvents { update, context in
            let database = try FoodStore.database(context)
            try FoodStore.recordEffect(
                "state:\(update.event.orderId):\(update.to.rawValue)", context: context, in: database)
            guard let order = update.event as? OrderPlaced else { return }
            let now = Date()
            let priced: PricedOrder
            do {
                priced = try pricer.price(order)
            } catch let refusal as OrderRefusal {
                context.logger.info("rejected \(order.orderId): \(refusal)")
                try await context.emit(
                    OrderRejected(
                        orderId: order.orderId, reason: refusal.reason, rejectedBy: "platform", detail: refusal.detail,
                        rejectedAt: now)
                )
                return
            }
            if let failure = PaymentProvider.charge(token: order.paymentToken, amountMinor: priced.totalMinor) {
                try await context.emit(
                    PaymentFailed(
                        orderId: order.orderId, reason: failure, amountMinor: priced.totalMinor, failedAt: now)
                )
                return
            }
            try FoodStore.recordEffect("charge:\(order.orderId)", context: context, in: database)
            _ = try database.execute(
                "INSERT INTO charges (order_id, amount_minor, currency) VALUES (?, ?, ?)",
                [.text(order.orderId), .integer(Int64(priced.totalMinor)), .text(priced.currency)]
            )
            try await context.emit(
                OrderAccepted(
                    orderId: order.orderId, customerId: order.customerId, restaurantId: order.restaurantId,
                    city: order.city,
                    lines: priced.lines, subtotalMinor: priced.subtotalMinor,
                    deliveryChargeMinor: priced.deliveryChargeMinor,
                    totalMinor: priced.totalMinor, currency: priced.currency, distanceKm: priced.distanceKm,
                    deliveryLocation: order.deliveryLocation, acceptedAt: now
                )
            )
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: FoodStore.migrations + [
                "CREATE TABLE IF NOT EXISTS charges (order_id TEXT NOT NULL, amount_minor INTEGER NOT NULL, currency TEXT NOT NULL)"
            ],
            configure: { food.apply(to: &$0) }
        )
    }
}
