import DabbaCatalog
import DabbaKafka
import Foundation
import Synchronization
import Tracing

/// Per-send CloudEvents attributes and routing overrides.
public struct EventMetadata: Sendable {
    /// The event id; a new UUID when nil.
    public var id: String?
    /// When the event happened; now when nil.
    public var time: Date?
    /// `ce_subject`.
    public var subject: String?
    /// The flow's correlation id (extension `correlationid`); defaults to the event's own id.
    public var correlationID: String?
    /// The id of the event that caused this one (extension `causationid`).
    public var causationID: String?
    /// W3C trace context to propagate.
    public var traceParent: String?
    /// W3C trace state to propagate.
    public var traceState: String?
    /// More extension attributes (lowercase alphanumeric names).
    public var extensions: [String: String]
    /// Overrides the event's partition key.
    public var key: String?
    /// Overrides the topic the event type is routed to.
    public var topic: String?
    /// Extra non-CloudEvents headers.
    public var headers: [KafkaHeader]

    /// Creates metadata; every field is optional.
    public init(
        id: String? = nil,
        time: Date? = nil,
        subject: String? = nil,
        correlationID: String? = nil,
        causationID: String? = nil,
        traceParent: String? = nil,
        key: String? = nil,
        topic: String? = nil
    ) {
        self.id = id
        self.time = time
        self.subject = subject
        self.correlationID = correlationID
        self.causationID = causationID
        self.traceParent = traceParent
        self.traceState = nil
        self.extensions = [:]
        self.key = key
        self.topic = topic
        self.headers = []
    }

    /// Metadata for an event caused by `cause`: same correlation id and trace, causation id = cause's id.
    /// - Parameter cause: The envelope of the event being handled.
    /// - Returns: Metadata that links the new event to its cause.
    public static func caused(by cause: EventEnvelope) -> EventMetadata {
        var metadata = EventMetadata()
        metadata.correlationID = cause.correlationID ?? cause.id
        metadata.causationID = cause.id
        metadata.traceParent = cause.traceParent
        metadata.traceState = cause.traceState
        return metadata
    }
}

/// Which topic each event type goes to, and in which CloudEvents content mode it is written.
public struct EventRoutes: Sendable {
    /// Topic by event type.
    public var topics: [String: String]
    /// Content mode by event type; a type not listed is written in binary mode.
    public var contentModes: [String: EventContentMode]

    /// Creates routes.
    /// - Parameters:
    ///   - topics: Topic by event type.
    ///   - contentModes: Content mode by event type (binary for a type not listed).
    public init(_ topics: [String: String], contentModes: [String: EventContentMode] = [:]) {
        self.topics = topics
        self.contentModes = contentModes
    }

    /// The topic for an event type.
    /// - Parameter eventType: The event type.
    public func topic(for eventType: String) -> String? { topics[eventType] }

    /// The content mode an event type is written in.
    /// - Parameter eventType: The event type.
    public func contentMode(for eventType: String) -> EventContentMode {
        contentModes.isEmpty ? .binary : contentModes[eventType] ?? .binary
    }
}

/// Sends typed events: encodes the payload, fills the CloudEvents envelope, derives the key, and routes to the
/// event type's topic, in the content mode its route names (binary by default; see ``EventRoutes/contentModes``).
public final class EventProducer: Sendable {
    /// The underlying producer.
    public let producer: KafkaProducer
    /// The `ce_source` of every event sent.
    public let source: String
    /// Routing of event types to topics.
    public let routes: EventRoutes
    private let codec: any EventCodec
    /// Per event type and version, its data schema URI and the binary-mode headers of its type and schema, made
    /// once: every event sends them.
    private let typeAttributes = Mutex<[SchemaKey: TypeAttributes]>([:])
    /// The binary-mode `ce_source` header, made once.
    private let sourceHeader: KafkaHeader
    /// The tracer of the producer spans (see ``MessagingTracing``): the one given, else the one bootstrapped
    /// (`InstrumentationSystem.tracer`) when the producer was made; nil when that is the no-op tracer (no spans).
    public let tracer: (any Tracer)?

    /// Creates a typed producer.
    /// - Parameters:
    ///   - producer: The Kafka producer to send with.
    ///   - source: The `ce_source`, e.g. `/food/orders-service`.
    ///   - routes: Topic per event type.
    ///   - codec: The payload codec (JSON by default).
    ///   - tracer: The tracer of the producer spans (nil: the one bootstrapped by now).
    public init(
        producer: KafkaProducer, source: String, routes: EventRoutes, codec: any EventCodec = JSONEventCodec(),
        tracer: (any Tracer)? = nil
    ) {
        self.producer = producer
        self.source = source
        self.routes = routes
        self.codec = codec
        self.sourceHeader = KafkaHeader(name: "ce_source", string: source)
        // Resolved once: the bootstrapped tracer is read under a lock, which a send should not pay for.
        self.tracer = MessagingTracing.activeTracer(tracer)
    }

    private struct SchemaKey: Hashable {
        var type: String
        var version: Int
    }

    private struct TypeAttributes {
        var dataSchema: String
        var typeHeader: KafkaHeader
        var dataSchemaHeader: KafkaHeader
    }

