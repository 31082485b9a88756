import ArgumentParser
import DabbaKafka
import Foundation

/// `dabba broker`: an in-memory Kafka cluster for local runs and scripts, until SIGINT or SIGTERM.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Run an in-memory Kafka cluster until interrupted.",
        discussion: """
            Starts the embedded broker (librdkafka's mock cluster: the real Kafka protocol on loopback ports, \
            everything in memory), creates the given topics and prints one line to standard output:

              bootstrap=127.0.0.1:PORT[,127.0.0.1:PORT...]

            With --bootstrap-file it also writes the servers to that file once the broker is ready (atomically, \
            so a script can wait for the file to appear), and removes it on exit. SIGINT or SIGTERM stops the \
            broker and exits 0.

            Limits: in memory only; roughly the newest 5 MiB or 100,000 messages per partition are kept; no admin \
            APIs (create topics with --topic); transactions are only a call flow.
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
    }

    func run() async throws {
        // Handle the signals before anything else, so an early SIGTERM still stops cleanly.
        let signals = SignalWatcher()
        let file = bootstrapFile.map(BootstrapFile.init(path:))
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
                try broker.createTopic(
                    topic.name,
                    partitions: topic.partitions,
                    replicationFactor: topic.replicationFactor
                )
            } catch let error as KafkaError {
                broker.stop()
                throw CLIError("could not create topic '\(topic.name)': \(error.cliDescription)")
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
        Output.note(readyMessage(servers: servers))

        let signal = await signals.wait() ?? SIGTERM
        Output.note("dabba broker: \(SignalWatcher.name(of: signal)) received, stopping")
        broker.stop()
        file?.remove(ifContains: servers)
    }

    private func readyMessage(servers: String) -> String {
        let cluster = brokers == 1 ? "1 broker" : "\(brokers) brokers"
        var text = "dabba broker: embedded Kafka cluster (\(cluster)) ready at \(servers)"
        if topics.isEmpty {
            text += "\n  no topics (create them with --topic NAME:PARTITIONS)"
        } else {
            for topic in topics {
                let replicas = topic.replicationFactor == 1 ? "" : ", \(topic.replicationFactor) replicas"
                text +=
                    "\n  topic \(topic.name): \(topic.partitions) partition\(topic.partitions == 1 ? "" : "s")"
                    + replicas
            }
        }
        if let bootstrapFile { text += "\n  bootstrap servers written to \(bootstrapFile)" }
        text += "\n  try: DABBA_BOOTSTRAP=\(servers) dabba produce --topic NAME --value hello"
        text += "\nPress Ctrl-C (or send SIGTERM) to stop."
        return text
    }
}
