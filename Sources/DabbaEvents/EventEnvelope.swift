import DabbaKafka
import Foundation

/// The CloudEvents 1.0 attributes of an event, carried in Kafka headers (binary content mode).
///
/// Binary mode, as the CloudEvents Kafka protocol binding defines it: `ce_specversion`, `ce_id`, `ce_source`,
/// `ce_type`, `ce_time` (RFC 3339), optional `ce_subject` and `ce_dataschema`, `content-type` for the payload's
/// media type, and `ce_<name>` for extension attributes (Dabba writes `ce_correlationid` and `ce_causationid`).
/// W3C trace context travels in the plain `traceparent`/`tracestate` headers that OpenTelemetry instrumentations
/// read (`ce_traceparent` is accepted too). The Kafka record key is the event's partition key.
///
/// The schema version is written as `ce_dataschema: urn:dabba:schema:<event type>:<version>`.
/// Reading also accepts structured mode (`content-type: application/cloudevents+json`, attributes and `data` in
/// the record value).
public struct EventEnvelope: Sendable, Hashable {
    /// The CloudEvents spec version Dabba writes.
    public static let specVersion = "1.0"

    /// The event id (`ce_id`): unique per source; consumers deduplicate on it.
    public var id: String
    /// Who produced the event (`ce_source`), e.g. `/food/orders-service`.
    public var source: String
    /// The event type (`ce_type`).
    public var type: String
    /// When the event happened (`ce_time`).
    public var time: Date?
    /// The subject within the source (`ce_subject`), e.g. the order id.
    public var subject: String?
    /// The payload's media type (`content-type`).
    public var dataContentType: String?
    /// The payload schema URI (`ce_dataschema`).
    public var dataSchema: String?
    /// W3C `traceparent`.
    public var traceParent: String?
    /// W3C `tracestate`.
    public var traceState: String?
    /// The id of the first event of the flow this event belongs to (extension `correlationid`).
    public var correlationID: String?
    /// The id of the event that caused this one (extension `causationid`).
    public var causationID: String?
    /// Other extension attributes, by lowercase name (without the `ce_` prefix).
    public var extensions: [String: String]

    /// Creates an envelope.
    /// - Parameters:
    ///   - id: The event id.
    ///   - source: The producing service.
    ///   - type: The event type.
    ///   - time: When it happened.
    public init(id: String, source: String, type: String, time: Date? = nil) {
        self.id = id
        self.source = source
        self.type = type
        self.time = time
        self.subject = nil
        self.dataContentType = nil
        self.dataSchema = nil
        self.traceParent = nil
        self.traceState = nil
        self.correlationID = nil
        self.causationID = nil
        self.extensions = [:]
    }

    /// The `ce_dataschema` URI for an event type and version.
    /// - Parameters:
    ///   - type: The event type.
    ///   - version: The schema version.
    /// - Returns: `urn:dabba:schema:<type>:<version>`.
    public static func dataSchemaURI(type: String, version: Int) -> String {
        "urn:dabba:schema:\(type):\(version)"
    }

    /// The schema version from ``dataSchema`` when it is a Dabba schema URI.
    public var schemaVersion: Int? {
        guard let dataSchema, dataSchema.hasPrefix("urn:dabba:schema:"),
            let last = dataSchema.split(separator: ":").last
        else { return nil }
        return Int(last)
    }

    private static let specVersionHeader = KafkaHeader(name: "ce_specversion", string: specVersion)
    private static let jsonContentTypeHeader = KafkaHeader(name: "content-type", string: "application/json")

    /// The Kafka headers of this envelope in binary content mode, in a stable order.
    public var binaryHeaders: [KafkaHeader] { binaryHeaders(prepared: PreparedHeaders()) }

    /// Headers a producer made once for values it sends again and again (its source, an event type and its data
    /// schema); each must be the header of this envelope's value of the same attribute.
    struct PreparedHeaders {
        var source: KafkaHeader?
        var type: KafkaHeader?
        var dataSchema: KafkaHeader?
    }

    /// ``binaryHeaders``, taking the prepared headers instead of making them again.
    func binaryHeaders(prepared: PreparedHeaders) -> [KafkaHeader] {
        var headers: [KafkaHeader] = []
        headers.reserveCapacity(10 + extensions.count)
        // Constant values are made once per process: every produced event writes these headers.
        headers.append(Self.specVersionHeader)
        headers.append(KafkaHeader(name: "ce_id", string: id))
        headers.append(prepared.source ?? KafkaHeader(name: "ce_source", string: source))
        headers.append(prepared.type ?? KafkaHeader(name: "ce_type", string: type))
        if let time {
            var value: [UInt8] = []
            value.reserveCapacity(RFC3339.length)
            RFC3339.append(time, to: &value)
            headers.append(KafkaHeader(name: "ce_time", value: value))
        }
        if let subject { headers.append(KafkaHeader(name: "ce_subject", string: subject)) }
        if let dataSchema { headers.append(prepared.dataSchema ?? KafkaHeader(name: "ce_dataschema", string: dataSchema)) }
        if let dataContentType {
            headers.append(
                dataContentType == "application/json"
                    ? Self.jsonContentTypeHeader : KafkaHeader(name: "content-type", string: dataContentType)
            )
        }
        if extensions.isEmpty {
            // The common case, in the same (sorted) order as below without building a dictionary per event.
            if let causationID { headers.append(KafkaHeader(name: "ce_causationid", string: causationID)) }
            if let correlationID { headers.append(KafkaHeader(name: "ce_correlationid", string: correlationID)) }
        } else {
            var attributes = extensions
            attributes["correlationid"] = correlationID
            attributes["causationid"] = causationID
            for name in attributes.keys.sorted() {
                if let value = attributes[name] { headers.append(KafkaHeader(name: "ce_\(name)", string: value)) }
            }
        }
        if let traceParent { headers.append(KafkaHeader(name: "traceparent", string: traceParent)) }
        if let traceState { headers.append(KafkaHeader(name: "tracestate", string: traceState)) }
        return headers
    }
}
