import Foundation

/// Who a notification is for.
public enum Audience: String, Sendable, Codable {
    /// The customer who ordered.
    case customer
    /// The restaurant that cooks.
    case restaurant
}

/// How a notification is sent.
public enum NotificationChannel: String, Sendable, Codable {
    /// A push notification to the app.
    case push
    /// A text message.
    case sms
    /// An e-mail.
    case email
}

/// A rendered message.
public struct RenderedNotification: Sendable, Hashable {
    /// Who it is for.
    public var audience: Audience
    /// The recipient id (customer or restaurant id).
    public var recipient: String
    /// How it is sent.
    public var channel: NotificationChannel
    /// The text.
    public var text: String
}

/// What a notification needs to know about the order.
public struct OrderSummary: Sendable, Hashable {
    /// The order.
    public var orderId: String
    /// The customer.
    public var customerId: String
    /// The restaurant id.
    public var restaurantId: String
    /// The restaurant's display name (the id when unknown).
    public var restaurantName: String
    /// The total, when priced.
    public var totalMinor: Int?

    /// Creates a summary.
    public init(orderId: String, customerId: String, restaurantId: String, restaurantName: String, totalMinor: Int?) {
        self.orderId = orderId
        self.customerId = customerId
        self.restaurantId = restaurantId
        self.restaurantName = restaurantName
        self.totalMinor = totalMinor
    }
}

/// Renders the messages of each state change: exactly one customer message per state, plus restaurant messages
/// when the restaurant has something to do (a new order to confirm, a cancellation).
public enum NotificationRenderer {
    /// The messages for an order entering a state.
    /// - Parameters:
    ///   - state: The state entered.
    ///   - order: The order.
    ///   - detail: A reason or partner id to mention, if any.
    /// - Returns: The messages, the customer's first.
    public static func render(_ state: OrderState, order: OrderSummary, detail: String? = nil) -> [RenderedNotification]
    {
        let amount = order.totalMinor.map { String(format: "₹%.2f", Double($0) / 100) } ?? ""
        let customerText: String
        let channel: NotificationChannel
        switch state {
        case .placed:
            (customerText, channel) = ("We received your order \(order.orderId) for \(order.restaurantName).", .push)
        case .accepted:
            (customerText, channel) = (
                "Payment of \(amount) received; \(order.restaurantName) will confirm shortly.", .email
            )
        case .confirmed:
            (customerText, channel) = ("\(order.restaurantName) confirmed your order.", .push)
        case .preparing:
            (customerText, channel) = ("Your food is being prepared.", .push)
        case .ready:
            (customerText, channel) = ("Your order is ready; finding a delivery partner.", .push)
        case .assigned:
            (customerText, channel) = ("\(detail ?? "A partner") is on the way to \(order.restaurantName).", .push)
        case .pickedUp:
            (customerText, channel) = ("Your order is out for delivery.", .sms)
        case .delivered:
            (customerText, channel) = ("Delivered. Enjoy your meal!", .push)
        case .rejected:
            (customerText, channel) = ("Sorry, your order could not be accepted: \(detail ?? "unavailable").", .sms)
        case .cancelled:
            (customerText, channel) = ("Your order \(order.orderId) was cancelled.", .email)
        case .paymentFailed:
            (customerText, channel) = ("Your payment failed (\(detail ?? "declined")); the order was not placed.", .sms)
        }
        var messages = [
            RenderedNotification(audience: .customer, recipient: order.customerId, channel: channel, text: customerText)
        ]
        switch state {
        case .accepted:
            messages.append(
                RenderedNotification(
                    audience: .restaurant, recipient: order.restaurantId, channel: .push,
                    text: "New order \(order.orderId) (\(amount)): please confirm."
                )
            )
        case .cancelled:
            messages.append(
                RenderedNotification(
                    audience: .restaurant, recipient: order.restaurantId, channel: .push,
                    text: "Order \(order.orderId) was cancelled by the customer."
                )
            )
        default:
            break
        }
        return messages
    }
}
