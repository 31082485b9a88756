import DabbaCatalog
import DabbaKafka
import DabbaPipeline
import Foundation

extension ConsolePages {
    /// Every event sharing one correlation id across the catalog's topics, as a causation tree: each hop with its
    /// type, topic, sending service, time since its cause, and its retry and dead-letter records.
    func flow(_ query: [String: String]) async throws -> String {
        let form = """
            <form method="get" action="/flow" id="flow-form"><fieldset>
            <label>Correlation id <input name="correlation" id="flow-correlation" value="\(HTML.escape(query["correlation"] ?? ""))" size="48"></label>
            <button type="submit">Show the flow</button></fieldset></form>
            """
        guard let correlation = query["correlation"]?.trimmingCharacters(in: .whitespaces), !correlation.isEmpty else {
            return page("Flow", section: "Flow", form + HTML.notice("ok", "Give a correlation id (the Messages page links each event's)."))
        }
        var rows: [RecordRow] = []
        for topic in catalog.allTopics {
            do {
                rows += try await model.recentRecords(of: topic.name).filter { $0.envelope?.correlationID == correlation }
            } catch let error as ConsoleError where error.code == .notFound {
                continue
            }
        }
        guard !rows.isEmpty else {
            return page("Flow", section: "Flow", form + HTML.notice("warn", "No event with correlation id \(HTML.escape(correlation)) in the recent records of the catalog's topics.", id: "flow-empty"))
        }
        // The events on main topics are the hops; records on retry and dead-letter topics hang off the event they carry.
        var hops: [String: RecordRow] = [:]
        var attempts: [String: [RecordRow]] = [:]
        for row in rows.sorted(by: { ($0.timestamp ?? 0) < ($1.timestamp ?? 0) }) {
            guard let id = row.envelope?.id else { continue }
            if case .main = catalog.topic(named: row.message.topic)?.kind ?? .main {
                if hops[id] == nil { hops[id] = row }
            } else {
                attempts[id, default: []].append(row)
            }
        }
        var children: [String: [String]] = [:]
        var roots: [String] = []
        for (id, row) in hops {
            if let cause = row.envelope?.causationID, cause != id, hops[cause] != nil {
                children[cause, default: []].append(id)
            } else {
                roots.append(id)
            }
        }
        let byTime: (String, String) -> Bool = { (hops[$0]?.timestamp ?? 0) < (hops[$1]?.timestamp ?? 0) }
        func render(_ id: String, parentTime: Int64?) -> String {
            guard let row = hops[id], let envelope = row.envelope else { return "" }
            let latency: String =
                if let time = row.timestamp, let parentTime { "+\(time - parentTime) ms" } else { parentTime == nil ? "start" : "–" }
            var html = "<li class=\"hop\" data-event-id=\"\(HTML.escape(id))\"><strong>\(HTML.escape(envelope.type))</strong>"
                + " on \(Self.topicLink(row.message.topic)) <code>\(HTML.escape(row.position))</code>"
                + " from <span class=\"source\">\(HTML.escape(envelope.source))</span>"
                + " <span class=\"badge\">\(HTML.escape(latency))</span>"
                + (envelope.subject.map { " subject \(HTML.escape($0))" } ?? "")
                + " <span class=\"muted\">id \(HTML.escape(id))</span>"
            for attempt in attempts[id] ?? [] {
                let record = DeadLetterRecord(attempt.message)
                if case .deadLetter = catalog.topic(named: attempt.message.topic)?.kind {
                    html += "<div class=\"notice error dead-letter\">dead-lettered to \(Self.topicLink(attempt.message.topic)) by group \(HTML.escape(record.consumerGroup ?? "?")): \(HTML.escape(record.errorType ?? "")) \(HTML.escape(record.errorMessage ?? ""))</div>"
                } else {
                    html += "<div class=\"notice warn retry\">retried via \(Self.topicLink(attempt.message.topic)) (attempt \(record.attempts.map(String.init) ?? "?")): \(HTML.escape(record.errorMessage ?? ""))</div>"
                }
            }
            let next = (children[id] ?? []).sorted(by: byTime)
            if !next.isEmpty { html += "<ul>" + next.map { render($0, parentTime: row.timestamp) }.joined() + "</ul>" }
            return html + "</li>"
        }
        let tree = "<div class=\"tree\" id=\"flow-tree\"><ul>" + roots.sorted(by: byTime).map { render($0, parentTime: nil) }.joined() + "</ul></div>"
        let summary = HTML.notice("ok", "\(hops.count) event(s), \(attempts.values.map(\.count).reduce(0, +)) retry or dead-letter record(s) for correlation id \(HTML.escape(correlation)).", id: "flow-summary")
        return page("Flow", section: "Flow", form + summary + tree)
    }
}
