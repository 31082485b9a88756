/// The outbox statements both stores share (portable SQL with `?` placeholders, run through an
/// ``InboxTransaction``), and the conversions between rows and records. Each store keeps its own table creation,
/// deletion and status queries, where the dialects differ.
package enum OutboxSQL {
    /// Per group and partition, where the relay's undeleted records can start.
    package static let createPositions = """
        CREATE TABLE IF NOT EXISTS dabba_outbox_positions (
            group_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            record_partition INTEGER NOT NULL,
            next_offset BIGINT NOT NULL,
            PRIMARY KEY (group_id, topic, record_partition)
        )
        """

    /// The columns a record is read from, in ``record(_:)``'s order.
    package static let recordColumns =
        "sequence, topic, record_partition, record_key, record_value, headers, created_at"

    /// Appends records in order inside the event's transaction.
    package static func append(_ records: [OutboxRecord], group: String, in transaction: any InboxTransaction) throws {
        for record in records {
            try transaction.execute(
                """
                INSERT INTO dabba_outbox
                    (group_id, topic, record_partition, record_key, record_value, headers, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(group), .text(record.topic), record.partition.map { .integer(Int64($0)) } ?? .null,
                    stored(record.key), stored(record.value), .blob(OutboxHeaderCoding.encode(record.headers)),
                    .integer(record.createdAtMilliseconds),
                ]
            )
        }
    }

    /// Inserts positions for partitions that have none; stored ones are kept.
    package static func insertPositions(
        _ positions: [OutboxPosition], group: String, in database: any InboxTransaction
    ) throws {
        for position in positions {
            try database.execute(
                """
                INSERT INTO dabba_outbox_positions (group_id, topic, record_partition, next_offset) VALUES (?, ?, ?, ?)
                ON CONFLICT DO NOTHING
                """,
                parameters(position, group: group)
            )
        }
    }

    /// Moves positions forward only (an old acknowledgement never moves one back).
    package static func advancePositions(
        _ positions: [OutboxPosition], group: String, in database: any InboxTransaction
    ) throws {
        for position in positions {
            try database.execute(
                """
                INSERT INTO dabba_outbox_positions (group_id, topic, record_partition, next_offset) VALUES (?, ?, ?, ?)
                ON CONFLICT (group_id, topic, record_partition) DO UPDATE SET next_offset = excluded.next_offset
                WHERE excluded.next_offset > dabba_outbox_positions.next_offset
                """,
                parameters(position, group: group)
            )
        }
    }

    /// A group's stored positions.
    package static func positions(group: String, in database: any InboxTransaction) throws -> [OutboxPosition] {
        try database.query(
            "SELECT topic, record_partition, next_offset FROM dabba_outbox_positions WHERE group_id = ?", [.text(group)]
        ).map { row in
            guard row.count == 3, let topic = row[0].textValue, let partition = row[1].integerValue,
                let offset = row[2].integerValue
            else {
                throw InboxError(.statement, "an outbox position row has an unexpected shape: \(row)")
            }
            return OutboxPosition(topic: topic, partition: Int32(partition), offset: offset)
        }
    }

    /// Runs `body` in a transaction opened with `begin`, rolled back if it throws.
    package static func inTransaction(
        _ database: any InboxTransaction, begin: String, _ body: () throws -> Void
    ) throws {
        try database.execute(begin)
        do {
            try body()
            try database.execute("COMMIT")
        } catch {
            _ = try? database.execute("ROLLBACK")
            throw error
        }
    }

    /// A record from a row of ``recordColumns``.
    package static func record(_ row: [SQLValue]) throws -> OutboxRecord {
        guard row.count == 7, let sequence = row[0].integerValue, let topic = row[1].textValue,
            let createdAt = row[6].integerValue
        else {
            throw InboxError(.statement, "an outbox row has an unexpected shape: \(row.prefix(2))")
        }
        return OutboxRecord(
            sequence: sequence, topic: topic, partition: row[2].integerValue.map { Int32($0) }, key: bytes(row[3]),
            value: bytes(row[4]), headers: try OutboxHeaderCoding.decode(bytes(row[5]) ?? []),
            createdAtMilliseconds: createdAt
        )
    }

    private static func parameters(_ position: OutboxPosition, group: String) -> [SQLValue] {
        [.text(group), .text(position.topic), .integer(Int64(position.partition)), .integer(position.offset)]
    }

    /// Bytes as a parameter: an empty (not absent) key or value as empty text, since SQLite binds an empty blob as
    /// NULL (and an empty key and no key go to different partitions).
    private static func stored(_ bytes: [UInt8]?) -> SQLValue {
        guard let bytes else { return .null }
        return bytes.isEmpty ? .text("") : .blob(bytes)
    }

    private static func bytes(_ value: SQLValue) -> [UInt8]? {
        switch value {
        case .blob(let bytes): bytes
        case .text(let text): Array(text.utf8)
        default: nil
        }
    }
}
