import ArgumentParser
import DabbaKafka
import Foundation

/// `dabba group describe GROUP`.
struct GroupDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "describe",
        abstract: "Show a consumer group's state, members and their partitions, and its lag per partition."
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The consumer group id.")
    var group: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() async throws {
        let admin = try KafkaAdmin(configuration: try connection.clientConfiguration(), logger: connection.logger(label: "dabba.group"))
        let description: ConsumerGroupDescription
        let lags: [PartitionLag]
        do {
            description = try await admin.describeConsumerGroup(group)
            lags = try await admin.groupLag(group: group)
        } catch let error as KafkaError {
            throw CLIError("could not describe group '\(group)': \(error.cliDescription)")
        }
        if json {
            Output.json([
                "group": group, "state": description.state, "assignor": description.assignor,
                "members": description.members.map { member in
                    [
                        "memberId": member.memberID, "clientId": member.clientID, "host": member.host,
                        "instanceId": jsonString(member.instanceID),
                        "partitions": member.assignment.map(\.description),
                    ] as [String: Any]
                },
                "lag": lags.map { lag in
                    [
                        "topic": lag.topic, "partition": Int(lag.partition), "committed": lag.committed.map { $0 as Any } ?? NSNull(),
                        "end": lag.highWatermark, "lag": lag.lag,
                    ] as [String: Any]
                },
            ])
            return
        }
        Output.line("group \(group): \(description.state), \(description.members.count) member(s)"
            + (description.assignor.isEmpty ? "" : ", assignor \(description.assignor)"))
        for member in description.members {
            Output.line("  member \(member)")
            Output.line("    \(member.assignment.map(\.description).joined(separator: " "))")
        }
        Output.line(["TOPIC", "PARTITION", "COMMITTED", "END", "LAG"].joined(separator: "\t"))
        for lag in lags {
            Output.line(
                [lag.topic, String(lag.partition), lag.committed.map(String.init) ?? "-", String(lag.highWatermark), String(lag.lag)]
                    .joined(separator: "\t"))
        }
    }
}

/// `dabba group reset-offsets GROUP --topic T (--to-earliest | --to-latest | --to-datetime T | --to-offset N |
/// --shift-by N) [--execute]`.
struct GroupResetOffsetsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reset-offsets",
        abstract: "Move a stopped consumer group's committed offsets; a dry run unless --execute.",
        discussion: """
            Prints, per partition, the committed offset now, the new one and the lag after. Targets are clamped to \
            the log (between the low and high watermarks). Refused while the group has active members (they are \
            named): stop every instance first, or they would overwrite the new offsets with their own commits.
            """
    )

    @OptionGroup var connection: ConnectionOptions

    @Argument(help: "The consumer group id.")
    var group: String

    @Option(name: .customLong("topic"), help: "A topic to reset (every partition); repeat for more.")
    var topics: [String] = []

    @Flag(name: .customLong("to-earliest"), help: "To the oldest offset still in the log.")
    var toEarliest = false

    @Flag(name: .customLong("to-latest"), help: "To the end of the log (skip everything unread).")
    var toLatest = false

    @Option(name: .customLong("to-datetime"), help: ArgumentHelp("To the first record at or after this RFC 3339 time.", valueName: "time"))
    var toDatetime: String?

    @Option(name: .customLong("to-offset"), help: ArgumentHelp("To this offset on every partition.", valueName: "offset"))
    var toOffset: String?

    @Option(name: .customLong("shift-by"), parsing: .unconditional, help: ArgumentHelp("Move by this many records (negative: back).", valueName: "n"))
    var shiftBy: String?

    @Flag(help: "Apply the reset (without it, only the plan is printed).")
    var execute = false

    func target() throws -> OffsetResetTarget {
        var chosen: [(String, String?)] = []
        if toEarliest { chosen.append(("earliest", nil)) }
        if toLatest { chosen.append(("latest", nil)) }
        if let toDatetime { chosen.append(("timestamp", toDatetime)) }
        if let toOffset { chosen.append(("offset", toOffset)) }
        if let shiftBy { chosen.append(("shift", shiftBy)) }
        guard chosen.count == 1, let (kind, value) = chosen.first else {
            throw ValidationError("give exactly one of --to-earliest, --to-latest, --to-datetime, --to-offset, --shift-by")
        }
        do {
            return try OffsetResetTarget(kind: kind, value: value)
        } catch let error as KafkaError {
            throw ValidationError(error.message)
        }
    }

    func validate() throws {
        guard !topics.isEmpty else { throw ValidationError("name at least one --topic to reset") }
        for topic in topics {
            if let problem = TopicName.problem(with: topic) { throw ValidationError("--topic \(topic): \(problem)") }
        }
        _ = try target()
    }

    func run() async throws {
        let target = try target()
        let logger = connection.logger(label: "dabba.group")
        let admin = try KafkaAdmin(configuration: try connection.clientConfiguration(), logger: logger)
        do {
            let description = try await admin.describeConsumerGroup(group)
            let plan = try await admin.planOffsetReset(group: group, topics: topics, to: target)
            Output.line(["TOPIC", "PARTITION", "COMMITTED", "NEW", "LAG AFTER"].joined(separator: "\t"))
            for step in plan {
                Output.line(
                    [step.topic, String(step.partition), step.current.map(String.init) ?? "-", String(step.target), String(step.lagAfter)]
                        .joined(separator: "\t"))
            }
            guard execute else {
                Output.note(
                    "dry run: group \(group) would move to \(target) on \(plan.count) partition(s)"
                        + (description.isEmpty ? "" : " (refused now: it has \(description.members.count) active member(s))")
                        + "; add --execute to apply")
                return
            }
            try await admin.alterConsumerGroupOffsets(
                group: group, to: plan.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: $0.target) })
            logger.notice("group \(group) reset to \(target) on \(plan.count) partition(s) of \(topics)")
            Output.note("group \(group) moved to \(target) on \(plan.count) partition(s)")
        } catch let error as KafkaError {
            throw CLIError("could not reset the offsets of group '\(group)': \(error.cliDescription)")
        }
    }
}
