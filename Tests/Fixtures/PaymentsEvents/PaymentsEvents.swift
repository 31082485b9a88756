// The payments events of Topics/payments.asyncapi.yaml as Swift types, shared by the tests and fixture executables
// that play the payments authorizer. Types a test needs in a different shape (an extra field, another key) stay in
// that test.
import DabbaCatalog
import DabbaEvents
import Foundation

/// An amount in minor units of a currency.
public struct Money: Codable, Sendable, Equatable {
    /// The amount in minor units (cents).
    public var amountMinor: Int
    /// The ISO 4217 currency code.
    public var currency: String

    /// Creates an amount.
    public init(amountMinor: Int, currency: String) {
        self.amountMinor = amountMinor
        self.currency = currency
    }
}

/// `payments.payment.requested`: checkout asks for a payment; keyed by order.
public struct PaymentRequested: Event, Equatable {
    /// The event type name on the wire.
    public static let eventType = "payments.payment.requested"
    /// The payment.
    public var paymentId: String
    /// The order paid for (the partition key).
    public var orderId: String
    /// The paying customer.
    public var customerId: String
    /// The amount.
    public var amount: Money
    /// `card`, `bank_transfer` or `wallet`.
    public var method: String
    /// When checkout asked.
    public var requestedAt: Date
    /// The order id: the catalog keys payments by order.
    public var partitionKey: String? { orderId }

    /// Creates the event.
    public init(
        paymentId: String, orderId: String, customerId: String, amount: Money, method: String, requestedAt: Date
    ) {
        self.paymentId = paymentId
        self.orderId = orderId
        self.customerId = customerId
        self.amount = amount
        self.method = method
        self.requestedAt = requestedAt
    }
}

/// `payments.payment.authorized`: the provider authorized the payment; keyed by order.
public struct PaymentAuthorized: Event, Equatable {
    /// The event type name on the wire.
    public static let eventType = "payments.payment.authorized"
    /// The payment.
    public var paymentId: String
    /// The order paid for (the partition key).
    public var orderId: String
    /// The amount.
    public var amount: Money
    /// The payment provider.
    public var provider: String
    /// The provider's authorization code.
    public var authorizationCode: String
    /// When the provider authorized it.
    public var authorizedAt: Date
    /// The order id: the catalog keys payments by order.
    public var partitionKey: String? { orderId }

    /// Creates the event.
    public init(
        paymentId: String, orderId: String, amount: Money, provider: String, authorizationCode: String,
        authorizedAt: Date
    ) {
        self.paymentId = paymentId
        self.orderId = orderId
        self.amount = amount
        self.provider = provider
        self.authorizationCode = authorizationCode
        self.authorizedAt = authorizedAt
    }
}

/// `payments.payment.declined`: the provider declined the payment; keyed by order.
public struct PaymentDeclined: Event, Equatable {
    /// The event type name on the wire.
    public static let eventType = "payments.payment.declined"
    /// The payment.
    public var paymentId: String
    /// The order paid for (the partition key).
    public var orderId: String
    /// The catalog's decline reason (`insufficient_funds`, `card_expired`, …).
    public var reason: String
    /// Whether asking again may succeed.
    public var retryable: Bool
    /// When the provider declined it.
    public var declinedAt: Date
    /// The order id: the catalog keys payments by order.
    public var partitionKey: String? { orderId }

    /// Creates the event.
    public init(paymentId: String, orderId: String, reason: String, retryable: Bool, declinedAt: Date) {
        self.paymentId = paymentId
        self.orderId = orderId
        self.reason = reason
        self.retryable = retryable
        self.declinedAt = declinedAt
    }
}

/// The repository's `Topics/` catalog (it declares the payments events), found by walking up from this file.
/// - Returns: The loaded catalog.
/// - Throws: `CocoaError(.fileNoSuchFile)` when no parent directory has `Topics/payments.asyncapi.yaml`; the
///   catalog's load errors.
public func paymentsCatalog(file: String = #filePath) throws -> Catalog {
    var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
    while directory.path != "/" {
        let topics = directory.appendingPathComponent("Topics")
        if FileManager.default.fileExists(atPath: topics.appendingPathComponent("payments.asyncapi.yaml").path) {
            return try Catalog.load(directory: topics)
        }
        directory.deleteLastPathComponent()
    }
    throw CocoaError(.fileNoSuchFile)
}
