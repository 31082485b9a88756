import DabbaInbox
import DabbaKafka

/// One stored timer: where it fires (the partition and key of the event that scheduled it), when, and the record
/// of the event it delivers.
struct StoredTimer: Sendable {
    var topic: String
    var partition: Int32
    /// The scheduling event's key ("" for an unkeyed event).
    var key: String
    var id: String
    var dueMilliseconds: Int64
    /// The delivered event's id (`ce_id`): fixed when the timer is scheduled, so each firing is recorded once by
    /// the inbox, and a rescheduled timer is a new event.
    var eventID: String
    var value: [UInt8]
    var headers: [OutboxHeader]

    /// The record the pipeline decodes and handles, as if read at the scheduling event's partition.
    func record() -> KafkaMessage {
        KafkaMessage.inMemory(
            topic: topic, partition: partition, offset: -1, key: key.isEmpty ? nil : Array(key.utf8), value: value,
            headers: headers.map { KafkaHeader(name: $0.name, value: $0.value) },
            timestampMilliseconds: dueMilliseconds
        )
    }
}

/// The timers table in the inbox database, in SQL both stores run (SQLite and PostgreSQL: `BYTEA` has the BLOB
/// storage class in SQLite). Timers are keyed by group, partition, key and id; one index by due time serves the
/// firing query, which reads a page of due timers of the owned partitions at a time.
enum TimerStore {
    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS dabba_timers (
            group_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            record_partition INTEGER NOT NULL,
            timer_key TEXT NOT NULL,
            timer_id TEXT NOT NULL,
            due_at BIGINT NOT NULL,
            event_id TEXT NOT NULL,
            record_value BYTEA,
            headers BYTEA NOT NULL,
            PRIMARY KEY (group_id, topic, record_partition, timer_key, timer_id)
        )
        """,
        "CREATE INDEX IF NOT EXISTS dabba_timers_due ON dabba_timers (group_id, due_at)",
    ]

    private static let keyCondition =
        "group_id = ? AND topic = ? AND record_partition = ? AND timer_key = ? AND timer_id = ?"

    /// Inserts a timer, or replaces the one with the same id for the same key.
    static func upsert(_ timer: StoredTimer, group: String, in database: any InboxTransaction) throws {
        try database.execute(
            """
            INSERT INTO dabba_timers
                (group_id, topic, record_partition, timer_key, timer_id, due_at, event_id, record_value, headers)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (group_id, topic, record_partition, timer_key, timer_id) DO UPDATE SET
                due_at = excluded.due_at, event_id = excluded.event_id, record_value = excluded.record_value,
                headers = excluded.headers
            """,
            keyParameters(group: group, timer.topic, timer.partition, timer.key, timer.id) + [
                .integer(timer.dueMilliseconds), .text(timer.eventID), .blob(timer.value),
                .blob(OutboxHeaderCoding.encode(timer.headers)),
            ]
        )
    }

    /// Deletes a timer; returns whether one was pending.
    static func delete(
        group: String, topic: String, partition: Int32, key: String, id: String, in database: any InboxTransaction
    ) throws -> Bool {
        try database.execute(
            "DELETE FROM dabba_timers WHERE \(keyCondition)", keyParameters(group: group, topic, partition, key, id)
        ) > 0
    }

    /// Deletes this firing of a timer (not a reschedule of it made since); returns whether it was still pending.
    static func take(_ timer: StoredTimer, group: String, in database: any InboxTransaction) throws -> Bool {
        try database.execute(
            "DELETE FROM dabba_timers WHERE \(keyCondition) AND event_id = ?",
            keyParameters(group: group, timer.topic, timer.partition, timer.key, timer.id) + [.text(timer.eventID)]
        ) > 0
    }

    /// The due time of a pending timer, in milliseconds since the Unix epoch, or nil.
    static func dueMilliseconds(
        group: String, topic: String, partition: Int32, key: String, id: String, in database: any InboxTransaction
    ) throws -> Int64? {
        try database.query(
            "SELECT due_at FROM dabba_timers WHERE \(keyCondition)", keyParameters(group: group, topic, partition, key, id)
        ).first?.first?.integerValue
    }

    /// The earliest timers due at `now` of the given partitions, by due time then id (so per key in due-time order).
    static func duePage(
        group: String, partitions: Set<TopicPartition>, now: Int64, limit: Int, in database: any InboxTransaction
    ) throws -> [StoredTimer] {
        let (condition, partitionParameters) = partitionCondition(partitions)
        guard !partitionParameters.isEmpty else { return [] }
        let parameters: [SQLValue] = [.text(group), .integer(now)] + partitionParameters + [.integer(Int64(limit))]
        let rows = try database.query(
            """
            SELECT topic, record_partition, timer_key, timer_id, due_at, event_id, record_value, headers
            FROM dabba_timers WHERE group_id = ? AND due_at <= ? AND (\(condition))
            ORDER BY due_at, timer_id LIMIT ?
            """,
            parameters
        )
        return try rows.map(timer)
    }

    /// The earliest due time of the given partitions' pending timers, or nil when none is pending.
    static func nextDue(
        group: String, partitions: Set<TopicPartition>, in database: any InboxTransaction
    ) throws -> Int64? {
        let (condition, parameters) = partitionCondition(partitions)
        guard !parameters.isEmpty else { return nil }
        return try database.query(
            "SELECT MIN(due_at) FROM dabba_timers WHERE group_id = ? AND (\(condition))", [.text(group)] + parameters
        ).first?.first?.integerValue
    }

    /// `(topic = ? AND record_partition IN (?, …)) OR …` for the given partitions, and its parameters.
    private static func partitionCondition(_ partitions: Set<TopicPartition>) -> (String, [SQLValue]) {
        var conditions: [String] = []
        var parameters: [SQLValue] = []
        for (topic, owned) in Dictionary(grouping: partitions, by: \.topic).sorted(by: { $0.key < $1.key }) {
            let numbers = owned.map(\.partition).sorted()
            conditions.append(
                "(topic = ? AND record_partition IN (\(Array(repeating: "?", count: numbers.count).joined(separator: ", "))))"
            )
            parameters.append(.text(topic))
            parameters += numbers.map { .integer(Int64($0)) }
        }
        return (conditions.joined(separator: " OR "), parameters)
    }

    private static func timer(_ row: [SQLValue]) throws -> StoredTimer {
        guard row.count == 8, let topic = row[0].textValue, let partition = row[1].integerValue,
            let key = row[2].textValue, let id = row[3].textValue, let due = row[4].integerValue,
            let eventID = row[5].textValue
        else {
            throw InboxError(.statement, "a timer row has an unexpected shape: \(row.prefix(4))")
        }
        return StoredTimer(
            topic: topic, partition: Int32(partition), key: key, id: id, dueMilliseconds: due, eventID: eventID,
            value: bytes(row[6]), headers: try OutboxHeaderCoding.decode(bytes(row[7]))
        )
    }

    private static func keyParameters(
        group: String, _ topic: String, _ partition: Int32, _ key: String, _ id: String
    ) -> [SQLValue] {
        [.text(group), .text(topic), .integer(Int64(partition)), .text(key), .text(id)]
    }

    /// A stored blob (SQLite hands an empty blob back as NULL, or as text when it was bound as text).
    private static func bytes(_ value: SQLValue) -> [UInt8] {
        switch value {
        case .blob(let bytes): bytes
        case .text(let text): Array(text.utf8)
        default: []
        }
    }
}
