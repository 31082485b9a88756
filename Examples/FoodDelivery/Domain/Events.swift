import DabbaEvents
import Foundation

/// A point on the map, in degrees.
public struct Location: Codable, Sendable, Hashable {
    /// Latitude in degrees.
    public var lat: Double
    /// Longitude in degrees.
    public var lon: Double

    /// Creates a location.
    /// - Parameters:
    ///   - lat: Latitude in degrees.
    ///   - lon: Longitude in degrees.
    public init(lat: Double, lon: Double) {
        self.lat = lat
        self.lon = lon
    }

    /// The great-circle distance to another location, in kilometres (haversine).
    /// - Parameter other: The other location.
    /// - Returns: The distance in km.
    public func distanceKm(to other: Location) -> Double {
        let radius = 6371.0
        let dLat = (other.lat - lat) * .pi / 180
        let dLon = (other.lon - lon) * .pi / 180
        let a =
            sin(dLat / 2) * sin(dLat / 2)
            + cos(lat * .pi / 180) * cos(other.lat * .pi / 180) * sin(dLon / 2) * sin(dLon / 2)
        return radius * 2 * atan2(a.squareRoot(), (1 - a).squareRoot())
    }
}

/// An event of one order's life on `food.orders`: keyed by the order id, and moving the order's state machine.
public protocol OrderEvent: Event {
    /// The order the event belongs to.
    var orderId: String { get }
    /// The state machine input this event is.
    static var transition: OrderTransition { get }
}

extension OrderEvent {
    /// Every event of one order shares the order id as key, so they stay in order.
    public var partitionKey: String? { orderId }
}

/// One item of a placed order, as the customer chose it.
public struct OrderItem: Codable, Sendable, Hashable {
    /// The menu item id.
    public var itemId: String
    /// How many.
    public var quantity: Int

    /// Creates an item.
    public init(itemId: String, quantity: Int) {
        self.itemId = itemId
        self.quantity = quantity
    }
}

/// A priced line of an accepted order.
public struct PricedLine: Codable, Sendable, Hashable {
    /// The menu item id.
    public var itemId: String
    /// The item's name on the menu.
    public var name: String
    /// How many.
    public var quantity: Int
    /// The menu price of one, in minor units.
    public var unitPriceMinor: Int
    /// `quantity × unitPriceMinor`.
    public var lineTotalMinor: Int

    /// Creates a line.
    public init(itemId: String, name: String, quantity: Int, unitPriceMinor: Int, lineTotalMinor: Int) {
        self.itemId = itemId
        self.name = name
        self.quantity = quantity
        self.unitPriceMinor = unitPriceMinor
        self.lineTotalMinor = lineTotalMinor
    }
}

/// `food.order.placed`: a customer placed an order (not yet validated, priced or paid).
public struct OrderPlaced: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.order.placed"
    /// The state machine input.
    public static let transition = OrderTransition.place
    /// The order.
    public var orderId: String
    /// The customer.
    public var customerId: String
    /// The restaurant the customer chose (may not exist: the platform rejects such orders).
    public var restaurantId: String
    /// The customer's city.
    public var city: String
    /// What the customer chose.
    public var items: [OrderItem]
    /// Where to deliver.
    public var deliveryLocation: Location
    /// The payment method's token (the fake payment provider declines `tok_declined…` and `tok_nofunds…`).
    public var paymentToken: String
    /// When the customer placed it.
    public var placedAt: Date

    /// Creates the event.
    public init(
        orderId: String, customerId: String, restaurantId: String, city: String, items: [OrderItem],
        deliveryLocation: Location, paymentToken: String, placedAt: Date
    ) {
        self.orderId = orderId
        self.customerId = customerId
        self.restaurantId = restaurantId
        self.city = city
        self.items = items
        self.deliveryLocation = deliveryLocation
        self.paymentToken = paymentToken
        self.placedAt = placedAt
    }
}

