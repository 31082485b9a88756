import ArgumentParser
import DabbaKafka
import Foundation
import Logging

/// `dabba produce`: sends raw messages (`--topic`: one with `--value`, or one per line of standard input), or typed
/// events of the catalog (`EVENT_TYPE`).
struct ProduceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "produce",
        abstract: "Send messages to --topic (--value, or one per input line), or a catalog EVENT_TYPE as CloudEvents.",
        usage: """
            dabba produce --topic <topic> [--key <key>] [--value <value> | --key-separator <sep>] [<options>]
            dabba produce <event-type> (--data <json> | --file <path> | --example [<name>]) [--count <n> \
            [--rate <per-second>]] [<options>]
            """,
        discussion: """
            Raw messages (--topic): prints one JSON line per delivered message, in input order:

              {"key":"customer-1","offset":0,"partition":3,"topic":"orders"}

            Keyed messages go to the partition the Java client would choose (murmur2), unless --partition is \
            given. With --key-separator, each input line is KEY<sep>VALUE, split at the first separator; a line \
            without it stops the run with an error naming the line (earlier lines are still delivered). Exits \
            non-zero if any message was not delivered. The topic must exist.

            Typed events (EVENT_TYPE): the event type is looked up in the catalog (--catalog DIR, default \
            $\(CatalogDirectory.environmentVariable), else ./\(CatalogDirectory.defaultPath)); the payload must \
            match its JSON Schema, or nothing is sent. It goes to the catalog's topic as a binary-mode CloudEvent \
            (ce_id, ce_source, ce_type, ce_time, ce_dataschema, content-type headers), keyed by the payload's \
            x-dabba-key field unless --key is given. Prints the delivery line plus "type" and "id".

            With --count N, N events go through the high-volume path; string values of the payload may hold \
            placeholders so the events differ: \(PayloadTemplate.placeholderList) ("{{seq}}" alone becomes a \
            number). Each templated payload is checked against the schema; the first that fails stops the run. \
            Prints a progress bar on a terminal, and one summary line \
            {"elapsed":…,"failed":…,"rate":…,"sent":…,"topic":…,"type":…}. --rate R sends at most R events \
            per second.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "A catalog event type: send typed CloudEvents instead of raw messages to --topic.")
    var eventType: String?

    @Option(name: [.customShort("t"), .long], help: "The topic to send raw messages to.")
    var topic: String?

    @Option(
        name: [.customShort("k"), .long],
        help: "The key of every message (default: none; typed events: the x-dabba-key field)."
    )
    var key: String?

    @Option(
        name: [.customShort("H"), .customLong("header")],
        help: ArgumentHelp("A header added to every message (repeatable).", valueName: "name=value"),
        transform: HeaderArgument.parse
    )
    var headers: [KafkaHeader] = []

    @Option(name: [.customShort("p"), .long], help: "Send to this partition instead of the key's partition.")
    var partition: Int32?

    @Option(help: "Send one message with this value instead of reading standard input.")
    var value: String?

    @Option(
        name: [.customShort("K"), .customLong("key-separator")],
        help: ArgumentHelp("Read each input line as KEY<sep>VALUE.", valueName: "sep")
    )
    var keySeparator: String?

    @Option(
        help: ArgumentHelp(
            "Seconds to wait for the brokers, and for each message's acknowledgement.",
            valueName: "seconds"
        )
    )
    var timeout: Double = 10

    @OptionGroup(title: "Typed events (with EVENT_TYPE)") var typed: TypedProduceOptions

    func validate() throws {
        if let eventType {
            try validateTyped(eventType)
        } else {
            try validateRaw()
        }
        guard timeout.isFinite, timeout > 0 else {
            throw ValidationError("--timeout must be a positive number of seconds")
        }
        if let partition, partition < 0 { throw ValidationError("--partition must be 0 or more, not \(partition)") }
        if let keySeparator {
            guard !keySeparator.isEmpty else { throw ValidationError("--key-separator must not be empty") }
            if key != nil {
                throw ValidationError("--key and --key-separator cannot be combined: the key comes from each line")
            }
            if value != nil {
                throw ValidationError("--key-separator splits standard input lines; it cannot be combined with --value")
            }
        }
    }

    private func validateRaw() throws {
        if let example = typed.example, !example.isEmpty {
            throw ValidationError(
                "--example takes the event type first: dabba produce EVENT_TYPE --example [NAME] (got --example "
                    + "'\(example)' and no EVENT_TYPE)"
            )
        }
        if let option = typed.given.first {
            throw ValidationError(
                "\(option) is for typed events and needs an EVENT_TYPE: dabba produce EVENT_TYPE \(option) ... "
                    + "(raw messages take --topic and --value)"
            )
        }
        guard let topic else {
            throw ValidationError(
                "give an EVENT_TYPE of the catalog to send a typed event, or --topic TOPIC to send raw messages"
            )
        }
        if let problem = TopicName.problem(with: topic) { throw ValidationError("--topic: \(problem)") }
    }

    private func validateTyped(_ eventType: String) throws {
        guard !eventType.isEmpty else { throw ValidationError("EVENT_TYPE must not be empty") }
        if topic != nil {
            throw ValidationError(
                "--topic cannot be combined with EVENT_TYPE '\(eventType)': typed events go to the topic the catalog "
                    + "declares for them"
            )
        }
        if value != nil {
            throw ValidationError("--value is for raw messages; give a typed event's payload with --data JSON")
        }
        if keySeparator != nil {
            throw ValidationError("--key-separator is for raw messages read from standard input, not EVENT_TYPE")
        }
        try typed.validateTyped()
    }

    func run() async throws {
        if let eventType {
            let typedRun = TypedProduce(
                eventType: eventType,
                options: typed,
                connection: connection,
                key: key,
                headers: headers,
                partition: partition,
                timeout: timeout
            )
            try await typedRun.run()
            return
        }
        guard let topic else { throw CLIError("no --topic given", exitCode: 64) }
        let logger = connection.logger(label: "dabba.produce")
        let client = try connection.clientConfiguration()
        var configuration = ProducerConfiguration(client: client)
        configuration.messageTimeout = .cliSeconds(timeout)
        configuration.publishesDeliveryReports = value == nil
        let producer: KafkaProducer
        do {
            producer = try KafkaProducer(configuration: configuration, logger: logger)
        } catch let error as KafkaError {
            throw CLIError(error.cliDescription)
        }
        let partitionCount = try await TopicCheck.partitionCount(
            of: topic,
            producer: producer,
            servers: client.bootstrapServers,
            timeout: timeout
        )
        if let partition, partition >= partitionCount {
            throw CLIError(
                "topic '\(topic)' has \(partitionCount) partition\(partitionCount == 1 ? "" : "s") "
                    + "(0...\(partitionCount - 1)); there is no partition \(partition)"
            )
        }
        let limits = Limits(
            maxMessageBytes: client.properties["message.max.bytes"].flatMap { Int($0) }
                ?? configuration.maxMessageBytes,
            timeout: timeout,
            topic: topic
        )
        if let value {
            try await sendOne(value: value, producer: producer, limits: limits)
        } else {
            try await sendLines(producer: producer, limits: limits)
        }
    }

    private func sendOne(value: String, producer: KafkaProducer, limits: Limits) async throws {
        let message = ProducerMessage(
            topic: limits.topic,
            key: key.map { Array($0.utf8) },
            value: Array(value.utf8),
            headers: headers,
            partition: partition
        )
        do {
            let report = try await producer.send(message)
            Output.json(deliveryJSON(report, key: key))
        } catch let error as KafkaError {
            try? await producer.close(timeout: .seconds(1))
            throw CLIError(limits.explain(error, subject: "the message", size: message.byteCount))
        }
        try await producer.close(timeout: .cliSeconds(timeout))
    }

    private func sendLines(producer: KafkaProducer, limits: Limits) async throws {
        if isatty(STDIN_FILENO) != 0 {
            let format = keySeparator.map { "KEY\($0)VALUE" } ?? "VALUE"
            Output.note("dabba produce: reading \(format) lines from standard input; end with Ctrl-D")
        }
        let log = DeliveryLog()
        async let printing: Void = Self.printReports(producer.deliveryReports, to: log)
        var inputError: CLIError?
        var lines = 0
        do {
            for try await line in InputLines() {
                lines = line.number
                let message = try message(for: line, topic: limits.topic)
                let id: UInt64
                do {
                    id = try await producer.enqueue(message)
                } catch let error as KafkaError {
                    throw CLIError(limits.explain(error, subject: "line \(line.number)", size: message.byteCount))
                }
                log.enqueued(DeliveryLog.Entry(id: id, line: line.number, key: message.key.map(Self.text)))
            }
        } catch let error as CLIError {
            inputError = error
        }
        // Every enqueued message is delivered or failed within the message timeout; then close ends the reports.
        try? await producer.flush(timeout: .cliSeconds(timeout) + .seconds(5))
        try? await producer.close(timeout: .seconds(5))
        await printing

        let (delivered, failures) = log.outcome
        for failure in failures.prefix(10) {
            let key = failure.key.map { " (key '\($0)')" } ?? ""
            Output.note(
                "error: line \(failure.line)\(key): \(limits.explain(failure.error, subject: "the message", size: nil))"
            )
        }
        if failures.count > 10 { Output.note("error: … and \(failures.count - 10) more undelivered messages") }
        if var inputError {
            if lines > 1 || delivered > 0 {
                inputError.message +=
                    " (stopped there; \(delivered) earlier message\(delivered == 1 ? " was" : "s were") delivered)"
            }
            throw inputError
        }
        if lines == 0 {
            Output.note("dabba produce: standard input was empty; nothing was sent (use --value for one message)")
        }
        if !failures.isEmpty {
            throw CLIError(
                "\(failures.count) of \(delivered + failures.count) messages were not delivered to topic "
                    + "'\(limits.topic)'"
            )
        }
    }

    private static func printReports(_ reports: DeliveryReportSequence, to log: DeliveryLog) async {
        for await report in reports { log.received(report) }
    }

    private func message(for line: InputLine, topic: String) throws -> ProducerMessage {
        var messageKey = key.map { Array($0.utf8) }
        var value = line.bytes
        if let keySeparator {
            guard let split = KeyedLine.split(line.bytes, separator: Array(keySeparator.utf8)) else {
                throw CLIError(
                    "line \(line.number) has no key separator '\(keySeparator)' (expected KEY\(keySeparator)VALUE): "
                        + "'\(Self.text(Array(line.bytes.prefix(80))))'"
                )
            }
            messageKey = split.key
            value = split.value
        }
        return ProducerMessage(topic: topic, key: messageKey, value: value, headers: headers, partition: partition)
    }

    private static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    /// What the error messages need to explain a failed delivery.
    struct Limits {
        var maxMessageBytes: Int
        var timeout: Double
        var topic: String

        func explain(_ error: KafkaError, subject: String, size: Int?) -> String {
            switch error.code {
            case .messageTooLarge:
                if let size, size > maxMessageBytes {
                    return "\(subject) is too large: \(size) bytes, more than message.max.bytes (\(maxMessageBytes)); "
                        + "raise it with --property message.max.bytes=N if the broker accepts larger messages"
                }
                let sizeText = size.map { " (\($0) bytes)" } ?? ""
                return "\(subject)\(sizeText) is larger than topic '\(topic)' accepts: \(error.cliDescription)"
            case .timedOut, .brokerUnreachable:
                return "could not deliver \(subject) to topic '\(topic)' within \(formatSeconds(timeout)): broker "
                    + "unreachable or timed out (\(error.cliDescription))"
            default:
                return "could not deliver \(subject) to topic '\(topic)': \(error.cliDescription)"
            }
        }
    }
}

extension ProducerMessage {
    /// Key, value and header bytes: roughly what `message.max.bytes` limits.
    var byteCount: Int {
        (key?.count ?? 0) + (value?.count ?? 0)
            + headers.reduce(0) { $0 + $1.name.utf8.count + ($1.value?.count ?? 0) }
    }
}
