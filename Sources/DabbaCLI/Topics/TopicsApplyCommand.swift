import ArgumentParser
import DabbaCatalog
import DabbaKafka

/// `dabba topics apply`: makes the cluster match the catalog.
struct TopicsApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Create, grow and configure the cluster's topics to match the catalog.",
        discussion: """
            Computes the same plan as `dabba topics plan` and carries it out: creates the missing topics, adds \
            partitions, sets the config keys the catalog declares (other overrides of the topic are kept), and \
            with --prune and --yes deletes the retry and dead-letter topics the catalog no longer derives. Prints \
            one line per change made, then "Apply complete: ...". When the cluster already matches it prints \
            "No changes." and exits 0.

            A refused change (a partition count below the cluster's) fails the whole apply before anything is \
            changed (exit 1), and so does --prune with deletions but without --yes: deleting a topic deletes its \
            messages. A replication factor that differs is left as it is, with a warning.
            """
    )

    @OptionGroup var planning: TopicsPlanningOptions

    @Flag(help: "Also delete retry and dead-letter topics the catalog no longer derives (needs --yes).")
    var prune = false

    @Flag(help: "Confirm the deletions of --prune.")
    var yes = false

    func run() async throws {
        let (catalog, cluster, plan) = try await planning.plan(prune: prune)
        if !plan.refusals.isEmpty {
            TopicsPlanCommand.print(plan, topicCount: catalog.allTopics.count)
            throw CLIError(TopicsPlanCommand.refusalMessage(plan) + "; nothing was changed")
        }
        if !plan.deletions.isEmpty, !yes {
            TopicsPlanCommand.print(plan, topicCount: catalog.allTopics.count)
            let count = plan.deletions.count
            throw CLIError(
                "--prune would delete \(count) topic\(count == 1 ? "" : "s") and all \(count == 1 ? "its" : "their") "
                    + "messages; add --yes to confirm (nothing was changed)"
            )
        }
        guard plan.hasChanges else {
            TopicsPlanCommand.print(plan, topicCount: catalog.allTopics.count)
            return
        }
        for warning in plan.warningLines { Output.note(warning) }
        try await execute(plan, on: cluster)
        Output.line(
            "Apply complete: \(plan.creations.count) created, \(plan.updates.count) updated, "
                + "\(plan.deletions.count) deleted."
        )
    }

    /// Creates, grows, reconfigures, then deletes, printing each change once it is made. On a failure the changes
    /// made so far stay; the error says so.
    private func execute(_ plan: TopicPlan, on cluster: TopicsCluster) async throws {
        var done = 0
        func failure(_ error: CLIError) -> CLIError {
            guard done > 0 else { return error }
            return CLIError(
                "\(error.message) (\(done) change\(done == 1 ? " was" : "s were") made before the failure; run "
                    + "`dabba topics plan` to see what remains)"
            )
        }
        do {
            let newTopics = plan.creations.map { creation in
                NewTopic(
                    name: creation.topic.name,
                    partitions: Int32(clamping: creation.topic.partitions),
                    replicationFactor: Int32(clamping: creation.topic.replicas),
                    configs: creation.topic.configs
                )
            }
            try await cluster.run { try await cluster.admin.createTopics(newTopics, timeout: cluster.timeout) }
            for creation in plan.creations {
                let topic = creation.topic
                Output.line(
                    "+ created \(topic.name): "
                        + TopicPlan.describeSize(partitions: topic.partitions, replicas: topic.replicas)
                )
            }
            done += plan.creations.count
            for update in plan.updates {
                if let growth = update.partitions {
                    try await cluster.run {
                        try await cluster.admin.createPartitions(
                            topic: update.name, totalCount: Int32(clamping: growth.to), timeout: cluster.timeout
                        )
                    }
                    Output.line("~ grew \(update.name): partitions \(growth.from) -> \(growth.to)")
                    done += 1
                }
                if !update.configChanges.isEmpty {
                    let set = Dictionary(
                        update.configChanges.map { ($0.key, $0.new) }, uniquingKeysWith: { _, last in last }
                    )
                    try await cluster.run {
                        try await cluster.admin.alterTopicConfigs(update.name, set: set, timeout: cluster.timeout)
                    }
                    let changes = update.configChanges.map {
                        "\($0.key) \(TopicPlan.describeValue($0.old)) -> \($0.new)"
                    }
                    Output.line("~ updated \(update.name): \(changes.joined(separator: ", "))")
                    done += 1
                }
            }
            if !plan.deletions.isEmpty {
                let names = plan.deletions.map(\.name)
                try await cluster.run { try await cluster.admin.deleteTopics(names, timeout: cluster.timeout) }
                for name in names { Output.line("- deleted \(name)") }
            }
        } catch let error as CLIError {
            throw failure(error)
        }
    }
}
