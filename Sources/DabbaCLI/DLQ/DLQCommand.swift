import ArgumentParser
import DabbaEvents
import DabbaKafka
import DabbaPipeline
import Foundation

/// `dabba dlq`: inspect and replay dead-letter topics.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq",
        abstract: "Inspect and replay dead-letter topics.",
        subcommands: [DLQInspectCommand.self, DLQReplayCommand.self]
    )
}

/// Filter options shared by `inspect` and `replay`.
struct DeadLetterFilterOptions: ParsableArguments {
    @Option(name: .customLong("error-type"), help: "Only records whose error type is this (full or last component).")
    var errorType: String?

    @Option(help: "Only records with this key.")
    var key: String?

    @Option(name: .customLong("event-type"), help: "Only records of this event type.")
    var eventType: String?

    @Option(help: "Only records that failed at or after this RFC 3339 time.")
    var since: String?

    @Option(help: "Only records that failed at or before this RFC 3339 time.")
    var until: String?

    func filter() throws -> DeadLetterFilter {
        func time(_ text: String?, _ option: String) throws -> Date? {
            guard let text else { return nil }
            guard let date = RFC3339.parse(text) else {
                throw ValidationError("--\(option) must be an RFC 3339 time such as 2026-11-21T08:00:00Z, not '\(text)'")
            }
            return date
        }
        return DeadLetterFilter(
            errorType: errorType, key: key, eventType: eventType, since: try time(since, "since"),
            until: try time(until, "until")
        )
    }
}

