import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DabbaSchema
import Foundation

extension ConsolePages {
    /// A form generated from an event type's payload schema (one field per top-level property, nested values as
    /// JSON), pre-filled from the catalog's first example.
    func produceForm(_ query: [String: String]) async throws -> String {
        let types = catalog.events.map(\.type).sorted()
        let chosen = query["type"].flatMap { $0.isEmpty ? nil : $0 } ?? types.first ?? ""
        let options = types.map { "<option\($0 == chosen ? " selected" : "")>\(HTML.escape($0))</option>" }.joined()
        var body = """
            <form method="get" action="/produce" id="choose-type"><fieldset>
            <label>Event type <select name="type" id="produce-type">\(options)</select></label>
            <button type="submit" class="secondary">Choose</button></fieldset></form>
            """
        guard let event = catalog.event(named: chosen) else { return page("Produce", section: "Produce", body) }
        let example = event.namedExamples.first?.payload ?? event.examples.first ?? .object(JSONObject())
        body += HTML.facts([
            ("Topic", Self.topicLink(event.topic)), ("Key", HTML.escape(event.keyField.map { "payload field \($0)" } ?? "none")),
            ("Schema version", String(event.schemaVersion)),
            ("Pre-filled from", HTML.escape(event.namedExamples.first.map { "the catalog's example '\($0.name)'" } ?? "an empty payload")),
        ])
        body += actionsNote + "<form method=\"post\" action=\"/produce\" id=\"produce-form\"><fieldset>\(csrfField)"
        body += "<input type=\"hidden\" name=\"type\" value=\"\(HTML.escape(event.type))\">"
        for (name, kind) in Self.properties(of: event) {
            let value = example[name].map(Self.fieldText) ?? ""
            body += "<label>\(HTML.escape(name)) <span class=\"muted\">\(HTML.escape(kind))</span> "
            if kind == "object" || kind == "array" {
                body += "<textarea name=\"field.\(HTML.escape(name))\" id=\"field-\(HTML.escape(name))\" rows=\"3\">\(HTML.escape(value))</textarea></label><br>"
            } else {
                body += "<input name=\"field.\(HTML.escape(name))\" id=\"field-\(HTML.escape(name))\" value=\"\(HTML.escape(value))\"></label><br>"
            }
        }
        body += "<label>Subject <input name=\"subject\" id=\"produce-subject\"></label>"
        body += "<button type=\"submit\" id=\"produce-send\">Send</button></fieldset></form>"
        return page("Produce", section: "Produce", body)
    }

    /// The top-level properties of an event's payload schema and their JSON types, in schema order.
    static func properties(of event: EventSpec) -> [(String, String)] {
        guard let properties = resolved(event.rawPayloadSchema, in: event)["properties"]?.objectValue else { return [] }
        return properties.map { name, schema in
            let schema = resolved(schema, in: event)
            let type = schema["type"]?.stringValue ?? schema["type"]?.arrayValue?.compactMap(\.stringValue).first { $0 != "null" } ?? "json"
            return (name, type)
        }
    }

    /// A schema with its local `$ref`s followed (`#/components/schemas/…`, within the event's document).
    static func resolved(_ schema: JSONValue, in event: EventSpec) -> JSONValue {
        var current = schema
        for _ in 0..<8 {
            guard let reference = current["$ref"]?.stringValue, reference.hasPrefix("#"),
                let target = event.schemaDocument.value(atPointer: String(reference.dropFirst()))
            else { return current }
            current = target
        }
        return current
    }

    /// A value as a form field shows it: strings bare, everything else as JSON.
    static func fieldText(_ value: JSONValue) -> String {
        if case .string(let text) = value { return text }
        return String(decoding: value.serialized(), as: UTF8.self)
    }

    /// Sends one CloudEvent built from the form, after checking it against the schema: an invalid payload sends
    /// nothing and the page names every violation.
    func produce(_ form: [String: String]) async throws -> String {
        let type = try Self.required(form, "type", "the event type")
        guard let event = catalog.event(named: type) else { throw ConsoleError(.notFound, "the catalog declares no event type '\(type)'") }
        var object = JSONObject()
        for (name, kind) in Self.properties(of: event) {
            guard let text = form["field.\(name)"], !text.isEmpty else { continue }
            object[name] = try Self.parse(text, as: kind, field: name)
        }
        let payload = JSONValue.object(object)
        try Self.requireValid(payload, for: event, "the payload")
        let key: String?
        do {
            key = try event.partitionKey(for: payload)
        } catch {
            throw ConsoleError(.badRequest, "\(error)")
        }
        // The id is chosen here, so the page can name the event without reading the record back.
        let id = EventID.make()
        var metadata = EventMetadata(id: id)
        metadata.subject = form["subject"].flatMap { $0.isEmpty ? nil : $0 }
        let catalog = self.catalog
        let report = try await model.withProducer { producer in
            let events = EventProducer(producer: producer, source: "/dabba-ui", routes: EventRoutes(catalog: catalog))
            let message = try events.message(
                type: type, version: event.schemaVersion, payload: Array(payload.serialized()), key: key, metadata: metadata)
            return try await producer.send(message)
        }
        model.record("produce", "\(type) id \(id) → \(report.topic)[\(report.partition)]@\(report.offset)")
        let body = HTML.notice(
            "ok",
            "Sent \(HTML.escape(type)) <span id=\"produced-id\">\(HTML.escape(id))</span> to "
                + "<span id=\"produced-position\">\(HTML.escape("\(report.topic)[\(report.partition)]@\(report.offset)"))</span>"
                + (key.map { " with key \(HTML.escape($0))" } ?? "") + ". " + Self.flowLink(id, text: "Its flow"),
            id: "produce-result")
        return page("Produced", section: "Produce", body + HTML.json(payload.serialized()))
    }

    /// Reads a field's text as the schema's type says; names the field when it cannot.
    static func parse(_ text: String, as kind: String, field: String) throws -> JSONValue {
        switch kind {
        case "string": return .string(text)
        default:
            do {
                return try JSONValue.parse(text)
            } catch {
                throw ConsoleError(.badRequest, "field \(field) must be JSON of type \(kind), not '\(text)'")
            }
        }
    }
}
