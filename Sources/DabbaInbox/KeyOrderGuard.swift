/// Per-key order across retry tiers: while an event of a key is parked in the retry tiers, later events of the same
/// key queue behind it instead of overtaking it.
///
/// The guard keeps, per consumer group, main topic and key, the ids of the key's parked events in arrival order,
/// in the inbox database (so it survives restarts, and with PostgreSQL it is shared by every instance). Only the
/// head of a key's queue is processed; the pipeline runtime parks the others behind it.
public struct KeyOrderGuard: Sendable {
    let store: any InboxStore
    let group: String

    /// Creates the guard's table if needed.
    /// - Parameters:
    ///   - store: The inbox whose database holds the queues.
    ///   - group: The consumer group.
    public init(store: any InboxStore, group: String) async throws {
        self.store = store
        self.group = group
        try await store.migrate([
            """
            CREATE TABLE IF NOT EXISTS dabba_key_guard (
                group_id TEXT NOT NULL,
                topic TEXT NOT NULL,
                record_key TEXT NOT NULL,
                sequence INTEGER NOT NULL,
                event_id TEXT NOT NULL,
                PRIMARY KEY (group_id, topic, record_key, event_id)
            )
            """
        ])
    }

    /// The event at the head of a key's queue, or nil when no event of the key is parked.
    public func head(topic: String, key: String) async throws -> String? {
        let group = self.group
        return try await store.withConnection { database in
            try database.query(
                """
                SELECT event_id FROM dabba_key_guard WHERE group_id = ? AND topic = ? AND record_key = ?
                ORDER BY sequence LIMIT 1
                """,
                [.text(group), .text(topic), .text(key)]
            ).first?.first?.textValue
        }
    }

    /// Whether an event is queued for its key.
    public func contains(topic: String, key: String, eventID: String) async throws -> Bool {
        let group = self.group
        return try await store.withConnection { database in
            try !database.query(
                "SELECT 1 FROM dabba_key_guard WHERE group_id = ? AND topic = ? AND record_key = ? AND event_id = ?",
                [.text(group), .text(topic), .text(key), .text(eventID)]
            ).isEmpty
        }
    }

    /// Appends an event to its key's queue (once: a redelivered event keeps its place).
    public func enqueue(topic: String, key: String, eventID: String) async throws {
        let group = self.group
        try await store.withConnection { database in
            let present = try database.query(
                "SELECT 1 FROM dabba_key_guard WHERE group_id = ? AND topic = ? AND record_key = ? AND event_id = ?",
                [.text(group), .text(topic), .text(key), .text(eventID)]
            )
            guard present.isEmpty else { return }
            let last = try database.query(
                "SELECT MAX(sequence) FROM dabba_key_guard WHERE group_id = ? AND topic = ? AND record_key = ?",
                [.text(group), .text(topic), .text(key)]
            ).first?.first?.integerValue ?? 0
            try database.execute(
                "INSERT INTO dabba_key_guard (group_id, topic, record_key, sequence, event_id) VALUES (?, ?, ?, ?, ?)",
                [.text(group), .text(topic), .text(key), .integer(last + 1), .text(eventID)]
            )
        }
    }

    /// Removes a resolved event (handled or dead-lettered) from its key's queue.
    public func remove(topic: String, key: String, eventID: String) async throws {
        let group = self.group
        try await store.withConnection { database in
            try database.execute(
                "DELETE FROM dabba_key_guard WHERE group_id = ? AND topic = ? AND record_key = ? AND event_id = ?",
                [.text(group), .text(topic), .text(key), .text(eventID)]
            )
        }
    }
}
