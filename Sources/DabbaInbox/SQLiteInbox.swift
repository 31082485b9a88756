import Foundation

/// The embedded inbox: one SQLite file per service instance, holding the inbox table and, typically, the service's
/// own state tables, so a handler's writes and the inbox mark commit together.
///
/// The database runs in WAL mode. `synchronous=NORMAL` (the default here) survives a crash of the process; choose
/// ``Durability/full`` to also survive power loss at the cost of an fsync per batch. Statements run on the calling
/// task: they are short, and batches amortize the commit.
public final class SQLiteInbox: InboxStore {
    /// How hard a commit waits for the disk.
    public struct Durability: Sendable, Hashable {
        let pragma: String
        /// Survives process crashes (WAL + `synchronous=NORMAL`).
        public static let processCrash = Durability(pragma: "NORMAL")
        /// Survives power loss (WAL + `synchronous=FULL`).
        public static let full = Durability(pragma: "FULL")
    }

    private let connection: SQLiteConnection
    private let lock = AsyncLock()
    /// The database file.
    public let path: String

    /// Opens (or creates) the database and the inbox table.
    /// - Parameters:
    ///   - path: The database file (`:memory:` for a throwaway database).
    ///   - durability: Commit durability.
    /// - Throws: ``InboxError`` if the file cannot be opened.
    public init(path: String, durability: Durability = .processCrash) throws {
        self.path = path
        connection = try SQLiteConnection(path: path)
        try connection.executeScript(
            """
            PRAGMA journal_mode=WAL;
            PRAGMA synchronous=\(durability.pragma);
            CREATE TABLE IF NOT EXISTS dabba_inbox (
                group_id TEXT NOT NULL,
                event_id TEXT NOT NULL,
                processed_at INTEGER NOT NULL,
                PRIMARY KEY (group_id, event_id)
            ) WITHOUT ROWID;
            CREATE INDEX IF NOT EXISTS dabba_inbox_processed_at ON dabba_inbox (processed_at);
            """
        )
    }

    /// Runs statements outside any event (schema migrations for the service's own tables, reads for reports).
    /// - Parameter body: Work with the database.
    /// - Returns: What `body` returns.
    public func withDatabase<Result>(_ body: (InboxTransaction) throws -> Result) async throws -> Result {
        await lock.acquire()
        defer { lock.release() }
        return try body(SQLiteTransaction(connection: connection))
    }

    public func processBatch(
        group: String,
        eventIDs: [String],
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        await lock.acquire()
        defer { lock.release() }
        // Prepared (cached) statements throughout: this runs for every event of every batch.
        try connection.execute("BEGIN IMMEDIATE", [])
        var outcomes: [InboxOutcome] = []
        outcomes.reserveCapacity(eventIDs.count)
        let transaction = SQLiteTransaction(connection: connection)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        do {
            for (index, eventID) in eventIDs.enumerated() {
                let seen = try connection.query(
                    "SELECT 1 FROM dabba_inbox WHERE group_id = ? AND event_id = ?", [.text(group), .text(eventID)]
                )
                if !seen.isEmpty {
                    outcomes.append(.duplicate)
                    continue
                }
                try connection.execute("SAVEPOINT dabba_event", [])
                // Only the handler's failure (including its own SQL) fails the event; the inbox's own statements
                // below failing aborts the batch.
                var handlerFailure: (any Error)?
                do { try await body(index, transaction) } catch { handlerFailure = error }
                if let handlerFailure {
                    try connection.execute("ROLLBACK TO dabba_event", [])
                    try connection.execute("RELEASE dabba_event", [])
                    outcomes.append(.failed(String(describing: handlerFailure)))
                    continue
                }
                try connection.execute(
                    "INSERT INTO dabba_inbox (group_id, event_id, processed_at) VALUES (?, ?, ?)",
                    [.text(group), .text(eventID), .integer(now)]
                )
                try connection.execute("RELEASE dabba_event", [])
                outcomes.append(.processed)
            }
            try connection.execute("COMMIT", [])
        } catch {
            try? connection.executeScript("ROLLBACK")
            throw InboxError(.commit, "the inbox batch was rolled back: \(error)")
        }
        return outcomes
    }

    public func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (any InboxTransaction) throws -> Result
    ) async throws -> Result {
        try await withDatabase { try body($0) }
    }


    public func contains(group: String, eventID: String) async throws -> Bool {
        await lock.acquire()
        defer { lock.release() }
        return try !connection.query(
            "SELECT 1 FROM dabba_inbox WHERE group_id = ? AND event_id = ?", [.text(group), .text(eventID)]
        ).isEmpty
    }

    public func purge(olderThan age: Duration) async throws -> Int {
        await lock.acquire()
        defer { lock.release() }
        let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - Int64(age.components.seconds * 1000)
        return try connection.execute("DELETE FROM dabba_inbox WHERE processed_at < ?", [.integer(cutoff)])
    }
}

/// The handler's view of the connection during its savepoint.
struct SQLiteTransaction: InboxTransaction {
    let connection: SQLiteConnection

    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        try connection.execute(sql, parameters)
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]] {
        try connection.query(sql, parameters)
    }
}
