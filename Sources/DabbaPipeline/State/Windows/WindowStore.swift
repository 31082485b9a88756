import DabbaInbox

/// The rows of windowed aggregations in the inbox database, written in the transaction of the event that changed
/// them: one row per key and window (open, or closed and remembered for ``WindowSpec/closedRetention``), and each
/// window's stream time per partition. Portable SQL for SQLite and PostgreSQL.
enum WindowStore {
    static let schema = [
        """
        CREATE TABLE IF NOT EXISTS dabba_windows (
            group_id TEXT NOT NULL,
            window_name TEXT NOT NULL,
            window_key TEXT NOT NULL,
            window_start BIGINT NOT NULL,
            window_end BIGINT NOT NULL,
            closes_at BIGINT NOT NULL,
            topic TEXT NOT NULL,
            record_partition INTEGER NOT NULL,
            aggregate TEXT NOT NULL,
            events BIGINT NOT NULL,
            closed INTEGER NOT NULL,
            PRIMARY KEY (group_id, window_name, window_key, window_start)
        )
        """,
        """
        CREATE INDEX IF NOT EXISTS dabba_windows_closing
        ON dabba_windows (group_id, window_name, topic, record_partition, closed, closes_at)
        """,
        """
        CREATE TABLE IF NOT EXISTS dabba_window_stream_times (
            group_id TEXT NOT NULL,
            window_name TEXT NOT NULL,
            topic TEXT NOT NULL,
            record_partition INTEGER NOT NULL,
            stream_time BIGINT NOT NULL,
            PRIMARY KEY (group_id, window_name, topic, record_partition)
        )
        """,
    ]

    /// One window of one key.
    struct Row: Sendable {
        var key: String
        var start: Int64
        var end: Int64
        var aggregate: String
        var events: Int64
        var closed: Bool
    }

    /// Where a window's rows belong: the group, the window's name and the partition of its events.
    struct Scope: Sendable {
        let group: String
        let name: String
        let topic: String
        let partition: Int32

        var parameters: [SQLValue] { [.text(group), .text(name), .text(topic), .integer(Int64(partition))] }
    }

    static func streamTime(_ scope: Scope, in database: any InboxTransaction) throws -> Int64? {
        try database.query(
            """
            SELECT stream_time FROM dabba_window_stream_times
            WHERE group_id = ? AND window_name = ? AND topic = ? AND record_partition = ?
            """,
            scope.parameters
        ).first?.first?.integerValue
    }

    static func setStreamTime(_ time: Int64, _ scope: Scope, in database: any InboxTransaction) throws {
        _ = try database.execute(
            """
            INSERT INTO dabba_window_stream_times (group_id, window_name, topic, record_partition, stream_time)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (group_id, window_name, topic, record_partition)
            DO UPDATE SET stream_time = excluded.stream_time
            """,
            scope.parameters + [.integer(time)]
        )
    }

    static func row(
        group: String, name: String, key: String, start: Int64, in database: any InboxTransaction
    ) throws -> Row? {
        let rows = try database.query(
            """
            SELECT window_key, window_start, window_end, aggregate, events, closed FROM dabba_windows
            WHERE group_id = ? AND window_name = ? AND window_key = ? AND window_start = ?
            """,
            [.text(group), .text(name), .text(key), .integer(start)]
        )
        return try rows.first.map(row)
    }

    static func insert(_ row: Row, closesAt: Int64, _ scope: Scope, in database: any InboxTransaction) throws {
        _ = try database.execute(
            """
            INSERT INTO dabba_windows (group_id, window_name, window_key, window_start, window_end, closes_at, topic,
                record_partition, aggregate, events, closed)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)
            """,
            [
                .text(scope.group), .text(scope.name), .text(row.key), .integer(row.start), .integer(row.end),
                .integer(closesAt), .text(scope.topic), .integer(Int64(scope.partition)), .text(row.aggregate),
                .integer(row.events),
            ]
        )
    }

    static func update(
        group: String, name: String, key: String, start: Int64, aggregate: String, events: Int64,
        in database: any InboxTransaction
    ) throws {
        _ = try database.execute(
            """
            UPDATE dabba_windows SET aggregate = ?, events = ?
            WHERE group_id = ? AND window_name = ? AND window_key = ? AND window_start = ?
            """,
            [.text(aggregate), .integer(events), .text(group), .text(name), .text(key), .integer(start)]
        )
    }

    static func markClosed(
        group: String, name: String, key: String, start: Int64, in database: any InboxTransaction
    ) throws {
        _ = try database.execute(
            """
            UPDATE dabba_windows SET closed = 1
            WHERE group_id = ? AND window_name = ? AND window_key = ? AND window_start = ?
            """,
            [.text(group), .text(name), .text(key), .integer(start)]
        )
    }

    /// The open windows of a partition that close at or before `time`, in closing order (then by key).
    static func closing(by time: Int64, _ scope: Scope, in database: any InboxTransaction) throws -> [Row] {
        try database.query(
            """
            SELECT window_key, window_start, window_end, aggregate, events, closed FROM dabba_windows
            WHERE group_id = ? AND window_name = ? AND topic = ? AND record_partition = ? AND closed = 0
                AND closes_at <= ?
            ORDER BY closes_at, window_key
            """,
            scope.parameters + [.integer(time)]
        ).map(row)
    }

    /// Forgets a partition's windows closed before `time`.
    static func forgetClosed(before time: Int64, _ scope: Scope, in database: any InboxTransaction) throws {
        _ = try database.execute(
            """
            DELETE FROM dabba_windows
            WHERE group_id = ? AND window_name = ? AND topic = ? AND record_partition = ? AND closed = 1
                AND closes_at < ?
            """,
            scope.parameters + [.integer(time)]
        )
    }

    private static func row(_ values: [SQLValue]) throws -> Row {
        guard values.count == 6, let key = values[0].textValue, let start = values[1].integerValue,
            let end = values[2].integerValue, let aggregate = values[3].textValue, let events = values[4].integerValue,
            let closed = values[5].integerValue
        else {
            throw InboxError(.statement, "a window row has an unexpected shape: \(values.prefix(3))")
        }
        return Row(key: key, start: start, end: end, aggregate: aggregate, events: events, closed: closed != 0)
    }
}