/// `food.order.accepted`: the platform validated, priced and charged the order.
public struct OrderAccepted: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.order.accepted"
    /// The state machine input.
    public static let transition = OrderTransition.accept
    /// The order.
    public var orderId: String
    /// The customer.
    public var customerId: String
    /// The restaurant.
    public var restaurantId: String
    /// The city.
    public var city: String
    /// Priced lines.
    public var lines: [PricedLine]
    /// Sum of the lines.
    public var subtotalMinor: Int
    /// The delivery charge by distance.
    public var deliveryChargeMinor: Int
    /// What the customer pays.
    public var totalMinor: Int
    /// ISO 4217 currency.
    public var currency: String
    /// Restaurant to customer, in km.
    public var distanceKm: Double
    /// Where to deliver.
    public var deliveryLocation: Location
    /// When the platform accepted it.
    public var acceptedAt: Date

    /// Creates the event.
    public init(
        orderId: String, customerId: String, restaurantId: String, city: String, lines: [PricedLine],
        subtotalMinor: Int, deliveryChargeMinor: Int, totalMinor: Int, currency: String, distanceKm: Double,
        deliveryLocation: Location, acceptedAt: Date
    ) {
        self.orderId = orderId
        self.customerId = customerId
        self.restaurantId = restaurantId
        self.city = city
        self.lines = lines
        self.subtotalMinor = subtotalMinor
        self.deliveryChargeMinor = deliveryChargeMinor
        self.totalMinor = totalMinor
        self.currency = currency
        self.distanceKm = distanceKm
        self.deliveryLocation = deliveryLocation
        self.acceptedAt = acceptedAt
    }
}

/// Why an order was rejected (`reason` of ``OrderRejected``).
public enum RejectionReason: String, Codable, Sendable, CaseIterable {
    /// No restaurant with that id.
    case unknownRestaurant = "unknown_restaurant"
    /// The restaurant is closed at the time of the order.
    case restaurantClosed = "restaurant_closed"
    /// An item is not on the restaurant's menu.
    case unknownItem = "unknown_item"
    /// The customer is farther than the delivery radius.
    case outOfDeliveryArea = "out_of_delivery_area"
    /// The restaurant has too few of an item left.
    case outOfStock = "out_of_stock"
}

/// `food.order.rejected`: the platform or the restaurant refused the order.
public struct OrderRejected: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.order.rejected"
    /// The state machine input.
    public static let transition = OrderTransition.reject
    /// The order.
    public var orderId: String
    /// Why.
    public var reason: RejectionReason
    /// `platform` (the orders service) or `restaurant`.
    public var rejectedBy: String
    /// A sentence naming what was wrong.
    public var detail: String
    /// When.
    public var rejectedAt: Date

    /// Creates the event.
    public init(orderId: String, reason: RejectionReason, rejectedBy: String, detail: String, rejectedAt: Date) {
        self.orderId = orderId
        self.reason = reason
        self.rejectedBy = rejectedBy
        self.detail = detail
        self.rejectedAt = rejectedAt
    }
}

/// `food.payment.failed`: charging the customer failed; the order ends here.
public struct PaymentFailed: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.payment.failed"
    /// The state machine input.
    public static let transition = OrderTransition.failPayment
    /// The order.
    public var orderId: String
    /// `card_declined` or `insufficient_funds`.
    public var reason: String
    /// The amount that could not be charged.
    public var amountMinor: Int
    /// When.
    public var failedAt: Date

    /// Creates the event.
    public init(orderId: String, reason: String, amountMinor: Int, failedAt: Date) {
        self.orderId = orderId
        self.reason = reason
        self.amountMinor = amountMinor
        self.failedAt = failedAt
    }
}

/// `food.order.confirmed`: the restaurant took the order and reserved its stock.
public struct OrderConfirmed: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.order.confirmed"
    /// The state machine input.
    public static let transition = OrderTransition.confirm
    /// The order.
    public var orderId: String
    /// The restaurant.
    public var restaurantId: String
    /// The restaurant's preparation time.
    public var estimatedReadyMinutes: Int
    /// When.
    public var confirmedAt: Date

    /// Creates the event.
    public init(orderId: String, restaurantId: String, estimatedReadyMinutes: Int, confirmedAt: Date) {
        self.orderId = orderId
        self.restaurantId = restaurantId
        self.estimatedReadyMinutes = estimatedReadyMinutes
        self.confirmedAt = confirmedAt
    }
}

/// `food.order.preparing`: the kitchen started cooking.
public struct OrderPreparing: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.order.preparing"
    /// The state machine input.
    public static let transition = OrderTransition.startPreparing
    /// The order.
    public var orderId: String
    /// The restaurant.
    public var restaurantId: String
    /// The restaurant's preparation time.
    public var preparationMinutes: Int
    /// When.
    public var startedAt: Date

    /// Creates the event.
    public init(orderId: String, restaurantId: String, preparationMinutes: Int, startedAt: Date) {
        self.orderId = orderId
        self.restaurantId = restaurantId
        self.preparationMinutes = preparationMinutes
        self.startedAt = startedAt
    }
}

