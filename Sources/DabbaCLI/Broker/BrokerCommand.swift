import ArgumentParser
import DabbaCatalog
import DabbaKafka
import Foundation

/// `dabba broker`: an in-memory Kafka cluster for local runs and scripts, until SIGINT or SIGTERM.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an in-memory Kafka cluster until interrupted.",
        discussion: """
            Starts the embedded broker (librdkafka's mock cluster: the real Kafka protocol on loopback ports, \
            everything in memory), creates the given topics (--topic, and with --catalog DIR every topic of the \
            catalog, including the derived retry and dead-letter topics) and prints one line to standard output:

              bootstrap=127.0.0.1:PORT[,127.0.0.1:PORT...]

            With --bootstrap-file it also writes the servers to that file once the broker is ready (atomically, \
            so a script can wait for the file to appear), and removes it on exit. SIGINT or SIGTERM stops the \
            broker and exits 0.

            Limits: in memory only; roughly the newest 5 MiB or 100,000 messages per partition are kept; no admin \
            APIs (create topics with --topic or --catalog); transactions are only a call flow. Catalog topics that \
            ask for more replicas than --brokers get one replica per broker, with a warning.
            """
    )

    @Option(help: "How many brokers the cluster has.")
    var brokers: Int = 1

    @Option(
        name: .customLong("topic"),
        help: ArgumentHelp(
            "A topic to create, NAME:PARTITIONS or NAME:PARTITIONS:REPLICAS (repeatable).",
            valueName: "name:partitions"
        ),
        transform: TopicSpec.parse
    )
    var topics: [TopicSpec] = []

    @Option(
        help: ArgumentHelp(
            "Create every topic of this catalog directory, with the derived retry and dead-letter topics.",
            valueName: "dir"
        )
    )
    var catalog: String?

    @Option(help: ArgumentHelp("Write the bootstrap servers to this file once ready.", valueName: "path"))
    var bootstrapFile: String?

    @Flag(name: [.customShort("v"), .long], help: "Show the mock cluster's librdkafka log lines on standard error.")
    var verbose = false

    func validate() throws {
        guard (1...64).contains(brokers) else {
            throw ValidationError("--brokers must be between 1 and 64, not \(brokers)")
        }
        var seen: Set<String> = []
        for topic in topics {
            guard seen.insert(topic.name).inserted else {
                throw ValidationError("topic '\(topic.name)' is given twice with --topic")
            }
            guard topic.replicationFactor <= brokers else {
                throw ValidationError(
                    "topic '\(topic.name)' asks for \(topic.replicationFactor) replicas but the cluster has "
                        + "\(brokers) broker\(brokers == 1 ? "" : "s") (use --brokers)"
                )
            }
        }
        if let bootstrapFile, bootstrapFile.isEmpty {
            throw ValidationError("--bootstrap-file needs a path")
        }
        if let catalog, catalog.isEmpty { throw ValidationError("--catalog needs a directory") }
    }

    func run() async throws {
        // Handle the signals before anything else, so an early SIGTERM still stops cleanly.
        let signals = SignalWatcher()
        let file = bootstrapFile.map(BootstrapFile.init(path:))
        // The catalog is checked before anything starts: a broken one is an error, not a half-made cluster.
        let loaded = try catalog.map { try CatalogDirectory(explicit: $0).load() }
        let topics = try plannedTopics(catalog: loaded)
        try file?.removeStale()

        var logger = ConnectionOptions.quietLogger(label: "dabba.broker")
        if verbose { logger.logLevel = .info }
        let broker: EmbeddedBroker
        do {
            broker = try EmbeddedBroker(brokers: brokers, logger: logger)
        } catch let error as KafkaError {
            throw CLIError("could not start the embedded broker: \(error.cliDescription)")
        }
        for topic in topics {
            do {
                try await broker.createTopic(
                    topic.spec.name,
                    partitions: topic.spec.partitions,
                    replicationFactor: topic.spec.replicationFactor
                )
            } catch let error as KafkaError {
                broker.stop()
                throw CLIError("could not create topic '\(topic.spec.name)': \(error.cliDescription)")
            }
        }
        let servers = broker.bootstrapServers
        do {
            try file?.write(servers)
        } catch {
            broker.stop()
            throw error
        }
        Output.line("bootstrap=\(servers)")
        Output.note(readyMessage(servers: servers, topics: topics, catalog: loaded))

        let signal = await signals.wait() ?? SIGTERM
        Output.note("dabba broker: \(SignalWatcher.name(of: signal)) received, stopping")
        broker.stop()
        file?.remove(ifContains: servers)
    }

    /// A topic to create, and why: `--topic`, or the catalog (with the derived topic's purpose).
    struct PlannedTopic {
        var spec: TopicSpec
        var note: String?
    }

    /// The `--topic` topics, then the catalog's (declared ones each followed by their derived ones).
    /// - Throws: ``CLIError`` for catalog errors, or a topic given with --topic and in the catalog with different
    ///   partition counts.
    func plannedTopics(catalog loaded: Catalog?) throws -> [PlannedTopic] {
        var planned = topics.map { PlannedTopic(spec: $0, note: nil) }
        guard let loaded else { return planned }
        var given: [String: TopicSpec] = [:]
        for topic in topics { given[topic.name] = topic }
        for topic in loaded.allTopics {
            if let flag = given[topic.name] {
                guard Int(flag.partitions) == topic.partitions else {
                    throw CLIError(
                        "topic '\(topic.name)' is given with --topic \(flag.name):\(flag.partitions) but the catalog "
                            + "declares \(topic.partitions) partition\(topic.partitions == 1 ? "" : "s") "
                            + "(\(topic.source)); drop --topic or make them agree"
                    )
                }
                continue
            }
            var replicas = topic.replicas
            if replicas > brokers {
                Output.note(
                    "warning: topic '\(topic.name)' asks for \(replicas) replicas but the cluster has \(brokers) "
                        + "broker\(brokers == 1 ? "" : "s"); creating it with \(brokers)"
                )
                replicas = brokers
            }
            let note: String
            switch topic.kind {
            case .main: note = "catalog"
            case .retry(let tier, _, let group, _): note = "catalog: retry tier \(tier) of group \(group)"
            case .deadLetter(let group, _): note = "catalog: dead letters of group \(group)"
            }
            planned.append(
                PlannedTopic(
                    spec: TopicSpec(
                        name: topic.name,
                        partitions: Int32(clamping: topic.partitions),
                        replicationFactor: Int32(clamping: replicas)
                    ),
                    note: note
                )
            )
        }
        return planned
    }

    private func readyMessage(servers: String, topics: [PlannedTopic], catalog loaded: Catalog?) -> String {
        let cluster = brokers == 1 ? "1 broker" : "\(brokers) brokers"
        var text = "dabba broker: embedded Kafka cluster (\(cluster)) ready at \(servers)"
        if topics.isEmpty {
            text += "\n  no topics (create them with --topic NAME:PARTITIONS)"
        } else {
            for planned in topics {
                let topic = planned.spec
                let replicas = topic.replicationFactor == 1 ? "" : ", \(topic.replicationFactor) replicas"
                text +=
                    "\n  topic \(topic.name): \(topic.partitions) partition\(topic.partitions == 1 ? "" : "s")"
                    + replicas + (planned.note.map { " (\($0))" } ?? "")
            }
        }
        if let bootstrapFile { text += "\n  bootstrap servers written to \(bootstrapFile)" }
        if let event = loaded?.events.first(where: { !$0.examples.isEmpty }), let catalog {
            let option = catalog == CatalogDirectory.defaultPath ? "" : " --catalog \(catalog)"
            text += "\n  try: DABBA_BOOTSTRAP=\(servers) dabba produce \(event.type) --example\(option)"
        } else {
            text += "\n  try: DABBA_BOOTSTRAP=\(servers) dabba produce --topic NAME --value hello"
        }
        text += "\nPress Ctrl-C (or send SIGTERM) to stop."
        return text
    }
}
