import ArgumentParser
import DabbaKafka
import DabbaPipeline
import Foundation

/// `dabba group`: pause, resume and show consumer groups through the control topic.
struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Pause and resume every instance of a consumer group (load shedding), show their state, describe groups and reset their offsets.",
        discussion: """
            A pause is a record on the compacted control topic (--control-topic, default \
            $\(ControlTopic.environmentVariable) or \(ControlTopic.defaultName)), keyed by the group id. Every \
            instance of a Dabba \
            pipeline follows that topic: while its group is paused it fetches nothing and handles nothing, but keeps \
            its partitions and stays in the group; instances started or restarted meanwhile start paused. The \
            topic is created by the first pause or resume.

            describe and reset-offsets talk to the group's coordinator (DescribeGroups, OffsetCommit), not to the \
            control topic.
            """,
        subcommands: [
            GroupPauseCommand.self, GroupResumeCommand.self, GroupStatusCommand.self, GroupDescribeCommand.self,
            GroupResetOffsetsCommand.self,
        ]
    )
}

/// The options every `dabba group` command takes.
struct ControlTopicOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions

    @Option(
        name: .customLong("control-topic"),
        help: ArgumentHelp(
            "The control topic (default: $\(ControlTopic.environmentVariable) or \(ControlTopic.defaultName)).",
            valueName: "topic"
        )
    )
    var controlTopic: String?

    func topic() throws -> ControlTopic {
        ControlTopic(
            name: ControlTopic.resolvedName(option: controlTopic), client: try connection.clientConfiguration(),
            logger: connection.logger(label: "dabba.group")
        )
    }
}

/// `dabba group pause GROUP [--reason TEXT]`.
struct GroupPauseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pause",
        abstract: "Stop every instance of a group fetching and handling, without leaving the group."
    )

    @OptionGroup var change: GroupStateChange

    func run() async throws { try await change.publish(paused: true) }
}

/// `dabba group resume GROUP [--reason TEXT]`.
struct GroupResumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resume", abstract: "Resume every instance of a paused group."
    )

    @OptionGroup var change: GroupStateChange

    func run() async throws { try await change.publish(paused: false) }
}

/// What `pause` and `resume` take: the group, a reason, the control topic.
struct GroupStateChange: ParsableArguments {
    @OptionGroup var options: ControlTopicOptions

    @Argument(help: "The consumer group id.")
    var group: String

    @Option(help: "Why, shown by `dabba group status`, the services' /flow and their logs.")
    var reason: String?

    /// Publishes the group's new state, reporting failures as CLI errors naming the topic.
    func publish(paused: Bool) async throws {
        guard !group.isEmpty else { throw CLIError("the group id must not be empty") }
        let topic = try options.topic()
        let state = OperatorPauseState(paused: paused, reason: reason, by: OperatorPauseState.currentUser)
        do {
            try await topic.publish(state, group: group)
        } catch let error as KafkaError {
            throw CLIError("could not write to the control topic \(topic.name): \(error.cliDescription)")
        }
        Output.line("\(paused ? "paused" : "resumed") group \(group): \(state.summary)")
    }
}

/// `dabba group status [GROUP]`.
struct GroupStatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show whether groups are paused: group, state, since, by and reason, one line each.",
        discussion: "Without a group, every group the control topic names. --json prints one JSON object per group."
    )

    @OptionGroup var options: ControlTopicOptions

    @Argument(help: "The consumer group id (default: every group on the control topic).")
    var group: String?

    @Flag(help: "Print JSON lines instead of a table.")
    var json = false

    func run() async throws {
        let topic = try options.topic()
        var states = try await topic.states()
        if let group { states = [group: states[group] ?? OperatorPauseState.never] }
        if json {
            for (name, state) in states.sorted(by: { $0.key < $1.key }) {
                Output.json([
                    "group": name, "paused": state.paused, "reason": state.reason.map { $0 as Any } ?? NSNull(),
                    "by": state.by.map { $0 as Any } ?? NSNull(),
                    "since": state.at.isEmpty ? NSNull() as Any : state.at as Any,
                ])
            }
            return
        }
        guard !states.isEmpty else {
            Output.line("no group has been paused or resumed (control topic \(topic.name))")
            return
        }
        Output.line(["GROUP", "STATE", "SINCE", "BY", "REASON"].joined(separator: "\t"))
        for (name, state) in states.sorted(by: { $0.key < $1.key }) {
            let row = [name, state.paused ? "paused" : "running", state.at.isEmpty ? "-" : state.at, state.by ?? "-",
                       state.reason ?? "-"]
            Output.line(row.joined(separator: "\t"))
        }
    }
}

extension OperatorPauseState {
    /// A group that was never paused: running, since nobody knows when.
    static var never: OperatorPauseState {
        var state = OperatorPauseState(paused: false)
        state.at = ""
        return state
    }
}
