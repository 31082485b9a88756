import ArgumentParser
import DabbaCatalog

/// `dabba topics plan`: what `apply` would change on the cluster.
struct TopicsPlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what apply would change to make the cluster match the catalog.",
        discussion: """
            Compares the catalog's topics (derived retry and dead-letter topics included) with the cluster and \
            prints, Terraform-style: "+ create" (with partitions, replicas and configs), "~ update" (partitions to \
            add; config keys the catalog declares whose value differs, old -> new), "- delete" (only with \
            --prune), "! refused" (a partition count below the cluster's: Kafka cannot remove partitions), then \
            "Plan: N to create, N to update, N to delete, N refused." or "No changes.". A different replication \
            factor is a warning on standard error: plan and apply do not change it.

            --prune deletes topics named like a retry or dead-letter topic of a declared topic \
            (TOPIC.GROUP.retry.N, TOPIC.GROUP.dlq) that the catalog no longer derives. No other topic, and no \
            internal __ topic, is ever deleted.

            Exit codes: 0 success, 1 error (a refused change is an error). With --detailed-exitcode: 0 no changes, \
            2 changes pending, 1 error.
            """
    )

    @OptionGroup var planning: TopicsPlanningOptions

    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 0 without changes, 2 with changes pending, 1 on error.")
    var detailedExitCode = false

    @Flag(help: "Also plan to delete retry and dead-letter topics the catalog no longer derives.")
    var prune = false

    func run() async throws {
        let (catalog, _, plan) = try await planning.plan(prune: prune)
        Self.print(plan, topicCount: catalog.allTopics.count)
        if !plan.refusals.isEmpty {
            throw CLIError(Self.refusalMessage(plan))
        }
        if detailedExitCode, plan.hasChanges { throw ExitCode(2) }
    }

    /// Prints the plan on standard output (`No changes.` when there are none and nothing is refused) and its
    /// warnings on standard error.
    static func print(_ plan: TopicPlan, topicCount: Int) {
        for warning in plan.warningLines { Output.note(warning) }
        if !plan.hasChanges, plan.refusals.isEmpty {
            let topics = "\(topicCount) topic\(topicCount == 1 ? "" : "s")"
            Output.line("No changes. The cluster matches the catalog's \(topics).")
            return
        }
        for line in plan.lines { Output.line(line) }
    }

    /// The error for a plan with refused changes.
    static func refusalMessage(_ plan: TopicPlan) -> String {
        let count = plan.refusals.count
        return "\(count) change\(count == 1 ? " is" : "s are") refused (marked !): fix the catalog; apply changes "
            + "nothing while any change is refused"
    }
}
