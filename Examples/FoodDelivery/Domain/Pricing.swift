import Foundation

/// The delivery charge by distance: a base fee plus a per-kilometre fee, capped by the delivery radius.
public struct DeliveryTariff: Sendable, Hashable {
    /// The fee for any delivery, in minor units.
    public var baseMinor: Int
    /// The fee per started kilometre.
    public var perKmMinor: Int
    /// Orders farther than this are rejected.
    public var maxDistanceKm: Double
    /// Subtotals from this amount on get free delivery.
    public var freeFromSubtotalMinor: Int

    /// ₹20 base, ₹8 per started km, 12 km radius, free from ₹800.
    public static let standard = DeliveryTariff(
        baseMinor: 2000, perKmMinor: 800, maxDistanceKm: 12, freeFromSubtotalMinor: 80000)

    /// Creates a tariff.
    public init(baseMinor: Int, perKmMinor: Int, maxDistanceKm: Double, freeFromSubtotalMinor: Int) {
        self.baseMinor = baseMinor
        self.perKmMinor = perKmMinor
        self.maxDistanceKm = maxDistanceKm
        self.freeFromSubtotalMinor = freeFromSubtotalMinor
    }

    /// The charge for a distance and subtotal.
    /// - Parameters:
    ///   - distanceKm: Restaurant to customer.
    ///   - subtotalMinor: The order's subtotal.
    /// - Returns: The charge in minor units.
    public func charge(distanceKm: Double, subtotalMinor: Int) -> Int {
        if subtotalMinor >= freeFromSubtotalMinor { return 0 }
        return baseMinor + perKmMinor * Int(distanceKm.rounded(.up))
    }
}

/// Why the platform refused an order, with a sentence naming what was wrong.
public struct OrderRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// The reason code.
    public var reason: RejectionReason
    /// What was wrong, naming the restaurant or item.
    public var detail: String
    public var description: String { "\(reason.rawValue): \(detail)" }
}

/// A priced order.
public struct PricedOrder: Sendable, Hashable {
    /// The lines.
    public var lines: [PricedLine]
    /// Sum of the lines.
    public var subtotalMinor: Int
    /// By distance.
    public var deliveryChargeMinor: Int
    /// Subtotal plus delivery.
    public var totalMinor: Int
    /// The city's currency.
    public var currency: String
    /// Restaurant to customer.
    public var distanceKm: Double
}

/// Validates a placed order against the reference data and prices it from the menu.
public struct OrderPricer: Sendable {
    /// The reference data.
    public let catalog: ReferenceCatalog
    /// The delivery tariff.
    public let tariff: DeliveryTariff

    /// Creates a pricer.
    public init(catalog: ReferenceCatalog = .standard, tariff: DeliveryTariff = .standard) {
        self.catalog = catalog
        self.tariff = tariff
    }

    /// Prices an order, or says why the platform refuses it.
    /// - Parameter order: The placed order.
    /// - Returns: The priced order.
    /// - Throws: ``OrderRefusal`` for an unknown restaurant or item, a closed restaurant, or a customer out of range.
    public func price(_ order: OrderPlaced) throws(OrderRefusal) -> PricedOrder {
        guard let restaurant = catalog.restaurant(order.restaurantId) else {
            throw OrderRefusal(reason: .unknownRestaurant, detail: "no restaurant '\(order.restaurantId)'")
        }
        let hour =
            Calendar(identifier: .gregorian).dateComponents(
                in: TimeZone(identifier: "UTC") ?? .current, from: order.placedAt
            ).hour ?? 0
        guard restaurant.isOpen(atUTCHour: hour) else {
            throw OrderRefusal(reason: .restaurantClosed, detail: "\(restaurant.id) is closed at \(hour):00 UTC")
        }
        var lines: [PricedLine] = []
        for item in order.items {
            guard let menuItem = restaurant.item(item.itemId) else {
                throw OrderRefusal(reason: .unknownItem, detail: "\(restaurant.id) has no '\(item.itemId)' on its menu")
            }
            lines.append(
                PricedLine(
                    itemId: menuItem.id, name: menuItem.name, quantity: item.quantity,
                    unitPriceMinor: menuItem.priceMinor, lineTotalMinor: menuItem.priceMinor * item.quantity
                )
            )
        }
        let distance = restaurant.location.distanceKm(to: order.deliveryLocation)
        guard distance <= tariff.maxDistanceKm else {
            throw OrderRefusal(
                reason: .outOfDeliveryArea,
                detail:
                    "the customer is \(String(format: "%.1f", distance)) km from \(restaurant.id) (limit \(Int(tariff.maxDistanceKm)) km)"
            )
        }
        let subtotal = lines.reduce(0) { $0 + $1.lineTotalMinor }
        let charge = tariff.charge(distanceKm: distance, subtotalMinor: subtotal)
        return PricedOrder(
            lines: lines, subtotalMinor: subtotal, deliveryChargeMinor: charge, totalMinor: subtotal + charge,
            currency: catalog.city(restaurant.city)?.currency ?? "INR", distanceKm: (distance * 10).rounded() / 10
        )
    }
}

/// The example's fake payment provider: deterministic by token.
public enum PaymentProvider {
    /// Charges a token.
    /// - Parameters:
    ///   - token: The payment token (`tok_declined…` is declined, `tok_nofunds…` has insufficient funds).
    ///   - amountMinor: The amount.
    /// - Returns: nil when charged, else the failure reason (`card_declined`, `insufficient_funds`).
    public static func charge(token: String, amountMinor: Int) -> String? {
        if token.hasPrefix("tok_declined") { return "card_declined" }
        if token.hasPrefix("tok_nofunds") { return "insufficient_funds" }
        return nil
    }
}

/// A restaurant's decision on an accepted order.
public enum KitchenDecision: Sendable, Equatable {
    /// Take it: reserve these quantities.
    case confirm(preparationMinutes: Int)
    /// Refuse it.
    case reject(OrderRefusal)
}

/// The restaurant's rules: open now, and enough stock of every line.
public enum Kitchen {
    /// Decides whether a restaurant takes an order.
    /// - Parameters:
    ///   - order: The accepted order.
    ///   - restaurant: The restaurant.
    ///   - stock: What is left of each item (by item id).
    ///   - hour: The UTC hour of the decision.
    /// - Returns: Confirm (with the preparation time) or reject (closed, out of stock).
    public static func decide(_ order: OrderAccepted, restaurant: Restaurant, stock: [String: Int], hour: Int)
        -> KitchenDecision
    {
        guard restaurant.isOpen(atUTCHour: hour) else {
            return .reject(
                OrderRefusal(reason: .restaurantClosed, detail: "\(restaurant.id) is closed at \(hour):00 UTC"))
        }
        var wanted: [String: Int] = [:]
        for line in order.lines { wanted[line.itemId, default: 0] += line.quantity }
        for (item, quantity) in wanted.sorted(by: { $0.key < $1.key }) {
            let left = stock[item] ?? 0
            if left < quantity {
                return .reject(
                    OrderRefusal(
                        reason: .outOfStock, detail: "\(restaurant.id) has \(left) of \(item) left, \(quantity) ordered"
                    ))
            }
        }
        return .confirm(preparationMinutes: restaurant.preparationMinutes)
    }
}
