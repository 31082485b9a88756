import ArgumentParser
import DabbaCatalog
import Foundation

/// `dabba topics list`: every topic of the catalog, derived retry and dead-letter topics included.
struct TopicsListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the catalog's topics, with the derived retry and dead-letter topics.",
        discussion: """
            Prints a table: name, kind (main; retry tier N (delay) of TOPIC for group G; dead letter of TOPIC for \
            group G), partitions, replicas and configs, in catalog order (each declared topic followed by the \
            topics derived from it). Needs no broker.

            With --json, one JSON object per topic and line, with the keys name, kind ("main", "retry" or \
            "deadLetter"), mainTopic, group, tier, delay ("30s"), delayMilliseconds (null where they do not \
            apply), partitions, replicas, configs (name to value) and source (file:line:column of the declaration).
            """
    )

    @OptionGroup var catalogOptions: TopicsCommand.CatalogOptions

    @Flag(help: "Print one JSON object per line instead of a table.")
    var json = false

    func run() async throws {
        let catalog = try catalogOptions.load()
        if json {
            for topic in catalog.allTopics { Output.json(Self.jsonObject(for: topic)) }
        } else {
            for line in Self.table(catalog.allTopics) { Output.line(line) }
        }
    }

    /// The text table, header first, columns padded to their widest cell.
    static func table(_ topics: [CatalogTopic]) -> [String] {
        let header = ["NAME", "KIND", "PARTITIONS", "REPLICAS", "CONFIGS"]
        let rows = topics.map { topic in
            [
                topic.name,
                TopicPlan.describeKind(topic),
                String(topic.partitions),
                String(topic.replicas),
                topic.configs.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "),
            ]
        }
        let widths = header.indices.map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { cells in
            cells.enumerated().map { column, cell in
                column == cells.count - 1 ? cell : cell.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    /// One topic as a JSON object.
    static func jsonObject(for topic: CatalogTopic) -> [String: Any] {
        var object: [String: Any] = [
            "name": topic.name,
            "mainTopic": topic.mainTopic,
            "group": jsonString(topic.group),
            "tier": NSNull(),
            "delay": NSNull(),
            "delayMilliseconds": NSNull(),
            "partitions": topic.partitions,
            "replicas": topic.replicas,
            "configs": topic.configs,
            "source": topic.source.description,
        ]
        switch topic.kind {
        case .main:
            object["kind"] = "main"
        case .retry(let tier, let delay, _, _):
            object["kind"] = "retry"
            object["tier"] = tier
            object["delay"] = TopicPlan.formatDelay(delay)
            object["delayMilliseconds"] = TopicPlan.delayMilliseconds(delay)
        case .deadLetter:
            object["kind"] = "deadLetter"
        }
        return object
    }
}
