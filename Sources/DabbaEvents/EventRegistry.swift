import DabbaKafka
import Foundation

/// The event types a consumer understands, by type name.
public struct EventRegistry: Sendable {
    /// What the registry knows of one event type.
    struct Entry: Sendable {
        let eventType: String
        let version: Int
        /// The type's position in the registry (stable across re-registration), carried by its decoded events.
        let index: Int
        /// Decodes borrowed payload bytes (valid only during the call) into this type, as an `any Event`.
        let decodePayload: @Sendable (UnsafeRawBufferPointer, any EventCodec) throws -> any Event
        /// Decodes a binary-mode record's borrowed payload bytes into a ``DecodedEvent`` that holds the payload inline
        /// (no existential box) and makes its envelope from the headers when first asked. The codec is the built-in
        /// JSON one when it is nil.
        let decodeBinary:
            @Sendable (UnsafeRawBufferPointer, (any EventCodec)?, BinaryModeHeaders, KnownHeaderValues, KafkaMessage)
                throws -> DecodedEvent
        /// Decodes a structured-mode record's payload, with its envelope already made.
        let decodeStructured:
            @Sendable (UnsafeRawBufferPointer, any EventCodec, EventEnvelope, KafkaMessage) throws -> DecodedEvent
    }

    private(set) var entries: [String: Entry] = [:]

    /// Creates a registry of event types.
    /// - Parameter types: The event types.
    public init(_ types: [any Event.Type] = []) {
        for type in types { register(type) }
    }

    /// Adds an event type (replacing one with the same name).
    /// - Parameter type: The event type.
    public mutating func register<E: Event>(_ type: E.Type) {
        // Decided once here rather than per event: whether the type reads its JSON straight from the bytes. The
        // event class is captured as a value so that making an event needs no generic metadata lookup, and nothing
        // below wraps an E in an Optional (whose metadata this unspecialized code would look up per event).
        let json = JSONEventCodec.payloadDecoder(for: E.self)
        let eventClass = TypedDecodedEvent<E>.self
        let index = entries[E.eventType]?.index ?? entries.count
        entries[E.eventType] = Entry(
            eventType: E.eventType,
            version: E.schemaVersion,
            index: index,
            decodePayload: { bytes, codec in try codec.decode(E.self, borrowing: bytes) },
            decodeBinary: { bytes, codec, headers, knownValues, message in
                let value: E
                if let codec {
                    value = try codec.decode(E.self, borrowing: bytes)
                } else {
                    value = try json(bytes)
                }
                return eventClass.init(
                    value: value, message: message, eventType: E.eventType, typeIndex: index, headers: headers,
                    knownValues: knownValues
                )
            },
            decodeStructured: { bytes, codec, envelope, message in
                eventClass.init(
                    value: try codec.decode(E.self, borrowing: bytes), message: message, envelope: envelope,
                    typeIndex: index
                )
            }
        )
    }

    /// The registered type names, sorted.
    public var eventTypes: [String] { entries.keys.sorted() }

    /// Whether a type name is registered.
    /// - Parameter eventType: The type name.
    public func contains(_ eventType: String) -> Bool { entries[eventType] != nil }

    /// The schema version the registered type was written for.
    /// - Parameter eventType: The type name.
    public func schemaVersion(of eventType: String) -> Int? { entries[eventType]?.version }

    func entry(for eventType: String) -> Entry? { entries[eventType] }

    /// The position of a registered type, which its decoded events carry as ``DecodedEvent/typeIndex``: a runtime
    /// can keep per-type state in an array instead of hashing type names per event.
    /// - Parameter eventType: The type name.
    package func index(of eventType: String) -> Int? { entries[eventType]?.index }

    /// How many positions ``index(of:)`` can return (`0..<typeCount`).
    package var typeCount: Int { entries.count }
}

/// Values looked up by the UTF-8 bytes of a name, without making a `String` of the bytes first: the per-event path
/// finds an event type, or a header value most records repeat, straight from a record's header bytes.
struct ByteStringTable<Value: Sendable>: Sendable {
    private struct Slot: Sendable {
        let bytes: [UInt8]
        let value: Value
    }

    /// Open addressing with linear probing; the bucket count is a power of two at least twice the entry count.
    private let buckets: [Int]
    private let slots: [Slot]
    private let mask: Int

    init(_ pairs: [(String, Value)]) {
        var slots: [Slot] = []
        var seen: Set<String> = []
        for (name, value) in pairs where seen.insert(name).inserted {
            slots.append(Slot(bytes: Array(name.utf8), value: value))
        }
        var size = 8
        while size < slots.count * 2 { size *= 2 }
        var buckets = [Int](repeating: -1, count: size)
        for (index, slot) in slots.enumerated() {
            var bucket = slot.bytes.withUnsafeBufferPointer { Self.hash($0) } & (size - 1)
            while buckets[bucket] >= 0 { bucket = (bucket + 1) & (size - 1) }
            buckets[bucket] = index
        }
        self.buckets = buckets
        self.slots = slots
        self.mask = size - 1
    }

    /// A hash of the length and the first and last eight bytes: a few loads whatever the length (names that share
    /// both ends only cost a longer probe, and the bytes are always compared in full).
    @inline(__always)
    private static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var mixed = UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15
        if let base = bytes.baseAddress {
            let raw = UnsafeRawPointer(base)
            if bytes.count >= 8 {
                mixed ^= raw.loadUnaligned(as: UInt64.self)
                mixed = (mixed ^ (mixed >> 29)) &* 0xBF58_476D_1CE4_E5B9
                mixed ^= raw.loadUnaligned(fromByteOffset: bytes.count - 8, as: UInt64.self)
            } else {
                for byte in bytes { mixed = (mixed ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
            }
        }
        mixed = (mixed ^ (mixed >> 32)) &* 0x94D0_49BB_1331_11EB
        return Int(truncatingIfNeeded: mixed ^ (mixed >> 29))
    }

    /// The value stored under these bytes, if any.
    @inline(__always)
    func value(_ bytes: UnsafeBufferPointer<UInt8>) -> Value? {
        var bucket = Self.hash(bytes) & mask
        while true {
            let index = buckets[bucket]
            guard index >= 0 else { return nil }
            let slot = slots[index]
            if slot.bytes.count == bytes.count {
                let equal = slot.bytes.withUnsafeBufferPointer { known in
                    guard let knownBase = known.baseAddress, let base = bytes.baseAddress else { return true }
                    return memcmp(knownBase, base, bytes.count) == 0
                }
                if equal { return slot.value }
            }
            bucket = (bucket + 1) & mask
        }
    }
}
