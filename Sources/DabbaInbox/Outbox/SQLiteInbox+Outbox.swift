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
            try database.execute(Self.createOutboxPositions)
        }
    }

    public func appendToOutbox(_ records: [OutboxRecord], group: String, in transaction: any InboxTransaction) throws {
        for record in records {
            try transaction.execute(Self.insertOutboxRecord, Self.outboxParameters(record, group: group))
        }
    }

    public func oldestOutboxRecords(group: String, limit: Int) async throws -> [OutboxRecord] {
        let rows = try await withConnection { database in
            try database.query(
                """
                SELECT sequence, topic, record_partition, record_key, record_value, headers, created_at
                FROM dabba_outbox WHERE group_id = ? ORDER BY sequence LIMIT ?
                """,
                [.text(group), .integer(Int64(limit))]
            )
        }
        return try rows.map(Self.outboxRecord)
    }

    public func deleteOutboxRecords(
        group: String, sequences: [Int64], advancing positions: [OutboxPosition]
    ) async throws {
        guard !sequences.isEmpty || !positions.isEmpty else { return }
        try await withConnection { database in
            // One transaction, one cached statement per row (an IN list would prepare a statement per length).
            try database.execute("BEGIN IMMEDIATE")
            do {
                for sequence in sequences {
                    try database.execute(
                        "DELETE FROM dabba_outbox WHERE group_id = ? AND sequence = ?", [.text(group), .integer(sequence)]
                    )
                }
                for position in positions {
                    try database.execute(Self.advanceOutboxPosition, Self.positionParameters(position, group: group))
                }
                try database.execute("COMMIT")
            } catch {
                _ = try? database.execute("ROLLBACK")
                throw error
            }
        }
    }

    public func recordOutboxPositions(group: String, _ positions: [OutboxPosition]) async throws {
        guard !positions.isEmpty else { return }
        try await withConnection { database in
            for position in positions {
                try database.execute(Self.insertOutboxPosition, Self.positionParameters(position, group: group))
            }
        }
    }

    public func outboxPositions(group: String) async throws -> [OutboxPosition] {
        let rows = try await withConnection { database in
            try database.query(
                "SELECT topic, record_partition, next_offset FROM dabba_outbox_positions WHERE group_id = ?",
                [.text(group)]
            )
        }
        return try rows.map(Self.outboxPosition)
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

    package static let insertOutboxRecord = """
        INSERT INTO dabba_outbox (group_id, topic, record_partition, record_key, record_value, headers, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """

    /// Per group and partition, where the relay's undeleted records can start (portable SQL).
    package static let createOutboxPositions = """
        CREATE TABLE IF NOT EXISTS dabba_outbox_positions (
            group_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            record_partition INTEGER NOT NULL,
            next_offset BIGINT NOT NULL,
            PRIMARY KEY (group_id, topic, record_partition)
        )
        """

    package static let insertOutboxPosition = """
        INSERT INTO dabba_outbox_positions (group_id, topic, record_partition, next_offset) VALUES (?, ?, ?, ?)
        ON CONFLICT DO NOTHING
        """

    /// Moves a position forward only (an old acknowledgement never moves it back).
    package static let advanceOutboxPosition = """
        INSERT INTO dabba_outbox_positions (group_id, topic, record_partition, next_offset) VALUES (?, ?, ?, ?)
        ON CONFLICT (group_id, topic, record_partition) DO UPDATE SET next_offset = excluded.next_offset
        WHERE excluded.next_offset > dabba_outbox_positions.next_offset
        """

    package static func positionParameters(_ position: OutboxPosition, group: String) -> [SQLValue] {
        [.text(group), .text(position.topic), .integer(Int64(position.partition)), .integer(position.offset)]
    }

    package static func outboxPosition(_ row: [SQLValue]) throws -> OutboxPosition {
        guard row.count == 3, let topic = row[0].textValue, let partition = row[1].integerValue,
            let offset = row[2].integerValue
        else {
            throw InboxError(.statement, "an outbox position row has an unexpected shape: \(row)")
        }
        return OutboxPosition(topic: topic, partition: Int32(partition), offset: offset)
    }

    /// The insert's parameters for a record, in column order.
    package static func outboxParameters(_ record: OutboxRecord, group: String) -> [SQLValue] {
        [
            .text(group), .text(record.topic), record.partition.map { .integer(Int64($0)) } ?? .null,
            stored(record.key), stored(record.value),
            .blob(OutboxHeaderCoding.encode(record.headers)), .integer(record.createdAtMilliseconds),
        ]
    }

    /// Bytes as a parameter: an empty (not absent) key or value as empty text, since SQLite binds an empty blob
    /// as NULL (an empty key and no key go to different partitions).
    private static func stored(_ bytes: [UInt8]?) -> SQLValue {
        guard let bytes else { return .null }
        return bytes.isEmpty ? .text("") : .blob(bytes)
    }

    /// A record from a row of (sequence, topic, partition, key, value, headers, created_at).
    package static func outboxRecord(_ row: [SQLValue]) throws -> OutboxRecord {
        guard row.count == 7, let sequence = row[0].integerValue, let topic = row[1].textValue,
            let createdAt = row[6].integerValue
        else {
            throw InboxError(.statement, "an outbox row has an unexpected shape: \(row.prefix(2))")
        }
        func bytes(_ value: SQLValue) -> [UInt8]? {
            switch value {
            case .blob(let bytes): bytes
            case .text(let text): Array(text.utf8)
            default: nil
            }
        }
        return OutboxRecord(
            sequence: sequence, topic: topic, partition: row[2].integerValue.map { Int32($0) }, key: bytes(row[3]),
            value: bytes(row[4]), headers: try OutboxHeaderCoding.decode(bytes(row[5]) ?? []),
            createdAtMilliseconds: createdAt
        )
    }
}
