import DabbaSchema
import Foundation

/// How an event's CloudEvents envelope travels in a Kafka record, as the CloudEvents Kafka protocol binding defines.
///
/// Declared in the catalog with `x-dabba-content-mode` on a channel (every message of its topic) or on a message
/// (that event type alone, overriding its channel). Readers accept both modes whatever the catalog says.
public enum EventContentMode: String, Sendable, Hashable, CaseIterable {
    /// The attributes in `ce_*` record headers and the payload alone in the value (the default): any consumer that
    /// reads headers, Dabba or not, sees the envelope without parsing the payload.
    case binary
    /// One `content-type: application/cloudevents+json` header; the attributes and the payload (as `data`) in one
    /// JSON value. Cheaper to write and read (no per-attribute headers for librdkafka to build and parse), but a
    /// consumer must parse the JSON value to see the envelope.
    case structured
}

/// One event type of the catalog: an AsyncAPI message used on exactly one channel.
public struct EventSpec: Sendable {
    /// The event type, the message's `name`, for example `payments.payment.authorized`.
    public var type: String
    /// The id of the message under `components.messages` (or under the channel, for an inline message).
    public var messageID: String
    /// The payload schema version, from `x-dabba-schema-version` (default 1).
    public var schemaVersion: Int
    /// The content type of the payload, from `contentType` (default `application/json`).
    public var contentType: String
    /// The Kafka topic the event is published to.
    public var topic: String
    /// The id of the channel the message belongs to.
    public var channelID: String
    /// The compiled payload schema, ready to validate payloads.
    public var payloadSchema: JSONSchema
    /// The payload schema as written (often just a `$ref`), resolved against ``schemaDocument``.
    public var rawPayloadSchema: JSONValue
    /// The whole AsyncAPI document the payload schema lives in, against which its `$ref`s resolve.
    public var schemaDocument: JSONValue
    /// The JSON Pointer of ``rawPayloadSchema`` inside ``schemaDocument``, for example
    /// `/components/messages/PaymentRequested/payload`.
    public var payloadSchemaPointer: String
    /// The payload field the partition key is derived from, as a JSON Pointer (for example `/paymentId`),
    /// from `x-dabba-key`; `nil` when the event has no key.
    public var keyField: String?
    /// The schema of the Kafka record key, from the message's `bindings.kafka.key`.
    public var keySchema: JSONValue?
    /// The human description of the key, from `bindings.kafka.key.description`.
    public var keyDescription: String?
    /// The example payloads, in declaration order.
    public var examples: [JSONValue]
    /// The examples with their names, summaries and headers, in declaration order.
    public var namedExamples: [EventExample]
    /// The declared schema compatibility mode, from `x-dabba-compatibility`; `nil` when not declared.
    public var compatibility: CompatibilityMode?
    /// The message's `summary`, if any.
    public var summary: String?
    /// How the event is written to Kafka, from `x-dabba-content-mode` on the message or its channel (default binary).
    public var contentMode: EventContentMode
    /// Where the event is declared: its `name`.
    public var source: CatalogLocation

    /// Creates an event specification.
    /// - Parameters:
    ///   - type: The event type.
    ///   - messageID: The message id.
    ///   - schemaVersion: The payload schema version.
    ///   - contentType: The payload content type.
    ///   - topic: The Kafka topic.
    ///   - channelID: The channel id.
    ///   - payloadSchema: The compiled payload schema.
    ///   - rawPayloadSchema: The payload schema as written.
    ///   - schemaDocument: The document the schema resolves against.
    ///   - payloadSchemaPointer: Where the payload schema is in the document.
    ///   - keyField: The JSON Pointer of the key field, if any.
    ///   - keySchema: The key's schema, if any.
    ///   - keyDescription: The key's description, if any.
    ///   - namedExamples: The examples.
    ///   - compatibility: The compatibility mode, if declared.
    ///   - summary: The summary, if any.
    ///   - contentMode: How the event is written to Kafka.
    ///   - source: Where the event is declared.
    public init(
        type: String,
        messageID: String,
        schemaVersion: Int,
        contentType: String,
        topic: String,
        channelID: String,
        payloadSchema: JSONSchema,
        rawPayloadSchema: JSONValue,
        schemaDocument: JSONValue,
        payloadSchemaPointer: String,
        keyField: String?,
        keySchema: JSONValue?,
        keyDescription: String?,
        namedExamples: [EventExample],
        compatibility: CompatibilityMode?,
        summary: String?,
        contentMode: EventContentMode = .binary,
        source: CatalogLocation
    ) {
        self.type = type
        self.messageID = messageID
        self.schemaVersion = schemaVersion
        self.contentType = contentType
        self.topic = topic
        self.channelID = channelID
        self.payloadSchema = payloadSchema
        self.rawPayloadSchema = rawPayloadSchema
        self.schemaDocument = schemaDocument
        self.payloadSchemaPointer = payloadSchemaPointer
        self.keyField = keyField
        self.keySchema = keySchema
        self.keyDescription = keyDescription
        self.examples = namedExamples.map(\.payload)
        self.namedExamples = namedExamples
        self.compatibility = compatibility
        self.summary = summary
        self.contentMode = contentMode
        self.source = source
    }

