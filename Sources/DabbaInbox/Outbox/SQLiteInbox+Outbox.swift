/// The outbox of the embedded inbox: a table in the same SQLite file, so emitted events commit with the handler's
/// writes. One process owns the file (a service locks it), so its relay always may publish.
extension SQLiteInbox: OutboxStore {
    public func prepareOutbox() async throws {
        try await withConnection { database in
            // AUTOINCREMENT: a sequence number is never reused, even after the newest rows were deleted.
            try database.execute(
                """
                CREATE TABLE IF NOT EXISTS dabba_outbox (
                    sequence INTEGER PRIMARY KEY AUTOINCREMENT,
                    group_id TEXT NOT NULL,
                    topic TEXT NOT NULL,
                    record_partition INTEGER,
                    record_key BLOB,
                    record_value BLOB,
                    headers BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                )
                """
            )
            try database.execute(OutboxSQL.createPositions)
        }
    }

    public func appendToOutbox(_ records: [OutboxRecord], group: String, in transaction: any InboxTransaction) throws {
        try OutboxSQL.append(records, group: group, in: transaction)
    }

    public func oldestOutboxRecords(group: String, limit: Int) async throws -> [OutboxRecord] {
        let rows = try await withConnection { database in
            try database.query(
                "SELECT \(OutboxSQL.recordColumns) FROM dabba_outbox WHERE group_id = ? ORDER BY sequence LIMIT ?",
                [.text(group), .integer(Int64(limit))]
            )
        }
        return try rows.map(OutboxSQL.record)
    }

    public func deleteOutboxRecords(
        group: String, sequences: [Int64], advancing positions: [OutboxPosition]
    ) async throws {
        guard !sequences.isEmpty || !positions.isEmpty else { return }
        try await withConnection { database in
            try OutboxSQL.inTransaction(database, begin: "BEGIN IMMEDIATE") {
                // One cached statement per row (an IN list would prepare a statement per length).
                for sequence in sequences {
                    try database.execute(
                        "DELETE FROM dabba_outbox WHERE group_id = ? AND sequence = ?",
                        [.text(group), .integer(sequence)]
                    )
                }
                try OutboxSQL.advancePositions(positions, group: group, in: database)
            }
        }
    }

    public func recordOutboxPositions(group: String, _ positions: [OutboxPosition]) async throws {
        guard !positions.isEmpty else { return }
        try await withConnection { try OutboxSQL.insertPositions(positions, group: group, in: $0) }
    }

    public func outboxPositions(group: String) async throws -> [OutboxPosition] {
        try await withConnection { try OutboxSQL.positions(group: group, in: $0) }
    }

    public func outboxStatus(group: String) async throws -> OutboxStatus {
        try await withConnection { database in
            let count = try database.query("SELECT COUNT(*) FROM dabba_outbox WHERE group_id = ?", [.text(group)])
            let oldest = try database.query(
                "SELECT created_at FROM dabba_outbox WHERE group_id = ? ORDER BY sequence LIMIT 1", [.text(group)]
            )
            return OutboxStatus(
                depth: Int(count.first?.first?.integerValue ?? 0),
                oldestCreatedAtMilliseconds: oldest.first?.first?.integerValue
            )
        }
    }

    public func acquireOutboxRelay(group: String) async throws -> Bool { true }
}
