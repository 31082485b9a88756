import Foundation
import Synchronization

/// The embedded inbox: one SQLite file per service instance, holding the inbox table and, typically, the service's
/// own state tables, so a handler's writes and the inbox mark commit together.
///
/// The database runs in WAL mode. `synchronous=NORMAL` (the default here) survives a crash of the process; choose
/// ``Durability/full`` to also survive power loss at the cost of an fsync per batch. Every operation, the handlers'
/// statements inside a batch included, runs on the store's own thread, never on Swift's cooperative pool: a slow
/// disk or a long statement blocks no other task of the process.
///
/// The inbox table has one b-tree, keyed by (group, event id): recording an event is one insert. Retention
/// (``purge(olderThan:)``, hourly in a `PipelineService`) walks that key in chunks instead of keeping a second index
/// on the processing time, which would cost every event another insert. Databases made by earlier versions lose
/// that index when opened.
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
    /// Records an event for a group unless it is recorded already (then changes no row).
    private let claim = StatementHandle(
        "INSERT INTO dabba_inbox (group_id, event_id, processed_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"
    )
    /// Removes a claim whose handler failed.
    private let unclaim = StatementHandle("DELETE FROM dabba_inbox WHERE group_id = ?1 AND event_id = ?2")
    private let lock = AsyncLock()
    /// Where the blocking SQLite calls run, handlers' statements included: off the cooperative pool.
    private let executor: DatabaseExecutor
    /// The database file.
    public let path: String

    /// Opens (or creates) the database and the inbox table.
    /// - Parameters:
    ///   - path: The database file (`:memory:` for a throwaway database).
    ///   - durability: Commit durability.
    /// - Throws: ``InboxError``: ``InboxError/Code-swift.struct/open`` if SQLite cannot open the file;
    ///   ``InboxError/Code-swift.struct/statement`` if it is not a SQLite database or the inbox table cannot be
    ///   created.
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
            DROP INDEX IF EXISTS dabba_inbox_processed_at;
            """
        )
        // Each batch dirties about one page per event (event ids from many partitions land all over the key), so
        // the WAL grows fast: checkpoint every 16,384 pages (64 MiB) rather than SQLite's 1,000, which copied every
        // hot page into the database file after nearly every batch, and keep the WAL file at most that size. Reads
        // go through a memory map instead of a read call per page.
        try connection.executeScript(
            """
            PRAGMA wal_autocheckpoint=16384;
            PRAGMA journal_size_limit=67108864;
            PRAGMA mmap_size=268435456;
            """
        )
        // Last: a failed open above starts no thread.
        executor = DatabaseExecutor(name: "dabba.sqlite")
    }

    deinit { executor.shutdown() }

    /// Runs statements outside any event (schema migrations for the service's own tables, reads for reports).
    /// - Parameter body: Work with the database.
    /// - Returns: What `body` returns.
    @discardableResult
    public func withDatabase<Result>(_ body: (InboxTransaction) throws -> Result) async throws -> Result {
        try await executor.run {
            await lock.acquire()
            defer { lock.release() }
            return try body(SQLiteTransaction(connection: connection))
        }
    }

    public func processBatch(
        group: String,
        eventIDs: [String],
        beforeCommit: (_ batch: InboxBatchEnd) async throws -> Void,
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        try await executor.run {
            try await processBatchOnExecutor(group: group, eventIDs: eventIDs, beforeCommit: beforeCommit, body)
        }
    }

    private func processBatchOnExecutor(
        group: String,
        eventIDs: [String],
        beforeCommit: (_ batch: InboxBatchEnd) async throws -> Void,
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        await lock.acquire()
        defer { lock.release() }
        // Prepared (cached) statements throughout: this runs for every event of every batch.
        try connection.execute("BEGIN IMMEDIATE", [])
        var outcomes: [InboxOutcome] = []
        outcomes.reserveCapacity(eventIDs.count)
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        // `beforeCommit`'s error, rethrown as it is after the rollback.
        var refusal: (any Error)?
        do {
            for (index, eventID) in eventIDs.enumerated() {
                // Claiming the event is the duplicate check: one b-tree descent finds a recorded mark (also one
                // claimed earlier in this batch) or inserts the new one, in the same transaction as the handler's
                // writes, so nothing outside sees it before the commit.
                guard try connection.execute(claim, group, eventID, now) == 1 else {
                    outcomes.append(.duplicate)
                    continue
                }
                // The savepoint is opened only when the handler touches the database: handlers that keep no state
                // cost nothing here beyond the claim.
                let transaction = SQLiteEventTransaction(connection: connection)
                // Only the handler's failure (including its own SQL) fails the event; the inbox's own statements
                // below failing aborts the batch.
                var handlerFailure: (any Error)?
                do { try await body(index, transaction) } catch { handlerFailure = error }
                if let handlerFailure {
                    if transaction.opensSavepoint {
                        try connection.execute("ROLLBACK TO dabba_event", [])
                        try connection.execute("RELEASE dabba_event", [])
                    }
                    // The claim was made outside the handler's savepoint: release it, so the event is not
                    // recorded and a later delivery (even later in this batch) runs the handler again.
                    try connection.execute(unclaim, group, eventID)
                    outcomes.append(.failed(String(describing: handlerFailure)))
                    continue
                }
                if transaction.opensSavepoint { try connection.execute("RELEASE dabba_event", []) }
                outcomes.append(.processed)
            }
            do {
                let transaction = SQLiteTransaction(connection: connection)
                try await beforeCommit(InboxBatchEnd(transaction: transaction, outcomes: outcomes))
            } catch {
                refusal = error
            }
            if let refusal { throw refusal }
            try connection.execute("COMMIT", [])
        } catch {
            try? connection.executeScript("ROLLBACK")
            if let refusal { throw refusal }
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
        try await withDatabase { database in
            try !database.query(
                "SELECT 1 FROM dabba_inbox WHERE group_id = ? AND event_id = ?", [.text(group), .text(eventID)]
            ).isEmpty
        }
    }

    /// Rows examined per purge step; the pipeline gets the connection back between steps.
    static let purgeChunk = 4096

    public func purge(olderThan age: Duration) async throws -> Int {
        let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - Int64(age.components.seconds * 1000)
        var removed = 0
        // The key walked so far: each step deletes the expired rows among the next `purgeChunk` keys.
        var after: (group: String, event: String)?
        while true {
            let (deleted, last) = try await purgeStep(after: after, cutoff: cutoff)
            removed += deleted
            guard let last else { return removed }
            after = last
            await Task.yield()
        }
    }

    /// Deletes expired rows among the `purgeChunk` keys after `after`; returns how many, and the chunk's last key
    /// (nil when the table ends within this chunk).
    private func purgeStep(
        after: (group: String, event: String)?, cutoff: Int64
    ) async throws -> (deleted: Int, last: (group: String, event: String)?) {
        try await executor.run { try await purgeStepOnExecutor(after: after, cutoff: cutoff) }
    }

    private func purgeStepOnExecutor(
        after: (group: String, event: String)?, cutoff: Int64
    ) async throws -> (deleted: Int, last: (group: String, event: String)?) {
        await lock.acquire()
        defer { lock.release() }
        let lower = after.map { [SQLValue.text($0.group), .text($0.event)] } ?? []
        let lowerClause = after == nil ? "" : "WHERE (group_id, event_id) > (?1, ?2)"
        let boundary = try connection.query(
            "SELECT group_id, event_id FROM dabba_inbox \(lowerClause) ORDER BY group_id, event_id LIMIT 1 OFFSET \(Self.purgeChunk - 1)",
            lower
        )
        guard let row = boundary.first, case .text(let group) = row[0], case .text(let event) = row[1] else {
            // Fewer than a chunk left: the rest of the table.
            let condition = after == nil ? "processed_at < ?1" : "(group_id, event_id) > (?1, ?2) AND processed_at < ?3"
            let deleted = try connection.execute("DELETE FROM dabba_inbox WHERE \(condition)", lower + [.integer(cutoff)])
            return (deleted, nil)
        }
        let range = after == nil ? "(group_id, event_id) <= (?1, ?2)" : "(group_id, event_id) > (?1, ?2) AND (group_id, event_id) <= (?3, ?4)"
        let parameters = lower + [.text(group), .text(event), .integer(cutoff)]
        let deleted = try connection.execute(
            "DELETE FROM dabba_inbox WHERE \(range) AND processed_at < ?\(parameters.count)", parameters
        )
        return (deleted, (group, event))
    }
}

/// The handler's view of the connection inside a batch: the event's savepoint is opened on first use, so a failure
/// rolls back exactly the handler's own writes.
final class SQLiteEventTransaction: InboxTransaction {
    let connection: SQLiteConnection
    private let opened = Atomic<Bool>(false)

    init(connection: SQLiteConnection) { self.connection = connection }

    /// Whether the handler used the database (and so the savepoint exists).
    var opensSavepoint: Bool { opened.load(ordering: .relaxed) }

    private func openSavepoint() throws {
        guard !opened.load(ordering: .relaxed) else { return }
        try connection.execute("SAVEPOINT dabba_event", [])
        opened.store(true, ordering: .relaxed)
    }

    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        try openSavepoint()
        return try connection.execute(sql, parameters)
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]] {
        try openSavepoint()
        return try connection.query(sql, parameters)
    }

    func discardWrites() throws {
        // ROLLBACK TO keeps the savepoint open, so the next attempt writes inside it again.
        if opensSavepoint { try connection.execute("ROLLBACK TO dabba_event", []) }
    }
}

/// The handler's view of the connection outside any event.
struct SQLiteTransaction: InboxTransaction {
    let connection: SQLiteConnection

    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        try connection.execute(sql, parameters)
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]] {
        try connection.query(sql, parameters)
    }

    func discardWrites() throws {
        throw InboxError(.statement, "discardWrites() undoes an event's writes: there is no event outside processBatch")
    }
}
