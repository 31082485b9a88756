/// Aggregates of the analytics service, computed from its store's rows.
public struct AnalyticsSnapshot: Sendable, Hashable, Codable {
    /// Orders placed.
    public var ordersPlaced: Int = 0
    /// Orders per terminal state (`delivered`, `rejected`, `cancelled`, `payment_failed`).
    public var ordersByOutcome: [String: Int] = [:]
    /// Revenue of delivered orders, in minor units.
    public var revenueMinor: Int = 0
    /// Orders placed in the last minute (by event time).
    public var ordersLastMinute: Int = 0
    /// Mean time from placed to delivered, in seconds.
    public var averageDeliverySeconds: Double = 0
    /// 95th percentile of placed-to-delivered, in seconds.
    public var p95DeliverySeconds: Double = 0
    /// Restaurants with an order in the last hour.
    public var activeRestaurants: Int = 0
    /// Customers with an order in the last hour.
    public var activeCustomers: Int = 0

    /// Creates an empty snapshot.
    public init() {}
}

