import Foundation

extension EventRegistry {
    /// Decodes a payload of a registered type with the same decoder ``EventDecoder`` uses for a consumed record,
    /// without a Kafka record around it (contract checks decode the catalog's examples this way).
    /// - Parameters:
    ///   - eventType: The event type name.
    ///   - data: The payload bytes.
    ///   - codec: The codec (JSON by default).
    /// - Returns: The decoded event.
    /// - Throws: ``PayloadDecodingError`` naming the type and, for a mismatch, the field.
    public func decodePayload(
        _ eventType: String, from data: Data, codec: any EventCodec = JSONEventCodec()
    ) throws -> any Event {
        guard let decode = entry(for: eventType)?.decodePayload else {
            throw PayloadDecodingError(
                eventType: eventType,
                reason: "event type '\(eventType)' is not registered (known: \(eventTypes.joined(separator: ", ")))"
            )
        }
        do {
            return try data.withUnsafeBytes { try decode($0, codec) }
        } catch {
            throw PayloadDecodingError(eventType: eventType, reason: EventDecoder.describe(error))
        }
    }
}

/// A payload did not decode into its registered Swift type.
public struct PayloadDecodingError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The event type.
    public var eventType: String
    /// What did not match, e.g. `missing field 'orderId' at /orderId`.
    public var reason: String

    /// Creates the error.
    /// - Parameters:
    ///   - eventType: The event type.
    ///   - reason: What did not match.
    public init(eventType: String, reason: String) {
        self.eventType = eventType
        self.reason = reason
    }

    /// The reason.
    public var description: String { reason }
}
