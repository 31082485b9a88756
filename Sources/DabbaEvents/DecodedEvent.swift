import DabbaKafka
import Foundation
import Synchronization

/// A consumed record decoded into a registered event.
///
/// Immutable; a class so that passing it through a pipeline's stages shares it instead of copying. The payload is
/// stored inline (an internal generic subclass per event type), so ``payload(as:)`` reads it back as its own type
/// without allocating or casting. The ``envelope`` is validated when the record is decoded but made (its strings
/// allocated) only when first asked for: a consumer that never reads the attributes pays nothing for them.
public class DecodedEvent: @unchecked Sendable {
    // `@unchecked Sendable`: every stored property is immutable (the lazily made envelope is published once through
    // an atomic reference); the raw header buffers point into the record's header storage, which `message` keeps
    // alive and nothing modifies after the record was decoded.

    /// The Kafka record it came from.
    public let message: KafkaMessage
    /// The event type (`ce_type`), without making the whole envelope.
    public let eventType: String
    /// The type's position in the decoder's registry (``EventRegistry/index(of:)``).
    package let typeIndex: Int
    /// The payload's type, to read it back without a dynamic cast.
    let payloadType: ObjectIdentifier
    private let headers: BinaryModeHeaders?
    private let knownValues: KnownHeaderValues?
    private let madeEnvelope = AtomicLazyReference<EnvelopeBox>()

    private final class EnvelopeBox: Sendable {
        let envelope: EventEnvelope
        init(_ envelope: EventEnvelope) { self.envelope = envelope }
    }

    /// An event whose envelope is made later from the record's (validated) binary-mode headers.
    init(
        message: KafkaMessage, eventType: String, typeIndex: Int, payloadType: ObjectIdentifier,
        headers: BinaryModeHeaders, knownValues: KnownHeaderValues
    ) {
        self.message = message
        self.eventType = eventType
        self.typeIndex = typeIndex
        self.payloadType = payloadType
        self.headers = headers
        self.knownValues = knownValues
    }

    /// An event whose envelope is already made (structured mode).
    init(message: KafkaMessage, envelope: EventEnvelope, typeIndex: Int, payloadType: ObjectIdentifier) {
        self.message = message
        self.eventType = envelope.type
        self.typeIndex = typeIndex
        self.payloadType = payloadType
        self.headers = nil
        self.knownValues = nil
        _ = madeEnvelope.storeIfNil(EnvelopeBox(envelope))
    }

    /// The CloudEvents attributes (made on first access, then shared).
    public var envelope: EventEnvelope {
        if let made = madeEnvelope.load() { return made.envelope }
        let envelope = headers.map { $0.envelope(knownValues: knownValues ?? KnownHeaderValues([])) }
            ?? EventEnvelope(id: "", source: "", type: eventType)
        return madeEnvelope.storeIfNil(EnvelopeBox(envelope)).envelope
    }

    /// The event id (`ce_id`), without making the whole envelope.
    public var id: String {
        if let made = madeEnvelope.load() { return made.envelope.id }
        if let bytes = headers?.id { return String(decoding: bytes, as: UTF8.self) }
        return envelope.id
    }

    /// The decoded payload; ``payload(as:)`` reads it as its own type more cheaply, or `switch` with `as` patterns.
    public var payload: any Event { anyPayload }

    /// Overridden by the typed subclass.
    var anyPayload: any Event { UnknownPayload() }

    /// The payload as a specific type, or nil if it is another type.
    /// - Parameter type: The expected type.
    @inline(__always)
    public func payload<E: Event>(as type: E.Type) -> E? {
        if payloadType == ObjectIdentifier(E.self) {
            // Only a TypedDecodedEvent<E> carries E's identifier.
            return unsafeDowncast(self, to: TypedDecodedEvent<E>.self).value
        }
        return anyPayload as? E
    }

    /// The record key (the event's partition key).
    public var key: String? { message.keyString }
}

/// A decoded event of one type, holding its payload inline.
final class TypedDecodedEvent<E: Event>: DecodedEvent, @unchecked Sendable {
    let value: E

    init(
        value: E, message: KafkaMessage, eventType: String, typeIndex: Int, headers: BinaryModeHeaders,
        knownValues: KnownHeaderValues
    ) {
        self.value = value
        super.init(
            message: message, eventType: eventType, typeIndex: typeIndex, payloadType: ObjectIdentifier(E.self),
            headers: headers, knownValues: knownValues
        )
    }

    init(value: E, message: KafkaMessage, envelope: EventEnvelope, typeIndex: Int) {
        self.value = value
        super.init(message: message, envelope: envelope, typeIndex: typeIndex, payloadType: ObjectIdentifier(E.self))
    }

    override var anyPayload: any Event { value }
}

/// What the base class answers; never seen, since every decoded event is a `TypedDecodedEvent`.
private struct UnknownPayload: Event {
    static let eventType = "dabba.unknown"
    var partitionKey: String? { nil }
}

/// Header values most records repeat (event type names, data schema URIs, content types), kept as ready-made
/// strings: a matching header value is returned without allocating or validating.
final class KnownHeaderValues: Sendable {
    let table: ByteStringTable<String>

    init(_ values: [String]) {
        table = ByteStringTable(values.map { ($0, $0) })
    }

    /// The known string with these bytes, or a new one.
    @inline(__always)
    func string(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
        table.value(bytes) ?? String(decoding: bytes, as: UTF8.self)
    }
}
