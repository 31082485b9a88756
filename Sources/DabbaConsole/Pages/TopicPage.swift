import DabbaCatalog
import DabbaKafka
import DabbaSchema
import Foundation

extension ConsolePages {
    /// A topic: the catalog's declaration against the cluster (the `dabba topics plan` comparison), who sends and
    /// reads it, and its event types with schema, version and examples.
    func topic(_ query: [String: String]) async throws -> String {
        let name = try Self.required(query, "name", "the topic")
        guard let spec = catalog.topic(named: name) else {
            throw ConsoleError(.notFound, "the catalog declares no topic '\(name)'")
        }
        var body = HTML.facts([
            ("Kind", HTML.escape(TopicPlan.describeKind(spec))),
            ("Catalog", "\(spec.partitions) partitions, \(spec.replicas) replica(s)"
                + (spec.configs.isEmpty ? "" : ", " + HTML.escape(spec.configs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))),
            ("Declared in", HTML.escape("\(spec.source.file):\(spec.source.line)")),
            ("Records", Self.messagesLink(topic: name, text: "browse messages")),
        ], id: "topic-facts")
        body += "<h2>Catalog against cluster</h2>" + (try await drift(of: spec))
        let producers = catalog.producers(onTopic: name)
        let groups = catalog.consumerGroups(onTopic: name)
        body += "<h2>Sent by</h2>" + HTML.table(
            id: "senders", headers: ["Service", "Operation", "Event types"],
            rows: producers.map { [Self.serviceLink($0.service ?? "(unnamed)"), HTML.escape($0.operationID), HTML.escape($0.eventTypes.joined(separator: ", "))] })
        body += "<h2>Read by</h2>" + HTML.table(
            id: "readers", headers: ["Group", "Service", "Event types", "Retry tiers", "Dead letters"],
            rows: groups.map { group in
                [
                    Self.groupLink(group.groupID, topic: name), HTML.escape(group.service ?? "–"),
                    HTML.escape(group.eventTypes.joined(separator: ", ")),
                    group.retryTopics.map(Self.topicLink).joined(separator: "<br>"),
                    group.deadLetterTopic.map(Self.topicLink) ?? "–",
                ]
            })
        body += "<h2>Event types</h2>"
        for event in catalog.events(onTopic: name) {
            body += "<section class=\"system\" id=\"event-\(HTML.escape(event.type))\"><h3>\(HTML.escape(event.type))</h3>"
            body += HTML.facts([
                ("Schema version", String(event.schemaVersion)), ("Content type", HTML.escape(event.contentType)),
                ("Key", HTML.escape(event.keyField.map { "payload field \($0)" } ?? event.keyDescription ?? "none")),
                ("Summary", HTML.escape(event.summary ?? "–")),
                ("Produce", HTML.link("send one", "/produce?type=\(HTML.urlComponent(event.type))")),
            ])
            body += "<details><summary>Payload schema</summary>" + HTML.json(event.rawPayloadSchema.serialized()) + "</details>"
            for example in event.namedExamples {
                body += "<details><summary>Example: \(HTML.escape(example.name))</summary>" + HTML.json(example.payload.serialized()) + "</details>"
            }
            body += "</section>"
        }
        return page("Topic \(name)", section: "Overview", body)
    }

    /// What `dabba topics plan` would change for this topic, from the cluster's metadata (and configs, where the
    /// broker can describe them).
    private func drift(of spec: TopicSpec) async throws -> String {
        let description: TopicDescription
        do {
            guard let found = try await model.admin.describeTopics([spec.name], timeout: model.configuration.timeout).first else {
                return HTML.notice("error", "The cluster has no topic \(HTML.escape(spec.name)).", id: "drift")
            }
            description = found
        } catch let error as KafkaError where error.code == .unknownTopicOrPartition {
            return HTML.notice("error", "The cluster has no topic \(HTML.escape(spec.name)): <code>dabba topics apply</code> creates it.", id: "drift")
        }
        var cluster = ClusterTopic(name: spec.name, partitions: description.partitions.count, replicationFactor: description.replicationFactor)
        var configsNote = ""
        if !spec.configs.isEmpty {
            do {
                cluster.configs = try await model.admin.describeTopicConfigs(spec.name, timeout: model.configuration.timeout)
                    .compactMapValues(\.value)
            } catch let error as KafkaError where error.code == .unsupportedByBroker {
                cluster.configs = spec.configs
                configsNote = " (configs not compared: this broker cannot describe them)"
            }
        }
        let plan = TopicPlan.make(topics: [spec], cluster: [cluster], prune: false)
        var lines: [String] = []
        for update in plan.updates {
            if let growth = update.partitions { lines.append("partitions \(growth.from) → \(growth.to)") }
            for change in update.configChanges { lines.append("\(change.key): \(change.old ?? "not set") → \(change.new)") }
        }
        lines += plan.refusals.map { "refused: \($0.change) — \($0.explanation)" }
        lines += plan.warnings.map(\.message)
        let facts = "cluster: \(cluster.partitions) partitions, replication factor \(cluster.replicationFactor)"
        guard !lines.isEmpty else {
            return HTML.notice("ok", "In step with the catalog (\(HTML.escape(facts)))\(HTML.escape(configsNote)).", id: "drift")
        }
        return HTML.notice("warn", "Drift (\(HTML.escape(facts))): " + lines.map(HTML.escape).joined(separator: "; "), id: "drift")
    }
}
