import ArgumentParser
import DabbaCatalog

/// What `topics plan` and `topics apply` share: the cluster, the catalog, the request timeout, and computing the plan.
struct TopicsPlanningOptions: ParsableArguments {
    @OptionGroup var connection: ConnectionOptions
    @OptionGroup var catalogOptions: TopicsCommand.CatalogOptions

    @Option(help: ArgumentHelp("Seconds to wait for each request to the cluster.", valueName: "seconds"))
    var timeout: Double = 30

    func validate() throws {
        guard timeout.isFinite, timeout > 0 else {
            throw ValidationError("--timeout must be a positive number of seconds")
        }
    }

    /// Loads the catalog, reads the cluster and compares them.
    /// - Parameter prune: Whether to plan deletions of derived topics the catalog no longer produces.
    /// - Returns: The catalog, the cluster client (for applying) and the plan.
    func plan(prune: Bool) async throws -> (catalog: Catalog, cluster: TopicsCluster, plan: TopicPlan) {
        let catalog = try catalogOptions.load()
        let cluster = try TopicsCluster(connection: connection, timeout: timeout)
        let plan = TopicPlan.make(catalog: catalog, cluster: try await cluster.snapshot(of: catalog), prune: prune)
        return (catalog, cluster, plan)
    }
}
