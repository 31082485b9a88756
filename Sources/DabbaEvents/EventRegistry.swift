import Foundation

/// The event types a consumer understands, by type name.
public struct EventRegistry: Sendable {
    /// Decodes borrowed payload bytes (valid only during the call) with a codec.
    typealias Decode = @Sendable (UnsafeRawBufferPointer, any EventCodec) throws -> any Event
    private(set) var decoders: [String: Decode] = [:]
    private(set) var versions: [String: Int] = [:]

    /// Creates a registry of event types.
    /// - Parameter types: The event types.
    public init(_ types: [any Event.Type] = []) {
        for type in types { register(type) }
    }

    /// Adds an event type (replacing one with the same name).
    /// - Parameter type: The event type.
    public mutating func register<E: Event>(_ type: E.Type) {
        decoders[E.eventType] = { bytes, codec in try codec.decode(E.self, borrowing: bytes) }
        versions[E.eventType] = E.schemaVersion
    }

    /// The registered type names, sorted.
    public var eventTypes: [String] { decoders.keys.sorted() }

    /// Whether a type name is registered.
    /// - Parameter eventType: The type name.
    public func contains(_ eventType: String) -> Bool { decoders[eventType] != nil }

    /// The schema version the registered type was written for.
    /// - Parameter eventType: The type name.
    public func schemaVersion(of eventType: String) -> Int? { versions[eventType] }

    func decoder(for eventType: String) -> Decode? { decoders[eventType] }
}
