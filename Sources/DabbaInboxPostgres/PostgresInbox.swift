import DabbaInbox
import Dispatch

/// The shared inbox: a PostgreSQL table that every instance of a consumer group writes to, for groups whose
/// instances run on several machines. A handler's writes to the same database commit together with the inbox mark.
///
/// ```swift
/// let inbox = try PostgresInbox(connectionString: "postgresql://payments@db.internal/payments")
/// try await inbox.withDatabase { db in
///     try db.execute("CREATE TABLE IF NOT EXISTS balances (account text PRIMARY KEY, cents bigint NOT NULL)")
/// }
/// let outcomes = try await inbox.processBatch(group: "payments", eventIDs: ids) { index, db in
///     try db.execute(
///         """
///         INSERT INTO balances VALUES (?, ?)
///         ON CONFLICT (account) DO UPDATE SET cents = balances.cents + excluded.cents
///         """,
///         [.text(events[index].account), .integer(events[index].cents)]
///     )
/// }
/// ```
///
/// ## Semantics
/// Like ``SQLiteInbox``: one transaction per batch, one savepoint per event. For each event the mark is inserted
/// first, inside the event's savepoint, with `INSERT … ON CONFLICT DO NOTHING`: no row inserted means another
/// batch already recorded the event (``InboxOutcome/duplicate``, the handler does not run). When another instance
/// is processing the same event at that moment, the insert waits for that instance's transaction: if it commits,
/// this one sees a duplicate; if it rolls the event back, this one processes it. So two instances never both
/// process an event. A handler that throws rolls its savepoint back, mark included (``InboxOutcome/failed(_:)``).
///
/// PostgreSQL aborts a savepoint on any failed statement, so a handler that catches a failed statement's error and
/// returns normally still fails its event (its outcome names the statement's error).
///
/// ## Threads
/// libpq blocks the calling thread. The inbox's own statements (`BEGIN`, the mark, savepoints, `COMMIT`, where
/// waits for other instances happen) and the ``withDatabase(_:)`` body run on the connection's own serial
/// `DispatchQueue`, not on Swift's cooperative pool. A batch runs on the store's own thread (a task executor the
/// batch prefers), handlers included, so their synchronous statements through ``InboxTransaction`` block that
/// thread and never the cooperative pool; still avoid having them wait on rows that other instances hold for long,
/// since the batch waits with them. The connection is used by one operation at a time: operations on one `PostgresInbox` wait for
/// each other, so open one `PostgresInbox` per concurrent worker.
///
/// ## Connection failures
/// If the connection broke since the last operation (the server restarted, a proxy closed it), the next operation
/// reconnects once (`PQreset`) before it fails. A batch whose connection breaks midway throws
/// ``InboxError/Code-swift.struct/commit``, and nothing of it is recorded.
public final class PostgresInbox: InboxStore {
    private let connection: PostgresConnection
    private let lock = AsyncLock()
    /// Where a batch runs, handlers included, so their synchronous statements block this thread and not the
    /// cooperative pool.
    private let executor: DatabaseExecutor

    /// Connects (blocking the calling thread while it does) and creates the inbox table if it is missing:
    /// `dabba_inbox (group_id text, event_id text, processed_at timestamptz DEFAULT now(),
    /// PRIMARY KEY (group_id, event_id))`, with an index on `processed_at` for ``purge(olderThan:)``, in the first
    /// schema of the connection's `search_path`.
    /// - Parameter connectionString: A libpq connection string, as keywords (`host=db port=5432 dbname=app
    ///   user=app`) or as a URI (`postgresql://app@db:5432/app?sslmode=require`). libpq's environment variables
    ///   (`PGHOST`, `PGPASSWORD`, …) fill in what it leaves out.
    /// - Throws: ``InboxError`` with code ``InboxError/Code-swift.struct/open`` and libpq's or PostgreSQL's
    ///   message if the server cannot be reached, refuses the login, or the table cannot be created.
    public init(connectionString: String) throws {
        connection = try PostgresConnection(connectionString: connectionString)
        try Self.createSchema(connection)
        // Last: a failed connection starts no thread.
        executor = DatabaseExecutor(name: "dabba.postgres")
    }

    deinit { executor.shutdown() }