    private func attributes(type: String, version: Int) -> TypeAttributes {
        let key = SchemaKey(type: type, version: version)
        if let known = typeAttributes.withLock({ $0[key] }) { return known }
        let uri = EventEnvelope.dataSchemaURI(type: type, version: version)
        let made = TypeAttributes(
            dataSchema: uri, typeHeader: KafkaHeader(name: "ce_type", string: type),
            dataSchemaHeader: KafkaHeader(name: "ce_dataschema", string: uri)
        )
        typeAttributes.withLock { $0[key] = made }
        return made
    }

    /// Sends an event and waits for the broker's acknowledgement.
    /// - Parameters:
    ///   - event: The event.
    ///   - metadata: Envelope attributes and overrides.
    /// - Returns: Where the event was written.
    /// - Throws: ``KafkaError`` (`invalidArgument` when no topic is routed for the type), or an encoding error.
    @discardableResult
    public func send<E: Event>(_ event: E, metadata: EventMetadata = EventMetadata()) async throws -> DeliveryReport {
        try await producer.send(message(for: event, metadata: metadata))
    }

    /// Hands an event to the producer and returns a handle on its acknowledgement without waiting for it (see
    /// ``KafkaProducer/submit(_:)``).
    /// - Parameters:
    ///   - event: The event.
    ///   - metadata: Envelope attributes and overrides.
    /// - Returns: The pending delivery.
    /// - Throws: ``KafkaError`` (`invalidArgument` when no topic is routed for the type), or an encoding error.
    public func submit<E: Event>(_ event: E, metadata: EventMetadata = EventMetadata()) async throws -> PendingDelivery {
        try await producer.submit(message(for: event, metadata: metadata))
    }

    /// Hands an event to the producer's high-volume path (see ``KafkaProducer/enqueue(_:)``).
    /// - Parameters:
    ///   - event: The event.
    ///   - metadata: Envelope attributes and overrides.
    /// - Returns: The message id repeated in its delivery report.
    /// - Throws: ``KafkaError`` or an encoding error.
    @discardableResult
    public func enqueue<E: Event>(_ event: E, metadata: EventMetadata = EventMetadata()) async throws -> UInt64 {
        try await producer.enqueue(message(for: event, metadata: metadata))
    }

    /// The Kafka record for an event, without sending it (for transactions, tests and tools).
    /// - Parameters:
    ///   - event: The event.
    ///   - metadata: Envelope attributes and overrides.
    /// - Returns: The record.
    /// - Throws: ``KafkaError`` `invalidArgument` when no topic is routed for the type, or an encoding error.
    public func message<E: Event>(for event: E, metadata: EventMetadata = EventMetadata()) throws -> ProducerMessage {
        try message(
            type: E.eventType, version: E.schemaVersion, payload: codec.encode(event),
            key: metadata.key ?? event.partitionKey, contentType: codec.contentType, metadata: metadata
        )
    }

    /// The Kafka record for an already-encoded payload (used by tools that work from the catalog, not Swift types).
    /// - Parameters:
    ///   - type: The event type.
    ///   - version: The schema version.
    ///   - payload: The encoded payload.
    ///   - key: The partition key.
    ///   - contentType: The payload's media type.
    ///   - metadata: Envelope attributes and overrides.
    /// - Returns: The record.
    /// - Throws: ``KafkaError`` `invalidArgument` when no topic is routed for the type.
    public func message(
        type: String,
        version: Int,
        payload: [UInt8],
        key: String?,
        contentType: String = "application/json",
        metadata: EventMetadata = EventMetadata()
    ) throws -> ProducerMessage {
        guard let topic = metadata.topic ?? routes.topic(for: type) else {
            throw KafkaError(.invalidArgument, "no topic is routed for event type '\(type)'")
        }
        let id = metadata.id ?? EventID.make()
        var envelope = EventEnvelope(id: id, source: source, type: type, time: metadata.time ?? Date())
        envelope.subject = metadata.subject
        envelope.dataContentType = contentType
        let typeAttributes = attributes(type: type, version: version)
        envelope.dataSchema = typeAttributes.dataSchema
        envelope.traceParent = metadata.traceParent
        envelope.traceState = metadata.traceState
        envelope.extensions = metadata.extensions
        envelope.correlationID = metadata.correlationID ?? id
        envelope.causationID = metadata.causationID
        var headers: [KafkaHeader]
        var value = payload
        switch routes.contentMode(for: type) {
        case .binary:
            headers = envelope.binaryHeaders(
                prepared: .init(
                    source: sourceHeader, type: typeAttributes.typeHeader, dataSchema: typeAttributes.dataSchemaHeader
                )
            )
        case .structured:
            value = StructuredMode.value(of: envelope, payload: payload)
            headers = StructuredMode.headers(of: envelope)
        }
        headers += metadata.headers
        if let tracer {
            // A span for handing the record to the producer; the record's trace context names it, so the consumer's
            // span becomes its child (without a tracer the record keeps the cause's `traceparent`).
            MessagingTracing.traceSend(
                tracer, topic: topic, key: key, id: id, correlationID: envelope.correlationID, headers: &headers
            )
        }
        return ProducerMessage(topic: topic, key: key.map { Array($0.utf8) }, value: value, headers: headers)
    }
}