/// `food.order.ready`: ready for pickup.
public struct OrderReady: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.order.ready"
    /// The state machine input.
    public static let transition = OrderTransition.markReady
    /// The order.
    public var orderId: String
    /// The restaurant.
    public var restaurantId: String
    /// The restaurant's city (partners are dispatched per city).
    public var city: String
    /// Where to pick it up.
    public var pickupLocation: Location
    /// When (simulated: start of preparation plus the preparation time).
    public var readyAt: Date

    /// Creates the event.
    public init(orderId: String, restaurantId: String, city: String, pickupLocation: Location, readyAt: Date) {
        self.orderId = orderId
        self.restaurantId = restaurantId
        self.city = city
        self.pickupLocation = pickupLocation
        self.readyAt = readyAt
    }
}

/// `food.delivery.assigned`: a delivery partner was assigned.
public struct DeliveryAssigned: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.delivery.assigned"
    /// The state machine input.
    public static let transition = OrderTransition.assignPartner
    /// The order.
    public var orderId: String
    /// The partner.
    public var partnerId: String
    /// The partner's distance to the restaurant when assigned.
    public var distanceToRestaurantKm: Double
    /// When.
    public var assignedAt: Date

    /// Creates the event.
    public init(orderId: String, partnerId: String, distanceToRestaurantKm: Double, assignedAt: Date) {
        self.orderId = orderId
        self.partnerId = partnerId
        self.distanceToRestaurantKm = distanceToRestaurantKm
        self.assignedAt = assignedAt
    }
}

/// `food.order.picked-up`: the partner picked the order up; it is out for delivery.
public struct OrderPickedUp: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.order.picked-up"
    /// The state machine input.
    public static let transition = OrderTransition.pickUp
    /// The order.
    public var orderId: String
    /// The partner.
    public var partnerId: String
    /// When.
    public var pickedUpAt: Date

    /// Creates the event.
    public init(orderId: String, partnerId: String, pickedUpAt: Date) {
        self.orderId = orderId
        self.partnerId = partnerId
        self.pickedUpAt = pickedUpAt
    }
}

/// `food.order.delivered`: the customer has the order.
public struct OrderDelivered: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.order.delivered"
    /// The state machine input.
    public static let transition = OrderTransition.deliver
    /// The order.
    public var orderId: String
    /// The partner.
    public var partnerId: String
    /// Where it was delivered (the partner's new position).
    public var location: Location
    /// When.
    public var deliveredAt: Date

    /// Creates the event.
    public init(orderId: String, partnerId: String, location: Location, deliveredAt: Date) {
        self.orderId = orderId
        self.partnerId = partnerId
        self.location = location
        self.deliveredAt = deliveredAt
    }
}

/// `food.order.cancelled`: the customer or support cancelled; void when it comes after pickup.
public struct OrderCancelled: OrderEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.order.cancelled"
    /// The state machine input.
    public static let transition = OrderTransition.cancel
    /// The order.
    public var orderId: String
    /// `customer_request` or `restaurant_issue`.
    public var reason: String
    /// `customer` or `support`.
    public var cancelledBy: String
    /// When.
    public var cancelledAt: Date

    /// Creates the event.
    public init(orderId: String, reason: String, cancelledBy: String, cancelledAt: Date) {
        self.orderId = orderId
        self.reason = reason
        self.cancelledBy = cancelledBy
        self.cancelledAt = cancelledAt
    }
}

/// `food.partner.location-updated`: a partner's position, keyed by partner id.
public struct PartnerLocationUpdated: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "food.partner.location-updated"
    /// The partner.
    public var partnerId: String
    /// The partner's city.
    public var city: String
    /// Where the partner is.
    public var location: Location
    /// When.
    public var updatedAt: Date
    /// A partner's positions keep their order.
    public var partitionKey: String? { partnerId }

    /// Creates the event.
    public init(partnerId: String, city: String, location: Location, updatedAt: Date) {
        self.partnerId = partnerId
        self.city = city
        self.location = location
        self.updatedAt = updatedAt
    }
}

/// Every order event type, in lifecycle order.
public let allOrderEventTypes: [any OrderEvent.Type] = [
    OrderPlaced.self, OrderAccepted.self, OrderRejected.self, PaymentFailed.self, OrderConfirmed.self,
    OrderPreparing.self, OrderReady.self, DeliveryAssigned.self, OrderPickedUp.self, OrderDelivered.self,
    OrderCancelled.self,
]
