import DabbaCatalog
import DabbaKafka
import DabbaSchema
import Foundation

/// The console's pages: each reads what it shows from the model (the catalog, the sampler, the cluster) and returns
/// a whole HTML document. Queries and forms come in as string dictionaries; a missing or invalid field throws a
/// ``ConsoleError`` naming it, which the server renders as an error page.
struct ConsolePages: Sendable {
    let model: ConsoleModel
    let csrfToken: String

    var actionsEnabled: Bool { model.configuration.allowActions }
    var catalog: Catalog { model.catalog }

    func page(_ title: String, section: String, _ body: String) -> String {
        HTML.page(title: title, section: section, body: body, actionsEnabled: actionsEnabled)
    }

    /// The hidden field every form carries.
    var csrfField: String { "<input type=\"hidden\" name=\"csrf\" value=\"\(csrfToken)\">" }

    /// Why a write form is shown but cannot be sent, when actions are disabled.
    var actionsNote: String {
        actionsEnabled
            ? "" : HTML.notice("warn", "Read-only: start <code>dabba ui --allow-actions</code> to enable this action.", id: "actions-disabled")
    }

    static func errorPage(_ error: ConsoleError) -> String {
        HTML.page(
            title: "Error", section: "", body: HTML.notice("error", HTML.escape(error.message), id: "error"),
            actionsEnabled: false)
    }

    /// Refuses a payload to be sent that breaks the schema of its event type, naming every violation.
    static func requireValid(_ payload: JSONValue, for event: EventSpec, _ what: String) throws {
        let violations = event.payloadSchema.validate(payload)
        guard violations.isEmpty else {
            throw ConsoleError(
                .badRequest, "\(what) breaks the schema of \(event.type), nothing was sent: " + RecordRow.describe(violations))
        }
    }

    /// A required query or form field, trimmed.
    static func required(_ fields: [String: String], _ name: String, _ what: String) throws -> String {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty else {
            throw ConsoleError(.badRequest, "\(what) is missing (the '\(name)' field)")
        }
        return value
    }

    // MARK: - Links

    static func topicLink(_ name: String) -> String { HTML.link(name, "/topic?name=\(HTML.urlComponent(name))") }
    static func groupLink(_ group: String, topic: String) -> String {
        HTML.link(group, "/group?id=\(HTML.urlComponent(group))&topic=\(HTML.urlComponent(topic))")
    }
    static func serviceLink(_ name: String) -> String { HTML.link(name, "/service?name=\(HTML.urlComponent(name))") }
    static func flowLink(_ correlation: String, text: String? = nil) -> String {
        HTML.link(text ?? correlation, "/flow?correlation=\(HTML.urlComponent(correlation))")
    }
    static func messagesLink(topic: String, text: String) -> String {
        HTML.link(text, "/messages?topic=\(HTML.urlComponent(topic))")
    }

    /// A trend as a row of block characters (no script needed).
    static func sparkline(_ values: [Int64]) -> String {
        guard let high = values.max(), high > 0 else { return values.isEmpty ? "" : String(repeating: "▁", count: values.count) }
        let blocks = Array("▁▂▃▄▅▆▇█")
        return String(values.map { blocks[Int((Double($0) / Double(high)) * Double(blocks.count - 1))] })
    }

    static func rate(_ value: Double?) -> String {
        guard let value else { return "–" }
        return value >= 10 ? String(format: "%.0f/s", value) : String(format: "%.1f/s", value)
    }
}
