import DabbaCatalog
import Foundation

extension ConsolePages {
    /// The system map per catalog document (services → topics → groups), with rates, lag and DLQ counts, and what
    /// needs attention.
    func overview(_ query: [String: String]) async throws -> String {
        let samples = model.samples.withLock { $0 }
        var body = "<div data-refresh=\"\(max(1, Int(model.configuration.sampleInterval.components.seconds)))\">"
        body += "<h2>Needs attention</h2>" + attentionList(samples)
        for system in model.map.systems {
            let slug = String(system.title.lowercased().map { $0.isLetter || $0.isNumber ? $0 : "-" })
            body += "<section class=\"system\" id=\"system-\(HTML.escape(slug))\"><h2>\(HTML.escape(system.title))</h2>"
            body += "<p class=\"muted\">\(HTML.escape(system.path))</p>"
            var rows: [[String]] = []
            for topic in system.topics where topic.kind == .main {
                let producers = system.producers.filter { $0.topic == topic.name }
                let groups = system.groups.filter { $0.topic == topic.name }
                let senders = Set(producers.map { $0.service ?? "(unnamed)" }).sorted().map { service in
                    "<span class=\"node service\" id=\"node-service-\(HTML.escape(service))-sends-\(HTML.escape(topic.name))\">"
                        + serviceNode(service, samples) + "</span>"
                }.joined()
                let readers = groups.map { group -> String in
                    let lag = samples.groupLag[ConsoleModel.lagKey(group.groupID, topic.name)]?.last?.value
                    let dlq = group.deadLetterTopic.flatMap { samples.deadLetterCounts[$0] } ?? 0
                    let consumed = model.consumptionRate(group: group.groupID, topic: topic.name)
                    return "<span class=\"node group\" id=\"node-group-\(HTML.escape(group.groupID))-\(HTML.escape(topic.name))\">"
                        + Self.groupLink(group.groupID, topic: topic.name)
                        + (group.service.map { " <span class=\"muted\">(\(HTML.escape($0)))</span>" } ?? "")
                        + " <span class=\"badge consumed\" data-rate=\"\(consumed.map { String(format: "%.3f", $0) } ?? "")\">\(Self.rate(consumed))</span>"
                        + " <span class=\"badge lag\">lag \(lag.map(String.init) ?? "–")</span>"
                        + (dlq > 0 ? " <span class=\"badge bad dlq\">DLQ \(dlq)</span>" : "") + "</span>"
                }.joined()
                let rate = model.rate(of: topic.name)
                let topicNode =
                    "<span class=\"node topic\" id=\"node-topic-\(HTML.escape(topic.name))\">" + Self.topicLink(topic.name)
                    + " <span class=\"badge rate\" data-rate=\"\(rate.map { String(format: "%.3f", $0) } ?? "")\">\(Self.rate(rate))</span></span>"
                rows.append([senders.isEmpty ? "<span class=\"muted\">–</span>" : senders, "→ " + topicNode + " →", readers])
            }
            body += HTML.table(id: "map-\(slug)", headers: ["Sent by", "Topic (events/s in)", "Read by (events/s read, lag, DLQ)"], rows: rows)
            body += "</section>"
        }
        body += "</div>"
        return page("Overview", section: "Overview", body)
    }

    private func serviceNode(_ service: String, _ samples: ConsoleModel.Samples) -> String {
        let badge: String
        if let instances = samples.services[service], !instances.isEmpty {
            let ready = instances.filter(\.isReady).count
            badge = "<span class=\"badge \(ready == instances.count ? "good" : "bad")\">\(ready)/\(instances.count) ready</span>"
        } else {
            badge = ""
        }
        return Self.serviceLink(service) + badge
    }

    /// Non-empty DLQs, growing lag, unready services, catalog drift, the cluster unreachable.
    func attentionItems(_ samples: ConsoleModel.Samples) -> [String] {
        var items: [String] = []
        if let failure = samples.clusterFailure {
            items.append("The cluster could not be sampled: \(HTML.escape(failure))")
        }
        for (topic, count) in samples.deadLetterCounts.sorted(by: { $0.key < $1.key }) where count > 0 {
            items.append("Dead letters: \(count) record(s) in \(Self.topicLink(topic)) — " + HTML.link("see them", "/dead-letters"))
        }
        for (key, series) in samples.groupLag.sorted(by: { $0.key < $1.key }) where series.count >= 3 {
            let recent = series.suffix(3).map(\.value)
            if let last = recent.last, last > 0, zip(recent, recent.dropFirst()).allSatisfy({ $0 < $1 }) {
                let parts = key.split(separator: "@", maxSplits: 1).map(String.init)
                let link = parts.count == 2 ? Self.groupLink(parts[0], topic: parts[1]) : HTML.escape(key)
                items.append("Growing lag: \(link) is \(last) behind and falling further")
            }
        }
        for (name, instances) in samples.services.sorted(by: { $0.key < $1.key }) {
            for snapshot in instances {
                if let failure = snapshot.failure {
                    items.append("Service \(Self.serviceLink(name)) does not answer: \(HTML.escape(failure))")
                } else if snapshot.ready?.ok == false {
                    items.append("Service \(Self.serviceLink(name)) is not ready: \(HTML.escape(snapshot.ready?.reason ?? ""))")
                }
            }
        }
        for (service, failure) in samples.contractFailures.sorted(by: { $0.key < $1.key }) {
            items.append("Contract: \(HTML.escape(service)) does not honour the catalog — \(HTML.escape(failure)) — " + HTML.link("contracts", "/contracts"))
        }
        for topic in samples.missingTopics {
            items.append("Catalog drift: \(Self.topicLink(topic)) is in the catalog but not in the cluster")
        }
        for (topic, drift) in samples.partitionDrift.sorted(by: { $0.key < $1.key }) {
            items.append("Catalog drift: \(Self.topicLink(topic)) has \(drift.cluster) partitions, the catalog says \(drift.catalog)")
        }
        return items
    }

    private func attentionList(_ samples: ConsoleModel.Samples) -> String {
        let items = attentionItems(samples)
        guard !items.isEmpty else { return HTML.notice("ok", "Nothing needs attention.", id: "attention") }
        return "<ul id=\"attention\">" + items.map { "<li>\($0)</li>" }.joined() + "</ul>"
    }
}
