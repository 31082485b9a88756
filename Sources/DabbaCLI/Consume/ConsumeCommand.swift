import ArgumentParser
import DabbaKafka
import Foundation
import Logging
import Synchronization

/// `dabba consume`: prints a topic's messages as JSON lines.
struct ConsumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consume",
        abstract: "Print a topic's messages as JSON lines.",
        discussion: """
            Prints one JSON object per line with the fields topic, partition, offset, key, value, headers (name to \
            value) and timestamp (milliseconds since the epoch); keys, values and header values are UTF-8 text, or \
            null when absent.

            Joins consumer group --group (default: a throwaway group dabba-cli-<uuid>) and marks each printed \
            message processed, so with a named group a later run continues after it. Stops after --max messages, \
            after --idle-timeout seconds without a message, or on SIGINT/SIGTERM, then leaves the group; all of \
            these exit 0. The topic must exist.

            With --decode, each record is read as a CloudEvent (binary or structured mode) and printed as \
            topic, partition, offset, key, type, id, source, time, schemaVersion and data (the payload, as JSON \
            when it is JSON). A record that is not a CloudEvent, or whose JSON payload does not parse, prints the \
            plain line with an "error" field. With --catalog DIR, each payload is also checked against its event \
            type's schema: "valid" (true or false) and "violations" (each starting with the field's JSON Pointer).
            """
    )

    /// Where a group without committed offsets starts.
    enum StartPosition: String, ExpressibleByArgument, CaseIterable {
        case beginning, end
    }

    @OptionGroup var connection: ConnectionOptions

    @Option(name: [.customShort("t"), .long], help: "The topic to read.")
    var topic: String

    @Option(name: [.customShort("g"), .long], help: "The consumer group (default: a throwaway dabba-cli-<uuid>).")
    var group: String?

    @Option(help: "Where to start when the group has no committed offset.")
    var from: StartPosition = .beginning

    @Option(help: "Stop after this many messages.")
    var max: Int?

    @Option(
        help: ArgumentHelp(
            "Stop after this many seconds without a message (0: never), counted once the group assigned partitions.",
            valueName: "seconds"
        )
    )
    var idleTimeout: Double = 10

    @Option(help: ArgumentHelp("Seconds to wait for the brokers to answer.", valueName: "seconds"))
    var timeout: Double = 10

    @Flag(help: "Print each record as a CloudEvent: type, id, source, time, schemaVersion and data.")
    var decode = false

    @Option(
        help: ArgumentHelp(
            "With --decode: check each payload against the schema of its event type in this catalog directory.",
            valueName: "dir"
        )
    )
    var catalog: String?

    func validate() throws {
        if let problem = TopicName.problem(with: topic) { throw ValidationError("--topic: \(problem)") }
        if let max, max < 1 { throw ValidationError("--max must be 1 or more, not \(max)") }
        guard idleTimeout.isFinite, idleTimeout >= 0 else {
            throw ValidationError("--idle-timeout must be 0 (never) or a positive number of seconds")
        }
        guard timeout.isFinite, timeout > 0 else {
            throw ValidationError("--timeout must be a positive number of seconds")
        }
        if let group, group.isEmpty { throw ValidationError("--group must not be empty") }
        if let catalog {
            guard decode else { throw ValidationError("--catalog checks decoded events; add --decode") }
            guard !catalog.isEmpty else { throw ValidationError("--catalog needs a directory") }
        }
    }

    func run() async throws {
        let signals = SignalWatcher()
        // Before connecting: a broken catalog is reported without waiting for Kafka.
        let format: @Sendable (KafkaMessage) -> [String: Any]
        if decode {
            let lines = EventLine(catalog: try catalog.map { try CatalogDirectory(explicit: $0).load() })
            format = { lines.json($0) }
        } else {
            format = { messageJSON($0) }
        }
        let logger = connection.logger(label: "dabba.consume")
        let client = try connection.clientConfiguration()
        var configuration = ConsumerConfiguration(
            client: client,
            groupID: group ?? "dabba-cli-\(UUID().uuidString.lowercased())"
        )
        configuration.offsetReset = from == .beginning ? .earliest : .latest
        configuration.commitInterval = .seconds(1)
        configuration.sessionTimeout = .seconds(10)
        let consumer: KafkaConsumer
        do {
            consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        } catch let error as KafkaError {
            throw CLIError(error.cliDescription)
        }
        _ = try await TopicCheck.partitionCount(of: topic, client: client, timeout: timeout, logger: logger)
        do {
            try consumer.subscribe(topics: [topic])
        } catch let error as KafkaError {
            throw CLIError("could not subscribe to topic '\(topic)': \(error.cliDescription)")
        }

        let activity = Activity()
        let outcome = await withTaskGroup(of: Outcome.self) { tasks in
            tasks.addTask { await Self.printMessages(consumer, max: max, activity: activity, format: format) }
            tasks.addTask {
                for await event in consumer.events {
                    if case .assigned = event { activity.assigned() }
                    if case .error(let error) = event, error.isFatal { return .failed(error) }
                }
                return .finished
            }
            tasks.addTask {
                await activity.waitUntilIdle(
                    for: idleTimeout > 0 ? .cliSeconds(idleTimeout) : nil,
                    joinLimit: Self.joinLimit
                )
            }
            tasks.addTask { await signals.wait().map(Outcome.signal) ?? .finished }
            let first = await tasks.next() ?? .finished
            tasks.cancelAll()
            // Closing ends the message and event sequences, so the other tasks return.
            try? await consumer.close()
            return first
        }
        let count = activity.count
        switch outcome {
        case .reachedMax:
            break
        case .idle:
            var note = "dabba consume: no message for \(formatSeconds(idleTimeout)); stopping after \(count)"
            if let max { note += " of --max \(max)" }
            Output.note(note + " message\(count == 1 ? "" : "s")")
        case .signal(let signal):
            Output.note("dabba consume: \(SignalWatcher.name(of: signal)) received; stopped after \(count) messages")
        case .failed(let error):
            throw CLIError("consuming topic '\(topic)' failed: \(error.cliDescription)")
        case .joinTimedOut:
            throw CLIError(
                "consumer group '\(configuration.groupID)' was not assigned partitions of topic '\(topic)' within "
                    + "\(Self.joinLimit)"
            )
        case .finished:
            break
        }
    }

    fileprivate enum Outcome: Sendable {
        case reachedMax, idle, signal(Int32), failed(KafkaError), joinTimedOut, finished
    }

    /// How long joining the group may take before the idle clock starts (librdkafka's mock cluster alone takes 3 s).
    static let joinLimit = Duration.seconds(60)

    private static func printMessages(
        _ consumer: KafkaConsumer,
        max: Int?,
        activity: Activity,
        format: @Sendable (KafkaMessage) -> [String: Any]
    ) async -> Outcome {
        do {
            for try await message in consumer.messages {
                Output.json(format(message))
                consumer.markProcessed(message)
                if activity.messageArrived() == max { return .reachedMax }
            }
            return .finished
        } catch let error as KafkaError {
            return .failed(error)
        } catch {
            return .failed(KafkaError(.other, "\(error)"))
        }
    }
}

