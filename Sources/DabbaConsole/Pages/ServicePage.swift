import DabbaCatalog
import Foundation

extension ConsolePages {
    /// A service: its catalog role, and per instance readiness and health with reasons, handled / failed / retried /
    /// dead-lettered / duplicate counts and rates, handler p50 and p99, breakers and pauses, and lag per partition.
    func service(_ query: [String: String]) async throws -> String {
        let name = try Self.required(query, "name", "the service")
        let groups = catalog.consumerGroups.filter { $0.service == name }
        let producers = catalog.producers.filter { $0.service == name }
        guard !groups.isEmpty || !producers.isEmpty || model.configuration.services[name] != nil else {
            throw ConsoleError(.notFound, "neither the catalog nor --service names a service '\(name)'")
        }
        var body = HTML.facts([
            ("Reads", groups.map { Self.groupLink($0.groupID, topic: $0.topic) + " on " + Self.topicLink($0.topic) }.joined(separator: "<br>")),
            ("Sends", Set(producers.map(\.topic)).sorted().map(Self.topicLink).joined(separator: ", ")),
        ])
        let (instances, previous) = model.samples.withLock { ($0.services[name] ?? [], $0.previousServices[name] ?? []) }
        guard !instances.isEmpty else {
            body += HTML.notice("warn", "No endpoint for this service: start <code>dabba ui --service \(HTML.escape(name))=http://host:port</code> to see its health and metrics.", id: "no-endpoint")
            return page("Service \(name)", section: "Overview", body)
        }
        let counters: [(String, String)] = [
            ("handled", "dabba_events_handled_total"), ("failed", "dabba_events_failed_total"),
            ("retried", "dabba_events_retried_total"), ("dead-lettered", "dabba_events_dead_lettered_total"),
            ("duplicates", "dabba_events_duplicates_skipped_total"),
        ]
        for (index, snapshot) in instances.enumerated() {
            body += "<section class=\"system instance\" id=\"instance-\(index)\"><h2>\(HTML.escape(snapshot.url.absoluteString))</h2>"
            if let failure = snapshot.failure {
                body += HTML.notice("error", HTML.escape(failure))
                body += "</section>"
                continue
            }
            let before = previous.first { $0.url == snapshot.url }
            let seconds = before.map { snapshot.takenAt.timeIntervalSince($0.takenAt) } ?? 0
            var facts: [(String, String)] = [
                ("Ready", HTML.escape("\(snapshot.ready?.ok == true ? "yes" : "no") — \(snapshot.ready?.reason ?? "")")),
                ("Healthy", HTML.escape("\(snapshot.health?.ok == true ? "yes" : "no") — \(snapshot.health?.reason ?? "")")),
            ]
            for (label, metric) in counters {
                let total = snapshot.total(metric) ?? 0
                let rate = seconds > 0 ? (total - (before?.total(metric) ?? total)) / seconds : nil
                facts.append((label, "<span class=\"counter\" data-metric=\"\(metric)\">\(Int(total))</span> (\(Self.rate(rate)))"))
            }
            let p50 = snapshot.quantile(0.5, of: "dabba_handler_duration_seconds")
            let p99 = snapshot.quantile(0.99, of: "dabba_handler_duration_seconds")
            facts.append(("Handler p50 / p99", "≤ \(p50.map { String(format: "%.3f s", $0) } ?? "–") / ≤ \(p99.map { String(format: "%.3f s", $0) } ?? "–")"))
            let open = snapshot.metrics.filter { $0.name == "dabba_breaker_state" && $0.value > 0 }.compactMap { $0.labels["dependency"] }
            facts.append(("Breakers open", open.isEmpty ? "none" : HTML.escape(open.joined(separator: ", "))))
            let paused = snapshot.metrics.filter { $0.name == "dabba_pipeline_paused" && $0.value > 0 }.compactMap { $0.labels["reason"] }
            facts.append(("Paused", paused.isEmpty ? "no" : HTML.escape(paused.joined(separator: ", "))))
            body += HTML.facts(facts)
            let lags = snapshot.metrics.filter { $0.name == "dabba_consumer_lag" }
                .sorted { ($0.labels["topic"] ?? "", Int($0.labels["partition"] ?? "") ?? 0) < ($1.labels["topic"] ?? "", Int($1.labels["partition"] ?? "") ?? 0) }
            body += HTML.table(
                id: "lag-\(index)", headers: ["Topic", "Partition", "Lag"],
                rows: lags.map { [HTML.escape($0.labels["topic"] ?? "–"), HTML.escape($0.labels["partition"] ?? "–"), String(Int($0.value))] })
            if let flow = snapshot.flow { body += "<details><summary>Flow control (/flow)</summary>" + HTML.json(Data(flow.utf8)) + "</details>" }
            body += "</section>"
        }
        return page("Service \(name)", section: "Overview", body)
    }
}
