import DabbaInbox

/// The runner's side of its pipeline's tables: which it keeps, for which group, and their metrics
/// (`dabba_table_updates_total{table}`: changes applied; `dabba_table_writes_total{table}`: rows written after
/// conflation).
final class PipelineTables: Sendable {
    let group: String
    /// The declared table names.
    let names: Set<String>
    private let updates: [String: PipelineCounter]
    private let writes: [String: PipelineCounter]

    /// The pipeline's tables, or nil when it keeps none.
    /// - Throws: ``PipelineError`` `configuration` without an inbox, or for a table declared with two value types.
    static func make(for pipeline: Pipeline, hasInbox: Bool, metrics: PipelineMetrics) throws -> PipelineTables? {
        let declared = pipeline.tables
        guard !declared.names.isEmpty else { return nil }
        guard hasInbox else {
            throw PipelineError(
                .configuration,
                "the pipeline keeps tables (\(declared.names.joined(separator: ", "))) and tables live in the inbox "
                    + "database: configure an inbox (--inbox sqlite:PATH or postgres://…; PipelineRunner(inbox:))"
            )
        }
        for (name, types) in declared.valueTypes.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty else {
                throw PipelineError(.configuration, "a table has an empty name: name every Table")
            }
            guard types.count == 1 else {
                throw PipelineError(
                    .configuration,
                    "table '\(name)' is declared with \(types.count) value types "
                        + "(\(types.sorted().joined(separator: ", "))): one table has one value type"
                )
            }
        }
        return PipelineTables(group: pipeline.groupID, names: Set(declared.names), metrics: metrics)
    }

    private init(group: String, names: Set<String>, metrics: PipelineMetrics) {
        self.group = group
        self.names = names
        // Table changes applied (committed events' updates and deletions), and rows written or deleted after
        // conflating changes per key.
        updates = metrics.counters("dabba_table_updates_total", label: "table", values: names)
        writes = metrics.counters("dabba_table_writes_total", label: "table", values: names)
    }

    /// Creates the rows' table in the inbox database if it is missing.
    func prepare(_ inbox: any InboxStore) async throws {
        try await inbox.migrate([TableSQL.create])
    }

    /// Changes applied to a table so far (committed).
    func updateCount(_ table: String) -> Int { updates[table]?.value ?? 0 }

    /// Rows of a table written so far (committed), after conflation.
    func writeCount(_ table: String) -> Int { writes[table]?.value ?? 0 }

    func record(updates: [String: Int], writes: [String: Int]) {
        for (table, count) in updates { self.updates[table]?.increment(by: count) }
        for (table, count) in writes { self.writes[table]?.increment(by: count) }
    }
}

extension PipelineRunner {
    /// Changes applied to one of the pipeline's tables by committed events (0 for a table it does not keep).
    /// - Parameter table: The table's name.
    /// - Returns: The count since the runner started.
    public func tableUpdates(_ table: String) -> Int { tables?.updateCount(table) ?? 0 }

    /// Rows of one of the pipeline's tables written by committed batches, after conflation: one per key per batch.
    /// - Parameter table: The table's name.
    /// - Returns: The count since the runner started.
    public func tableWrites(_ table: String) -> Int { tables?.writeCount(table) ?? 0 }
}
