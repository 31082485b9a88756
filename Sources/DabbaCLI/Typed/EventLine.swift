import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DabbaSchema
import Foundation

/// The JSON line `dabba consume --decode` prints for a record: its CloudEvents envelope and payload.
///
/// A CloudEvent (binary or structured mode) prints `topic`, `partition`, `offset`, `key`, `type`, `id`, `source`,
/// `time`, `schemaVersion` and `data` (the payload as JSON when its content type is JSON; otherwise as text).
/// With a catalog, `valid` and `violations` (each violation's message, starting with its JSON Pointer) say whether
/// the payload matches the event type's schema; an event type the catalog does not declare is not valid.
/// A record that is not a CloudEvent, or whose JSON payload does not parse, prints the raw record line of
/// `dabba consume` plus `error`: nothing is skipped silently.
struct EventLine: Sendable {
    /// The catalog to validate payloads against, if any.
    let catalog: Catalog?

    func json(_ message: KafkaMessage) -> [String: Any] {
        let envelope: EventEnvelope
        let data: Data
        switch EventDecoder.readEnvelope(message) {
        case .success(let read):
            (envelope, data) = read
        case .failure(let error):
            return failure(message, reason: "not a CloudEvent: \(error.reason)")
        }
        var line: [String: Any] = [
            "topic": message.topic,
            "partition": Int(message.partition),
            "offset": Int(message.offset),
            "key": jsonString(message.keyString),
            "type": envelope.type,
            "id": envelope.id,
            "source": envelope.source,
            "time": jsonString(envelope.time.map(RFC3339.format)),
            "schemaVersion": envelope.schemaVersion.map { $0 as Any } ?? NSNull(),
        ]
        var payload: JSONValue?
        if data.isEmpty {
            // A tombstone or an event without data: validated as `null`.
            line["data"] = NSNull()
            payload = .null
        } else if Self.isJSON(envelope.dataContentType) {
            do {
                let parsed = try JSONValue.parse(data)
                payload = parsed
                line["data"] = parsed.foundationObject
            } catch let error as SchemaError {
                var broken = failure(message, reason: "the payload is not valid JSON: \(error.message)")
                broken["type"] = envelope.type
                broken["id"] = envelope.id
                return broken
            } catch {
                return failure(message, reason: "the payload is not valid JSON: \(error)")
            }
        } else {
            line["data"] = String(decoding: data, as: UTF8.self)
        }
        if let catalog {
            let violations = Self.violations(
                of: payload,
                type: envelope.type,
                contentType: envelope.dataContentType,
                in: catalog
            )
            line["valid"] = violations.isEmpty
            line["violations"] = violations
        }
        return line
    }

    /// Why a payload does not match its event type's schema in the catalog (empty when it does).
    static func violations(
        of payload: JSONValue?,
        type: String,
        contentType: String?,
        in catalog: Catalog
    ) -> [String] {
        guard let event = catalog.event(named: type) else {
            return ["event type '\(type)' is not declared in the catalog"]
        }
        guard let payload else {
            return ["the payload is not JSON (content type '\(contentType ?? "none")')"]
        }
        return event.payloadSchema.validate(payload).map(\.message)
    }

    /// The raw record line of `dabba consume` with an `error`.
    private func failure(_ message: KafkaMessage, reason: String) -> [String: Any] {
        var line = messageJSON(message)
        line["error"] = reason
        return line
    }

    /// JSON unless a content type says otherwise (no content type: JSON, as Dabba's decoder assumes).
    static func isJSON(_ contentType: String?) -> Bool {
        guard let contentType else { return true }
        return TypedProduce.isJSON(contentType)
    }
}