    /// Connects on a thread of its own and creates the inbox table if it is missing, as
    /// ``init(connectionString:)`` does, without blocking the calling task's thread: from `async` code, a connection
    /// that waits (for the network, authentication, a busy server starting a backend) never holds one of Swift's
    /// cooperative threads, which every other task of the process needs.
    /// - Parameter connectionString: A libpq connection string (see ``init(connectionString:)``).
    /// - Returns: The connected inbox.
    /// - Throws: ``InboxError`` with code ``InboxError/Code-swift.struct/open`` as ``init(connectionString:)`` does.
    public static func connect(connectionString: String) async throws -> PostgresInbox {
        try await withCheckedThrowingContinuation { continuation in
            // A serial queue runs on libdispatch's overcommit threads, never on the cooperative pool's.
            DispatchQueue(label: "dabba.postgres.connect").async {
                continuation.resume(with: Result { try PostgresInbox(connectionString: connectionString) })
            }
        }
    }

    private static func createSchema(_ connection: PostgresConnection) throws {
        do {
            // Skipped when the table exists, so a role without CREATE privilege can use a provisioned table.
            let exists = try connection.query("SELECT to_regclass('dabba_inbox') IS NOT NULL")
            if exists.first?.first == .text("t") { return }
            // The advisory lock serializes instances starting together on a fresh database: concurrent
            // CREATE TABLE IF NOT EXISTS can otherwise fail on pg_type's unique index.
            try connection.execute(
                """
                BEGIN;
                SELECT pg_advisory_xact_lock(\(schemaLockKey));
                CREATE TABLE IF NOT EXISTS dabba_inbox (
                    group_id text NOT NULL,
                    event_id text NOT NULL,
                    processed_at timestamptz NOT NULL DEFAULT now(),
                    PRIMARY KEY (group_id, event_id)
                );
                CREATE INDEX IF NOT EXISTS dabba_inbox_processed_at ON dabba_inbox (processed_at);
                COMMIT;
                """
            )
        } catch let error as InboxError {
            _ = try? connection.command("ROLLBACK")
            throw InboxError(.open, "could not create the inbox table: \(error.message)")
        }
    }

    /// An arbitrary advisory lock key for creating the schema ("dabba" in ASCII).
    private static let schemaLockKey: Int64 = 0x64_61_62_62_61

    /// Runs statements outside any event: schema migrations for the service's own tables, reads for reports.
    ///
    /// Each statement commits on its own (autocommit); a statement without parameters may hold several statements,
    /// so `"BEGIN; …; COMMIT"` makes a migration atomic. `body` runs on the connection's queue, not on the
    /// cooperative pool, so a long migration blocks no Swift task.
    /// - Parameter body: Work with the database.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws (statements throw ``InboxError`` naming the SQL and PostgreSQL's message), or
    ///   ``InboxError/Code-swift.struct/open`` if a broken connection cannot be re-established.
    @discardableResult
    public func withDatabase<Result: Sendable>(
        _ body: @escaping @Sendable (InboxTransaction) throws -> Result
    ) async throws -> Result {
        await lock.acquire()
        defer { lock.release() }
        return try await connection.run { connection in
            try connection.reconnectIfBroken()
            return try body(PostgresTransaction(connection: connection))
        }
    }

