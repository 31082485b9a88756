import DabbaInbox

/// The outbox of the shared inbox: a table in the same PostgreSQL database, so emitted events commit with the
/// handler's writes and the inbox mark.
///
/// Every instance of a group writes to the one table; only one relay per group publishes at a time. The right to
/// publish is a session-level advisory lock (keyed by the group) held by the store's connection: another instance
/// stands by, asking for it on every poll, and gets it as soon as the holder's session ends (its process died or
/// its connection broke), so there is never a second publisher of the same rows and their order is kept.
extension PostgresInbox: OutboxStore {
    public func prepareOutbox() async throws {
        do {
            try await withDatabase { database in
                let exists = try database.query("SELECT to_regclass('dabba_outbox') IS NOT NULL")
                if exists.first?.first == .text("t") { return }
                // Serialized like the inbox table's creation: concurrent CREATE TABLE IF NOT EXISTS can collide.
                try database.execute(
                    """
                    BEGIN;
                    SELECT pg_advisory_xact_lock(\(Self.outboxSchemaLockKey));
                    CREATE TABLE IF NOT EXISTS dabba_outbox (
                        sequence bigserial PRIMARY KEY,
                        group_id text NOT NULL,
                        topic text NOT NULL,
                        record_partition integer,
                        record_key bytea,
                        record_value bytea,
                        headers bytea NOT NULL,
                        created_at bigint NOT NULL
                    );
                    CREATE INDEX IF NOT EXISTS dabba_outbox_group_sequence ON dabba_outbox (group_id, sequence);
                    \(OutboxSQL.createPositions);
                    COMMIT;
                    """
                )
            }
        } catch let error as InboxError {
            _ = try? await withDatabase { database in try database.execute("ROLLBACK") }
            throw InboxError(.open, "could not create the outbox table: \(error.message)")
        }
    }

    public func appendToOutbox(_ records: [OutboxRecord], group: String, in transaction: any InboxTransaction) throws {
        try OutboxSQL.append(records, group: group, in: transaction)
    }

    public func oldestOutboxRecords(group: String, limit: Int) async throws -> [OutboxRecord] {
        let rows = try await withDatabase { database in
            try database.query(
                "SELECT \(OutboxSQL.recordColumns) FROM dabba_outbox WHERE group_id = $1 ORDER BY sequence LIMIT $2",
                [.text(group), .integer(Int64(limit))]
            )
        }
        return try rows.map(OutboxSQL.record)
    }

    public func deleteOutboxRecords(
        group: String, sequences: [Int64], advancing positions: [OutboxPosition]
    ) async throws {
        guard !sequences.isEmpty || !positions.isEmpty else { return }
        let list = "{" + sequences.map(String.init).joined(separator: ",") + "}"
        try await withDatabase { database in
            try OutboxSQL.inTransaction(database, begin: "BEGIN") {
                try database.execute(
                    "DELETE FROM dabba_outbox WHERE group_id = $1 AND sequence = ANY($2::bigint[])",
                    [.text(group), .text(list)]
                )
                try OutboxSQL.advancePositions(positions, group: group, in: database)
            }
        }
    }

    public func recordOutboxPositions(group: String, _ positions: [OutboxPosition]) async throws {
        guard !positions.isEmpty else { return }
        try await withDatabase { try OutboxSQL.insertPositions(positions, group: group, in: $0) }
    }

    public func outboxPositions(group: String) async throws -> [OutboxPosition] {
        try await withDatabase { try OutboxSQL.positions(group: group, in: $0) }
    }

    public func outboxStatus(group: String) async throws -> OutboxStatus {
        try await withDatabase { database in
            let row = try database.query(
                "SELECT COUNT(*), MIN(created_at) FROM dabba_outbox WHERE group_id = $1", [.text(group)]
            ).first
            return OutboxStatus(
                depth: Int(row?.first?.integerValue ?? 0),
                oldestCreatedAtMilliseconds: row.flatMap { $0.count > 1 ? $0[1].integerValue : nil }
            )
        }
    }

    public func acquireOutboxRelay(group: String) async throws -> Bool {
        let key = Self.relayLockKey(group: group)
        return try await withDatabase { database in
            // Asked on every poll: a lock this session already holds is not taken again (advisory locks count
            // re-entries), so one unlock would release it, and a session that lost it (reconnected) takes it anew.
            let answer = try database.query(
                """
                SELECT CASE WHEN EXISTS (
                    SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted
                    AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1::bigint
                ) THEN true ELSE pg_try_advisory_lock($1::bigint) END
                """,
                [.integer(key)]
            )
            return answer.first?.first == .text("t")
        }
    }

    /// The outbox table's creation lock ("dabbo" in ASCII), apart from the inbox table's.
    private static let outboxSchemaLockKey: Int64 = 0x64_61_62_62_6f

    /// The advisory lock a group's relay holds: FNV-1a (64 bits) of `dabba-outbox/<group>`, the same in every
    /// instance.
    static func relayLockKey(group: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in "dabba-outbox/\(group)".utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }
}
