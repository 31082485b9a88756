import ArgumentParser
import DabbaCatalog
import DabbaKafka
import DemoKit
import Logging
import Foundation

/// The options every demo takes about where it runs: the catalog, the work directory, and whether to keep it.
public struct DemoRunOptions: ParsableArguments, Sendable {
    /// The Topics/ catalog directory.
    @Option(help: "The Topics/ catalog directory.")
    public var catalog = "Topics"

    /// Where the services' stores and logs go.
    @Option(
        name: .customLong("work-dir"),
        help: "Where the services' stores and logs go (default: a new temporary directory).")
    public var workDirectory: String?

    /// Keep the work directory after a successful run.
    @Flag(help: "Keep the work directory (stores and logs) after a successful run.")
    public var keep = false

    /// Creates the defaults.
    public init() {}

    /// Creates the work directory (`--work-dir`, or a new temporary one named after the demo).
    /// - Parameter demo: The demo's name (`food-demo`).
    /// - Returns: Its path.
    /// - Throws: File errors.
    public func makeWorkDirectory(for demo: String) throws -> String {
        let directory = workDirectory ?? NSTemporaryDirectory() + "\(demo)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    /// Loads the catalog.
    /// - Returns: The catalog.
    /// - Throws: `ValidationError` listing what is wrong with it.
    public func loadCatalog() throws -> Catalog {
        do {
            return try Catalog.load(directory: URL(fileURLWithPath: catalog))
        } catch let errors as CatalogErrors {
            throw ValidationError("the catalog in \(catalog) is invalid:\n\(errors)")
        }
    }
}

/// The embedded broker of a demo with one example system's topics from the catalog (main topics, retry tiers and
/// dead letters).
public struct DemoCluster: Sendable {
    /// The broker.
    public let broker: EmbeddedBroker
    /// The whole catalog.
    public let catalog: Catalog
    /// The system's topics.
    public let topics: [TopicSpec]

    /// The system's dead-letter topics.
    public var deadLetterTopics: [String] { topics.map(\.name).filter { $0.hasSuffix(".dlq") } }

    /// Loads the catalog, starts a one-broker cluster and creates the topics whose names start with `prefix`,
    /// announcing both as a step of the demo.
    /// - Parameters:
    ///   - options: The demo's options (the catalog directory).
    ///   - prefix: The system's topic prefix (`tatkal.`).
    ///   - mainTopic: A topic the catalog must have, and the document that declares it, for the error.
    ///   - logger: The logger.
    /// - Throws: `ValidationError` when the catalog is invalid or lacks the main topic; ``KafkaError``.
    public static func start(
        _ options: DemoRunOptions, prefix: String, mainTopic: (name: String, document: String), logger: Logger
    ) async throws -> DemoCluster {
        let catalog = try options.loadCatalog()
        let topics = catalog.allTopics.filter { $0.name.hasPrefix(prefix) }
        guard topics.contains(where: { $0.name == mainTopic.name }) else {
            throw ValidationError(
                "the catalog in \(options.catalog) has no \(mainTopic.name) topic (\(options.catalog)/\(mainTopic.document))")
        }
        DemoConsole.step("Starting the embedded broker with the catalog's \(prefix)* topics (\(options.catalog)/)")
        let broker = try EmbeddedBroker(brokers: 1, logger: logger)
        for topic in topics {
            try await broker.createTopic(topic.name, partitions: Int32(topic.partitions), replicationFactor: 1)
        }
        DemoConsole.note("broker at \(broker.bootstrapServers); \(topics.count) topics (main, retry tiers, dead letters)")
        return DemoCluster(broker: broker, catalog: catalog, topics: topics)
    }
}
