import DabbaKafka

/// Why a consumed record could not be turned into a registered event: the input to poison-message handling.
///
/// Carries where the record came from (topic, partition, offset) and, when the envelope could be read, the event
/// type and id.
public struct EventDecodingError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The CloudEvents envelope is missing or malformed (e.g. no `ce_type` header).
        public static let invalidEnvelope = Code("invalidEnvelope")
        /// The event type is not registered with this consumer.
        public static let unknownEventType = Code("unknownEventType")
        /// The payload could not be decoded into the registered type.
        public static let invalidPayload = Code("invalidPayload")
        /// The payload does not satisfy the event's JSON Schema. Only DabbaPipeline's `PipelineRunner` produces it,
        /// when it checks payloads against the catalog's schemas; ``EventDecoder`` does not validate.
        public static let schemaViolation = Code("schemaViolation")
        /// No codec is registered for the record's `content-type`.
        public static let unsupportedContentType = Code("unsupportedContentType")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What was wrong, naming the field or header.
    public var reason: String
    /// The record's topic.
    public var topic: String
    /// The record's partition.
    public var partition: Int32
    /// The record's offset.
    public var offset: Int64
    /// The event type, if the envelope could be read.
    public var eventType: String?
    /// The event id, if the envelope could be read.
    public var eventID: String?

    /// Creates an error for a record.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - reason: What was wrong.
    ///   - message: The record.
    ///   - eventType: The event type, if known.
    ///   - eventID: The event id, if known.
    public init(_ code: Code, _ reason: String, message: KafkaMessage, eventType: String? = nil, eventID: String? = nil) {
        self.code = code
        self.reason = reason
        self.topic = message.topic
        self.partition = message.partition
        self.offset = message.offset
        self.eventType = eventType
        self.eventID = eventID
    }

    public var description: String {
        var text = "\(code): \(reason) (topic \(topic), partition \(partition), offset \(offset)"
        if let eventType { text += ", event type \(eventType)" }
        if let eventID { text += ", event id \(eventID)" }
        return text + ")"
    }
}
