import Foundation

/// Representative events of each type, for `Pipeline.emits` contract declarations and tests.
public enum SampleEvents {
    static let time = Date(timeIntervalSince1970: 1_773_491_400)  // 2026-03-14T12:30:00Z
    static let home = Location(lat: 12.9721, lon: 77.5933)

    /// A placed order.
    public static let placed = OrderPlaced(
        orderId: "ord-000001", customerId: "cus-ben-0007", restaurantId: "ben-dosa-corner", city: "bengaluru",
        items: [OrderItem(itemId: "masala-dosa", quantity: 2)], deliveryLocation: home, paymentToken: "tok_visa_4242",
        placedAt: time
    )
    /// An accepted order.
    public static let accepted = OrderAccepted(
        orderId: "ord-000001", customerId: "cus-ben-0007", restaurantId: "ben-dosa-corner", city: "bengaluru",
        lines: [
            PricedLine(
                itemId: "masala-dosa", name: "Masala dosa", quantity: 2, unitPriceMinor: 12000, lineTotalMinor: 24000)
        ],
        subtotalMinor: 24000, deliveryChargeMinor: 3600, totalMinor: 27600, currency: "INR", distanceKm: 2.4,
        deliveryLocation: home, acceptedAt: time
    )
    /// Rejections by the platform and by a restaurant.
    public static let rejectedByPlatform = OrderRejected(
        orderId: "ord-000002", reason: .unknownRestaurant, rejectedBy: "platform", detail: "no restaurant 'ghost'",
        rejectedAt: time
    )
    /// A restaurant's rejection.
    public static let rejectedByRestaurant = OrderRejected(
        orderId: "ord-000003", reason: .outOfStock, rejectedBy: "restaurant",
        detail: "ben-dosa-corner has 0 of chefs-special left, 1 ordered", rejectedAt: time
    )
    /// A failed payment.
    public static let paymentFailed = PaymentFailed(
        orderId: "ord-000004", reason: "card_declined", amountMinor: 27600, failedAt: time)
    /// A confirmation.
    public static let confirmed = OrderConfirmed(
        orderId: "ord-000001", restaurantId: "ben-dosa-corner", estimatedReadyMinutes: 12, confirmedAt: time)
    /// Preparation started.
    public static let preparing = OrderPreparing(
        orderId: "ord-000001", restaurantId: "ben-dosa-corner", preparationMinutes: 12, startedAt: time)
    /// Ready for pickup.
    public static let ready = OrderReady(
        orderId: "ord-000001", restaurantId: "ben-dosa-corner", city: "bengaluru", pickupLocation: home,
        readyAt: time.addingTimeInterval(720)
    )
    /// A partner assigned.
    public static let assigned = DeliveryAssigned(
        orderId: "ord-000001", partnerId: "ptn-ben-03", distanceToRestaurantKm: 0.8, assignedAt: time)
    /// Picked up.
    public static let pickedUp = OrderPickedUp(orderId: "ord-000001", partnerId: "ptn-ben-03", pickedUpAt: time)
    /// Delivered.
    public static let delivered = OrderDelivered(
        orderId: "ord-000001", partnerId: "ptn-ben-03", location: home, deliveredAt: time)
    /// Cancelled by the customer.
    public static let cancelled = OrderCancelled(
        orderId: "ord-000005", reason: "customer_request", cancelledBy: "customer", cancelledAt: time)
    /// A partner's position.
    public static let partnerMoved = PartnerLocationUpdated(
        partnerId: "ptn-ben-03", city: "bengaluru", location: home, updatedAt: time)
}
