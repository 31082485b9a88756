import DabbaCatalog
import DabbaKafka
import Foundation

extension ConsolePages {
    /// Broker and librdkafka versions, the catalog, which actions are enabled, and the actions taken.
    func status(_ query: [String: String]) async throws -> String {
        let configuration = model.configuration
        let samples = model.samples.withLock { $0 }
        var brokers = "–"
        do {
            let metadata = try KafkaMetadata(configuration: configuration.client, logger: model.logger)
            brokers = try await metadata.brokers(timeout: configuration.timeout).map { "\($0.id) at \($0.host):\($0.port)" }.joined(separator: ", ")
        } catch {
            brokers = "unreachable: \(error)"
        }
        var body = HTML.facts([
            ("librdkafka", HTML.escape(KafkaVersion.librdkafka)),
            ("Bootstrap", HTML.escape(configuration.client.bootstrapServers.joined(separator: ","))),
            ("Brokers", HTML.escape(brokers)),
            ("Catalog", HTML.escape("\(configuration.catalogDirectory.path): \(catalog.documents.count) document(s), \(catalog.allTopics.count) topics, \(catalog.events.count) event types, \(catalog.consumerGroups.count) consumer groups")),
            ("Actions", "<span id=\"actions-state\">\(actionsEnabled ? "enabled (--allow-actions): produce, dead-letter replay, offset reset" : "disabled: read-only")</span>"),
            ("Listening on", HTML.escape(configuration.host)),
            ("Last sample", HTML.escape(samples.sampledAt.map { $0.ISO8601Format() } ?? "not yet") + (samples.clusterFailure.map { " — failed: " + HTML.escape($0) } ?? "")),
            ("Services", HTML.escape(configuration.services.keys.sorted().joined(separator: ", ").isEmpty ? "none given (--service NAME=URL)" : configuration.services.keys.sorted().joined(separator: ", "))),
        ], id: "status")
        let actions = model.actions.withLock { $0 }
        body += "<h2>Actions taken</h2>" + HTML.table(
            id: "actions", headers: ["At", "Action", "Detail"],
            rows: actions.reversed().map { [HTML.escape($0.at.ISO8601Format()), HTML.escape($0.action), HTML.escape($0.detail)] })
        return page("Status", section: "Status", body)
    }
}
