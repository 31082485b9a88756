import DabbaInbox
import DabbaInboxPostgres
import DabbaTestingPostgres
import Foundation
import Testing

/// An inbox store with direct access to its database, so tests can set up tables and check what was committed.
protocol InboxUnderTest: InboxStore {
    /// Runs a statement outside any batch; returns the rows changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> Int
    /// Runs a query outside any batch.
    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [[SQLValue]]
}

extension InboxUnderTest {
    @discardableResult
    func execute(_ sql: String) async throws -> Int { try await execute(sql, []) }
    func query(_ sql: String) async throws -> [[SQLValue]] { try await query(sql, []) }
}

extension SQLiteInbox: InboxUnderTest {
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> Int {
        try await withDatabase { try $0.execute(sql, parameters) }
    }

    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [[SQLValue]] {
        try await withDatabase { try $0.query(sql, parameters) }
    }
}

extension PostgresInbox: InboxUnderTest {
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) async throws -> Int {
        try await withDatabase { try $0.execute(sql, parameters) }
    }

    func query(_ sql: String, _ parameters: [SQLValue]) async throws -> [[SQLValue]] {
        try await withDatabase { try $0.query(sql, parameters) }
    }
}

/// One test's fresh database and how to open stores on it: the same scenarios run against each kind of store.
struct InboxFixture: Sendable {
    /// The store's name, for messages.
    var name: String
    /// Opens a new store (a new connection) on the test's database; releasing it closes the connection.
    var open: @Sendable () async throws -> any InboxUnderTest
    /// Moves `dabba_inbox.processed_at` back by `?` seconds for the record (`?` group, `?` event id).
    var backdateSQL: String
    /// Run on each connection before relying on foreign keys, if the store needs it.
    var foreignKeysSQL: String?

    /// ``backdateSQL`` for `count` event ids of one group at once: parameters are the seconds, the group, the ids.
    func backdateManySQL(count: Int) -> String {
        let single = backdateSQL.replacingOccurrences(of: "event_id = ?", with: "event_id IN (")
        return single + Array(repeating: "?", count: count).joined(separator: ", ") + ")"
    }

    /// Opens a store and prepares the connection (foreign keys on).
    func openStore() async throws -> any InboxUnderTest {
        let store = try await open()
        if let foreignKeysSQL { try await store.execute(foreignKeysSQL) }
        return store
    }

    /// A fresh SQLite database file, deleted (with its WAL files) afterwards.
    static func sqlite<Result>(_ body: (InboxFixture) async throws -> Result) async throws -> Result {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("dabba-inbox-\(UUID().uuidString.prefix(8)).sqlite").path
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
        }
        let fixture = InboxFixture(
            name: "SQLiteInbox",
            open: { try SQLiteInbox(path: path) },
            backdateSQL: """
                UPDATE dabba_inbox SET processed_at = processed_at - ? * 1000 WHERE group_id = ? AND event_id = ?
                """,
            foreignKeysSQL: "PRAGMA foreign_keys = ON"
        )
        return try await body(fixture)
    }

    /// A fresh schema on the suite's PostgreSQL server (see ``TestPostgres``), dropped afterwards.
    static func postgres<Result>(_ body: (InboxFixture) async throws -> Result) async throws -> Result {
        try await TestPostgres.withFixture { postgres in
            let fixture = InboxFixture(
                name: "PostgresInbox",
                open: { try await postgres.open() },
                backdateSQL: """
                    UPDATE dabba_inbox SET processed_at = processed_at - ?::integer * interval '1 second' \
                    WHERE group_id = ? AND event_id = ?
                    """,
                foreignKeysSQL: nil
            )
            return try await body(fixture)
        }
    }
}

/// A unique consumer group name per test.
func uniqueGroup(_ base: String = #function) -> String {
    "g-\(base.filter { $0.isLetter }.prefix(30))-\(UUID().uuidString.prefix(8).lowercased())"
}

/// What a test handler threw on purpose.
struct HandlerFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