/// `dabba dlq inspect TOPIC`.
struct DLQInspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Print a dead-letter topic's records with their failure context, as JSON lines.",
        discussion: """
            Prints one JSON object per record: topic, partition, offset, key, event (type, id, source, time), \
            failure (original topic, partition and offset, consumer group, error type and message, attempts, \
            failed-at, replay count) and data (the payload, as JSON when it parses). Reads the whole topic as it \
            is when the command starts, without committing anything.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var filters: DeadLetterFilterOptions

    @Argument(help: "The dead-letter topic.")
    var topic: String

    @Option(help: "Stop after this many matching records.")
    var max: Int?

    @Option(help: ArgumentHelp("Seconds to wait for the brokers to answer.", valueName: "seconds"))
    var timeout: Double = 10

    func validate() throws {
        if let problem = TopicName.problem(with: topic) { throw ValidationError("TOPIC: \(problem)") }
        if let max, max < 1 { throw ValidationError("--max must be 1 or more, not \(max)") }
        _ = try filters.filter()
    }

    func run() async throws {
        let filter = try filters.filter()
        var printed = 0
        var examined = 0
        let client = try connection.clientConfiguration()
        // Unreachable brokers and a missing topic get the CLI's own messages.
        _ = try await TopicCheck.partitionCount(of: topic, client: client, timeout: timeout, logger: connection.logger(label: "dabba.dlq"))
        do {
            try await DeadLetterReader.read(
                topic: topic, group: "dabba-dlq-inspect-\(UUID().uuidString.lowercased())", commits: false,
                client: client, timeout: .cliSeconds(timeout),
                logger: connection.logger(label: "dabba.dlq")
            ) { record in
                examined += 1
                guard filter.matches(record) else { return true }
                Output.json(record.json())
                printed += 1
                return max.map { printed < $0 } ?? true
            }
        } catch let error as KafkaError {
            throw CLIError("reading dead-letter topic '\(topic)' failed: \(error.cliDescription)")
        }
        Output.note("dabba dlq inspect: \(printed) of \(examined) records matched")
    }
}

/// `dabba dlq replay TOPIC`.
struct DLQReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Send dead-letter records back to their original topic.",
        discussion: """
            Each matching record is sent to its original topic (the kafka_dlt-original-topic header, or --to) with \
            its key, value and original headers; the dead-letter and retry diagnostics are dropped and \
            dabba-replay-count is incremented. Loop guard: a record whose replay count has reached --max-replays \
            (default 1) is a replayed event that failed again, and is skipped, not replayed forever.

            Progress is kept in the consumer group dabba-dlq-replay.<topic>: every record examined (replayed, \
            skipped, or not matching the filters) is passed over by the next replay. --from-beginning examines the \
            whole topic again. --dry-run prints what would be replayed and changes nothing.
            """
    )

    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var filters: DeadLetterFilterOptions

    @Argument(help: "The dead-letter topic.")
    var topic: String

    @Option(help: "Send to this topic instead of each record's original topic.")
    var to: String?

    @Flag(name: .customLong("dry-run"), help: "Print what would be replayed; send and commit nothing.")
    var dryRun = false

    @Option(help: "Replay at most this many records.")
    var max: Int?

    @Option(name: .customLong("max-replays"), help: "Skip records already replayed this many times (the loop guard).")
    var maxReplays: Int = 1

    @Flag(name: .customLong("from-beginning"), help: "Examine the whole topic, ignoring earlier replays' progress.")
    var fromBeginning = false

    @Option(help: ArgumentHelp("Seconds to wait for the brokers to answer.", valueName: "seconds"))
    var timeout: Double = 10

    func validate() throws {
        if let problem = TopicName.problem(with: topic) { throw ValidationError("TOPIC: \(problem)") }
        if let to, let problem = TopicName.problem(with: to) { throw ValidationError("--to: \(problem)") }
        if let max, max < 1 { throw ValidationError("--max must be 1 or more, not \(max)") }
        guard maxReplays >= 1 else { throw ValidationError("--max-replays must be 1 or more, not \(maxReplays)") }
        _ = try filters.filter()
    }

    func run() async throws {
        let replay = DeadLetterReplay(filter: try filters.filter(), destination: to, maxReplays: maxReplays)
        let client = try connection.clientConfiguration()
        let logger = connection.logger(label: "dabba.dlq")
        _ = try await TopicCheck.partitionCount(of: topic, client: client, timeout: timeout, logger: logger)
        let producer = dryRun ? nil : try KafkaProducer(configuration: ProducerConfiguration(client: client), logger: logger)
        var replayed = 0
        var loopGuarded = 0
        var unroutable = 0
        let group =
            fromBeginning || dryRun
            ? "dabba-dlq-replay-\(UUID().uuidString.lowercased())" : DeadLetterReplay.progressGroup(of: topic)
        do {
            try await DeadLetterReader.read(
                topic: topic, group: group, commits: !dryRun, client: client, timeout: .cliSeconds(timeout),
                logger: logger
            ) { record in
                let position = "\(topic)[\(record.message.partition)]@\(record.message.offset)"
                switch replay.decide(record) {
                case .notMatching:
                    return true
                case .loopGuarded(let replays):
                    loopGuarded += 1
                    Output.json([
                        "action": "skipped", "record": position, "eventId": jsonString(record.eventID),
                        "reason": "already replayed \(replays) time(s) and failed again (--max-replays \(maxReplays))",
                    ])
                    return true
                case .unroutable:
                    unroutable += 1
                    Output.json([
                        "action": "skipped", "record": position, "eventId": jsonString(record.eventID),
                        "reason": "no kafka_dlt-original-topic header: pass --to",
                    ])
                    return true
                case .replay(let destination):
                    if let producer {
                        let report = try await producer.send(record.replay(to: destination))
                        Output.json([
                            "action": "replayed", "record": position, "eventId": jsonString(record.eventID),
                            "to": destination, "partition": Int(report.partition), "offset": report.offset,
                        ])
                    } else {
                        Output.json([
                            "action": "would-replay", "record": position, "eventId": jsonString(record.eventID),
                            "to": destination,
                        ])
                    }
                    replayed += 1
                    return max.map { replayed < $0 } ?? true
                }
            }
        } catch let error as KafkaError {
            try? await producer?.close()
            throw CLIError("replaying dead-letter topic '\(topic)' failed: \(error.cliDescription)")
        }
        try await producer?.close()
        let verb = dryRun ? "would replay" : "replayed"
        Output.note(
            "dabba dlq replay: \(verb) \(replayed) record(s); skipped \(loopGuarded) already replayed (loop guard)"
                + (unroutable > 0 ? ", \(unroutable) without an original topic" : "")
        )
        if unroutable > 0 { throw ExitCode(1) }
    }
}
