import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DabbaSchema
import Foundation

/// One record as the console shows it: its position, key and headers, the CloudEvent read from it, and its payload
/// checked against the catalog's schema for its type.
struct RecordRow: Sendable {
    var message: KafkaMessage
    var envelope: EventEnvelope?
    /// Why the record is not a readable CloudEvent, if it is not.
    var envelopeProblem: String?
    var payload: Data
    /// The payload parsed, when it is JSON.
    var json: JSONValue?
    /// Schema violations of the payload (empty: valid, or no schema to check against).
    var violations: [SchemaViolation]
    /// Whether the catalog declares the record's type.
    var typeKnown: Bool

    init(_ message: KafkaMessage, catalog: Catalog) {
        self.message = message
        switch EventDecoder.readEnvelope(message) {
        case .success(let (envelope, payload)):
            self.envelope = envelope
            self.payload = payload
        case .failure(let error):
            envelopeProblem = error.reason
            payload = message.withUnsafeValue { bytes in bytes.map { Data($0) } ?? Data() }
        }
        json = try? JSONValue.parse(payload)
        let spec = envelope.flatMap { catalog.event(named: $0.type) }
        typeKnown = spec != nil
        if let spec, let json {
            violations = spec.payloadSchema.validate(json)
        } else if spec != nil {
            violations = [SchemaViolation(instancePath: "", keyword: "type", schemaPath: "", message: "the payload is not JSON")]
        } else {
            violations = []
        }
    }

    /// Violations as one line: `/path: message; …` (`/` for the payload itself).
    static func describe(_ violations: [SchemaViolation]) -> String {
        violations.map { "\($0.instancePath.isEmpty ? "/" : $0.instancePath): \($0.message)" }.joined(separator: "; ")
    }

    /// `topic[partition]@offset`.
    var position: String { "\(message.topic)[\(message.partition)]@\(message.offset)" }
    /// The W3C trace id from `traceparent`, if any.
    var traceID: String? {
        guard let parent = envelope?.traceParent else { return nil }
        let parts = parent.split(separator: "-")
        return parts.count >= 2 ? String(parts[1]) : nil
    }
    /// The record's timestamp.
    var timestamp: Int64? { message.timestampMilliseconds }
}

/// Which records a Messages page shows. Every criterion given must hold.
struct MessageFilter: Sendable {
    var key: String?
    var type: String?
    var subject: String?
    /// `name=value`: a header with this name and value (CloudEvents attributes are `ce_…` headers).
    var header: (name: String, value: String)?
    var since: Date?
    var until: Date?
    /// A JSON pointer into the payload, and the value it must point at (compared as JSON text, or as a bare string).
    var pointer: String?
    var pointerValue: String?

    /// The filter a page's query asks for; throws naming the field that is invalid.
    init(query: [String: String]) throws {
        func text(_ name: String) -> String? {
            query[name].flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0 }
        }
        key = text("key")
        type = text("type")
        subject = text("subject")
        if let header = text("header") {
            guard let equals = header.firstIndex(of: "="), equals != header.startIndex else {
                throw ConsoleError(.badRequest, "header filter '\(header)' must be name=value, e.g. ce_source=/orders")
            }
            self.header = (String(header[..<equals]), String(header[header.index(after: equals)...]))
        }
        since = try text("since").map { try Self.time($0, "since") }
        until = try text("until").map { try Self.time($0, "until") }
        pointer = text("pointer")
        pointerValue = query["value"]
        if let pointer, !pointer.hasPrefix("/") {
            throw ConsoleError(.badRequest, "JSON pointer '\(pointer)' must start with / (RFC 6901), e.g. /orderId")
        }
    }

    static func time(_ text: String, _ field: String) throws -> Date {
        if let date = RFC3339.parse(text) { return date }
        // What a datetime-local input sends: no seconds, no zone (read as UTC).
        if let date = RFC3339.parse(text + (text.count == 16 ? ":00Z" : "Z")) { return date }
        throw ConsoleError(.badRequest, "\(field) '\(text)' is not a time: use RFC 3339, e.g. 2026-12-07T10:00:00Z")
    }

    func matches(_ row: RecordRow) -> Bool {
        if let key, row.message.keyString != key { return false }
        if let type, row.envelope?.type != type { return false }
        if let subject, row.envelope?.subject != subject { return false }
        if let header, row.message.header(header.name) != header.value { return false }
        if let since { guard let time = row.timestamp, Double(time) / 1000 >= since.timeIntervalSince1970 else { return false } }
        if let until { guard let time = row.timestamp, Double(time) / 1000 <= until.timeIntervalSince1970 else { return false } }
        if let pointer {
            guard let found = row.json?.value(atPointer: pointer) else { return false }
            if let pointerValue {
                let text = String(decoding: found.serialized(), as: UTF8.self)
                guard text == pointerValue || found.stringValue == pointerValue else { return false }
            }
        }
        return true
    }

    /// The query string that asks for this filter again (for links and the live tail).
    static func queryString(_ query: [String: String], keys: [String]) -> String {
        keys.compactMap { name in
            query[name].flatMap { $0.isEmpty ? nil : "\(name)=\(HTML.urlComponent($0))" }
        }.joined(separator: "&")
    }
}

extension ConsoleModel {
    /// The last `recordsPerPartition` records of each partition of `topic` (from `since`, when given), newest first.
    func recentRecords(of topic: String, since: Date? = nil) async throws -> [RecordRow] {
        let reader = try makeReader()
        let ends = try await reader.partitionEnds(topic: topic, timeout: configuration.timeout)
        guard !ends.isEmpty else { throw ConsoleError(.notFound, "topic '\(topic)' does not exist in the cluster") }
        var starts: [TopicPartitionOffset] = ends.map {
            TopicPartitionOffset(topic: topic, partition: $0.partition, offset: max(0, $0.offset - Int64(configuration.recordsPerPartition)))
        }
        if let since {
            let byTime = try await admin.offsets(at: since, topics: [topic], timeout: configuration.timeout)
            starts = starts.map { start in
                let from = byTime.first { $0.partition == start.partition }?.offset ?? start.offset
                return TopicPartitionOffset(topic: topic, partition: start.partition, offset: from)
            }
        }
        let messages = try await reader.messages(from: starts, timeout: configuration.timeout * 3)
        let catalog = self.catalog
        return messages.map { RecordRow($0, catalog: catalog) }
            .sorted { ($0.timestamp ?? 0, $0.message.offset) > ($1.timestamp ?? 0, $1.message.offset) }
    }
}