    /// The partition key of a payload of this event: the value at ``keyField``, as a string.
    ///
    /// Strings are returned as they are, integers and integral doubles as decimal digits (`42`, not `42.0`),
    /// other doubles in their shortest round-trip form, booleans as `true`/`false`.
    /// - Parameter payload: A payload of this event.
    /// - Returns: The key, or `nil` when the event declares no key field or the field holds `null`.
    /// - Throws: ``PartitionKeyError`` when the field is missing, or holds an object or an array.
    public func partitionKey(for payload: JSONValue) throws -> String? {
        guard let keyField else { return nil }
        guard let pointer = JSONPointer(keyField) else {
            throw PartitionKeyError(eventType: type, keyField: keyField, reason: "the key field is not a JSON Pointer")
        }
        guard let value = payload.resolve(pointer) else {
            throw PartitionKeyError(eventType: type, keyField: keyField, reason: "the payload has no such field")
        }
        switch value {
        case .null:
            return nil
        case .string(let string):
            return string
        case .integer(let integer):
            return String(integer)
        case .double(let double):
            if double.rounded() == double, let integer = Int64(exactly: double) { return String(integer) }
            return "\(double)"
        case .bool(let bool):
            return bool ? "true" : "false"
        case .array, .object:
            throw PartitionKeyError(
                eventType: type,
                keyField: keyField,
                reason: "the field holds an object or an array, not a scalar"
            )
        }
    }
}

/// A named example of an event, from the message's `examples`.
public struct EventExample: Sendable, Hashable {
    /// The example's `name`; `example-<n>` (counting from 1) when it has none.
    public var name: String
    /// The example's `summary`, if any.
    public var summary: String?
    /// The example payload.
    public var payload: JSONValue
    /// The example Kafka headers, if any.
    public var headers: JSONValue?

    /// Creates an example.
    /// - Parameters:
    ///   - name: The example's name.
    ///   - summary: Its summary, if any.
    ///   - payload: The payload.
    ///   - headers: The headers, if any.
    public init(name: String, summary: String? = nil, payload: JSONValue, headers: JSONValue? = nil) {
        self.name = name
        self.summary = summary
        self.payload = payload
        self.headers = headers
    }
}

/// How a new version of an event's payload schema must relate to the previous one (`x-dabba-compatibility`).
///
/// A struct rather than an enum so that more modes (for example transitive ones) can be added later.
public struct CompatibilityMode: Sendable, Hashable, CustomStringConvertible {
    /// The value as written in the catalog: `backward`, `forward`, `full` or `none`.
    public let rawValue: String

    private init(_ rawValue: String) { self.rawValue = rawValue }

    /// Consumers using the new schema can read data written with the previous one.
    public static let backward = CompatibilityMode("backward")
    /// Consumers using the previous schema can read data written with the new one.
    public static let forward = CompatibilityMode("forward")
    /// Both backward and forward.
    public static let full = CompatibilityMode("full")
    /// No compatibility check (written `none` in the catalog; named `unchecked` to avoid confusion with
    /// `Optional.none`).
    public static let unchecked = CompatibilityMode("none")

    /// Every mode the catalog accepts.
    public static let allModes: [CompatibilityMode] = [.backward, .forward, .full, .unchecked]

    /// Parses the catalog spelling.
    /// - Parameter rawValue: `backward`, `forward`, `full` or `none`.
    public init?(rawValue: String) {
        guard let mode = Self.allModes.first(where: { $0.rawValue == rawValue }) else { return nil }
        self = mode
    }

    /// The catalog spelling.
    public var description: String { rawValue }
}

/// A partition key could not be read from a payload.
public struct PartitionKeyError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The event type whose payload was inspected.
    public var eventType: String
    /// The key field, as a JSON Pointer.
    public var keyField: String
    /// Why no key could be read.
    public var reason: String

    /// Creates the error.
    /// - Parameters:
    ///   - eventType: The event type.
    ///   - keyField: The key field pointer.
    ///   - reason: Why no key could be read.
    public init(eventType: String, keyField: String, reason: String) {
        self.eventType = eventType
        self.keyField = keyField
        self.reason = reason
    }

    /// `cannot read the partition key '<field>' of '<type>': <reason>`.
    public var description: String {
        "cannot read the partition key '\(keyField)' of '\(eventType)': \(reason)"
    }
}
