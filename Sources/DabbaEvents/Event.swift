import DabbaKafka

/// A domain event: a `Codable` value with a stable type name, a schema version and a partition key.
///
/// ```swift
/// struct OrderPlaced: Event {
///     static let eventType = "food.order.placed"
///     static let schemaVersion = 1
///     var orderID: String
///     var customerID: String
///     var partitionKey: String? { orderID }   // every event of one order stays in order
/// }
/// ```
public protocol Event: Codable, Sendable {
    /// The stable event type name, written to `ce_type` (e.g. `food.order.placed`). Never rename it: consumers
    /// route on it.
    static var eventType: String { get }
    /// The payload schema's version, written to `ce_dataschema`. Bump it when the schema changes.
    static var schemaVersion: Int { get }
    /// The Kafka key: events with equal keys land on the same partition and keep their order. Return nil only for
    /// events whose order does not matter (they are spread over partitions).
    var partitionKey: String? { get }
}

extension Event {
    /// Version 1 unless the type says otherwise.
    public static var schemaVersion: Int { 1 }
}