    /// Processes a batch of events in one transaction; see
    /// ``InboxStore/processBatch(group:eventIDs:beforeCommit:_:)`` and the type's documentation for how concurrent
    /// instances are kept from processing an event twice.
    /// - Parameters:
    ///   - group: The consumer group.
    ///   - eventIDs: The batch's event ids, in processing order.
    ///   - beforeCommit: Runs just before the commit; if it throws, the batch is rolled back and its error rethrown.
    ///   - body: The handler for event `index`; its statements go through the ``InboxTransaction`` (`?`
    ///     placeholders, converted to `$1…$n`).
    /// - Returns: One outcome per event.
    /// - Throws: ``InboxError``: ``InboxError/Code-swift.struct/commit`` if the batch was rolled back (`COMMIT`
    ///   failed, e.g. on a deferred constraint, or an inbox statement or the connection failed midway), then nothing
    ///   of the batch is recorded; ``InboxError/Code-swift.struct/open`` or ``InboxError/Code-swift.struct/statement``
    ///   if the transaction could not begin.
    public func processBatch(
        group: String,
        eventIDs: [String],
        beforeCommit: (_ batch: InboxBatchEnd) async throws -> Void,
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        guard !eventIDs.isEmpty else { return [] }
        return try await executor.run {
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
        _ = try await connection.run { connection in try connection.reconnectingOnce { try $0.command("BEGIN") } }
        var outcomes: [InboxOutcome] = []
        outcomes.reserveCapacity(eventIDs.count)
        // `beforeCommit`'s error, rethrown as it is after the rollback.
        var refusal: (any Error)?
        do {
            for (index, eventID) in eventIDs.enumerated() {
                let marked = try await connection.run { connection in
                    try connection.command("SAVEPOINT dabba_event")
                    return try connection.execute(
                        "INSERT INTO dabba_inbox (group_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        [.text(group), .text(eventID)]
                    )
                }
                if marked == 0 {
                    _ = try await connection.run { try $0.command(Self.rollbackEvent) }
                    outcomes.append(.duplicate)
                    continue
                }
                // Only the handler's failure (including its own SQL) fails the event; the inbox's own statements
                // failing aborts the batch.
                var thrown: String?
                let transaction = PostgresTransaction(connection: connection, event: (group, eventID))
                do { try await body(index, transaction) } catch { thrown = String(describing: error) }
                let handlerFailure = thrown
                let failure = try await connection.run { connection -> String? in
                    var failure = handlerFailure
                    if failure == nil && connection.isTransactionFailed {
                        failure = "a statement of the handler failed and PostgreSQL aborted the event's savepoint: "
                            + connection.lastErrorMessage
                    }
                    try connection.command(failure == nil ? "RELEASE SAVEPOINT dabba_event" : Self.rollbackEvent)
                    return failure
                }
                outcomes.append(failure.map(InboxOutcome.failed) ?? .processed)
            }
            do {
                let transaction = PostgresTransaction(connection: connection)
                try await beforeCommit(InboxBatchEnd(transaction: transaction, outcomes: outcomes))
            } catch {
                refusal = error
            }
            if let refusal { throw refusal }
            let tag = try await connection.run { try $0.command("COMMIT") }
            // COMMIT of a transaction that had failed ends it with ROLLBACK instead, without an error.
            guard tag == "COMMIT" else {
                throw InboxError(.commit, "PostgreSQL answered COMMIT with \(tag): the batch was rolled back")
            }
        } catch {
            _ = try? await connection.run { try $0.command("ROLLBACK") }
            if let refusal { throw refusal }
            if let error = error as? InboxError, error.code == .commit { throw error }
            throw InboxError(.commit, "the inbox batch was rolled back: \(error)")
        }
        return outcomes
    }

    private static let rollbackEvent = "ROLLBACK TO SAVEPOINT dabba_event; RELEASE SAVEPOINT dabba_event"

    /// Whether an event is recorded as processed by a group.
    /// - Parameters:
    ///   - group: The consumer group.
    ///   - eventID: The event id.
    /// - Returns: Whether a committed batch recorded the event.
    /// - Throws: ``InboxError`` if the query fails.
    public func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (any InboxTransaction) throws -> Result
    ) async throws -> Result {
        try await withDatabase(body)
    }


    public func contains(group: String, eventID: String) async throws -> Bool {
        await lock.acquire()
        defer { lock.release() }
        return try await connection.run { connection in
            try connection.reconnectingOnce { connection in
                try !connection.query(
                    "SELECT 1 FROM dabba_inbox WHERE group_id = $1 AND event_id = $2", [.text(group), .text(eventID)]
                ).isEmpty
            }
        }
    }

    /// Deletes records older than the retention, returning how many were removed. Ages are measured on the
    /// server's clock, so instances with skewed clocks agree.
    /// - Parameter age: Records processed longer ago than this are removed; an event redelivered after that is
    ///   processed again, so keep it longer than Kafka can redeliver (the topic's retention).
    /// - Returns: How many records were removed.
    /// - Throws: ``InboxError`` if the statement fails.
    public func purge(olderThan age: Duration) async throws -> Int {
        let seconds = Double(age.components.seconds) + Double(age.components.attoseconds) / 1e18
        await lock.acquire()
        defer { lock.release() }
        return try await connection.run { connection in
            try connection.reconnectingOnce {
                try $0.execute(
                    "DELETE FROM dabba_inbox WHERE processed_at < now() - $1::double precision * interval '1 second'",
                    [.double(seconds)]
                )
            }
        }
    }
}

/// The handler's view of the connection during its savepoint (and the ``PostgresInbox/withDatabase(_:)`` body's).
struct PostgresTransaction: InboxTransaction {
    let connection: PostgresConnection
    /// The event in progress, whose mark `discardWrites()` restores; nil outside `processBatch`.
    var event: (group: String, eventID: String)?

    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        try connection.execute(sql, parameters)
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]] {
        try connection.query(sql, parameters)
    }

    func discardWrites() throws {
        guard let event else {
            throw InboxError(.statement, "discardWrites() undoes an event's writes: there is no event outside processBatch")
        }
        // The event's savepoint also holds its mark: roll both back (which also clears a failed statement's abort
        // state) and write the mark again.
        try connection.command("ROLLBACK TO SAVEPOINT dabba_event")
        _ = try connection.execute(
            "INSERT INTO dabba_inbox (group_id, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [.text(event.group), .text(event.eventID)]
        )
    }
}