/// The JSON line printed for a consumed message.
func messageJSON(_ message: KafkaMessage) -> [String: Any] {
    var headers: [String: Any] = [:]
    for header in message.headers { headers[header.name] = jsonString(header.stringValue) }
    return [
        "topic": message.topic,
        "partition": Int(message.partition),
        "offset": Int(message.offset),
        "key": jsonString(message.keyString),
        "value": jsonString(message.valueString),
        "headers": headers,
        "timestamp": message.timestampMilliseconds.map { Int($0) as Any } ?? NSNull(),
    ]
}

/// When the last message (or partition assignment) happened, for the idle timeout, and how many messages came.
final class Activity: Sendable {
    private struct State {
        let started = ContinuousClock.now
        var last: ContinuousClock.Instant?
        var count = 0
    }

    private let state = Mutex(State())

    /// Starts (or restarts) the idle clock: time spent joining the group does not count as idle.
    func assigned() {
        state.withLock { $0.last = .now }
    }

    /// Counts a message and restarts the idle clock.
    /// - Returns: The number of messages so far.
    func messageArrived() -> Int {
        state.withLock { state in
            state.last = .now
            state.count += 1
            return state.count
        }
    }

    var count: Int { state.withLock { $0.count } }

    /// Returns `.idle` once `limit` passes without activity after the first assignment, `.joinTimedOut` if no
    /// assignment came within `joinLimit`, or `.finished` when cancelled. A nil `limit` never goes idle.
    fileprivate func waitUntilIdle(for limit: Duration?, joinLimit: Duration) async -> ConsumeCommand.Outcome {
        while !Task.isCancelled {
            let (started, last) = state.withLock { ($0.started, $0.last) }
            let deadline: ContinuousClock.Instant
            if let last {
                guard let limit else { return await Self.sleepUntilCancelled() }
                deadline = last + limit
                if ContinuousClock.now >= deadline { return .idle }
            } else {
                deadline = started + joinLimit
                if ContinuousClock.now >= deadline { return .joinTimedOut }
            }
            try? await Task.sleep(until: min(deadline, .now + .milliseconds(200)), clock: .continuous)
        }
        return .finished
    }

    private static func sleepUntilCancelled() async -> ConsumeCommand.Outcome {
        while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
        return .finished
    }
}
