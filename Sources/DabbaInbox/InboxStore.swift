/// A durable record of which events a consumer group has processed, written in the same database transaction as the
/// handler's own state, so an event's effects happen exactly once even when Kafka delivers it again (after a crash,
/// a rebalance, or a producer retry upstream).
///
/// Stores process events in batches: one transaction per batch, one savepoint per event, so a failing handler rolls
/// back only its own event's writes.
public protocol InboxStore: Sendable {
    /// Processes a batch of events in one transaction.
    ///
    /// For each event in order: if `(group, eventID)` is already recorded, its outcome is ``InboxOutcome/duplicate``
    /// and `body` is not called; otherwise `body` runs inside a savepoint with a ``InboxTransaction`` for the
    /// handler's own writes and the event is recorded. If `body` throws, the savepoint is rolled back and the outcome
    /// is ``InboxOutcome/failed(_:)``: nothing of that event is kept, and it is not recorded. The transaction commits
    /// once at the end, after `beforeCommit`; when this method returns, every ``InboxOutcome/processed`` event is
    /// durable.
    /// - Parameters:
    ///   - group: The consumer group.
    ///   - eventIDs: The batch's event ids, in processing order.
    ///   - beforeCommit: Runs after the last event, just before the commit, with the batch's transaction (outside
    ///     any event's savepoint) and every event's outcome: the place for writes that cover the whole batch (the
    ///     pipeline's tables write their conflated changes there), and the last moment to refuse the batch (the
    ///     pipeline waits there for the broker to acknowledge the events the handlers emitted). If it throws, the
    ///     whole batch is rolled back and its error is rethrown unchanged.
    ///   - body: The handler for event `index`.
    /// - Returns: One outcome per event.
    /// - Throws: `beforeCommit`'s error, or ``InboxError`` if the transaction cannot commit (in both cases nothing
    ///   of the batch is recorded).
    func processBatch(
        group: String,
        eventIDs: [String],
        beforeCommit: (_ batch: InboxBatchEnd) async throws -> Void,
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome]

    /// Whether an event is recorded as processed by a group.
    func contains(group: String, eventID: String) async throws -> Bool

    /// Runs statements outside any event's savepoint (each statement commits on its own), with exclusive use of
    /// the store's connection. Used for schema changes, reports and Dabba's own bookkeeping (the key order guard).
    /// - Parameter body: Work with the connection.
    /// - Returns: What `body` returns.
    @discardableResult
    func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (any InboxTransaction) throws -> Result
    ) async throws -> Result

    /// Runs schema statements for the service's own tables (portable SQL such as `CREATE TABLE IF NOT EXISTS`), each
    /// in order, before processing starts.
    /// - Parameter statements: The statements.
    func migrate(_ statements: [String]) async throws

    /// Deletes records older than the retention, returning how many were removed.
    /// - Parameter age: Records processed longer ago than this are removed.
    func purge(olderThan age: Duration) async throws -> Int
}

extension InboxStore {
    /// Processes a batch of events in one transaction, with nothing to check before the commit (see
    /// ``processBatch(group:eventIDs:beforeCommit:_:)``).
    /// - Parameters:
    ///   - group: The consumer group.
    ///   - eventIDs: The batch's event ids, in processing order.
    ///   - body: The handler for event `index`.
    /// - Returns: One outcome per event.
    /// - Throws: ``InboxError`` if the transaction cannot commit (then nothing of the batch is recorded).
    public func processBatch(
        group: String,
        eventIDs: [String],
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        try await processBatch(group: group, eventIDs: eventIDs, beforeCommit: { _ in }, body)
    }

    /// Processes a batch of events in one transaction, with a check before the commit that needs neither the
    /// transaction nor the outcomes (see ``processBatch(group:eventIDs:beforeCommit:_:)``).
    /// - Parameters:
    ///   - group: The consumer group.
    ///   - eventIDs: The batch's event ids, in processing order.
    ///   - beforeCommit: Runs just before the commit; if it throws, the batch is rolled back and its error rethrown.
    ///   - body: The handler for event `index`.
    /// - Returns: One outcome per event.
    /// - Throws: `beforeCommit`'s error, or ``InboxError`` if the transaction cannot commit.
    public func processBatch(
        group: String,
        eventIDs: [String],
        beforeCommit: () async throws -> Void,
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        try await processBatch(group: group, eventIDs: eventIDs, beforeCommit: { _ in try await beforeCommit() }, body)
    }

    /// Runs the statements in order on the store's connection (see ``withConnection(_:)``).
    public func migrate(_ statements: [String]) async throws {
        try await withConnection { database in
            for statement in statements { try database.execute(statement) }
        }
    }
}

/// The end of a batch, just before its commit (see ``InboxStore/processBatch(group:eventIDs:beforeCommit:_:)``).
public struct InboxBatchEnd: Sendable {
    /// The batch's transaction, outside any event's savepoint: what is written here commits (or rolls back) with
    /// the whole batch.
    public let transaction: any InboxTransaction
    /// The outcome of each event so far, in the batch's order: only ``InboxOutcome/processed`` events commit.
    public let outcomes: [InboxOutcome]

    /// Creates the end of a batch (stores call this; handlers never need to).
    /// - Parameters:
    ///   - transaction: The batch's transaction.
    ///   - outcomes: The events' outcomes.
    public init(transaction: any InboxTransaction, outcomes: [InboxOutcome]) {
        self.transaction = transaction
        self.outcomes = outcomes
    }
}

/// What happened to one event of a batch.
public enum InboxOutcome: Sendable, Equatable {
    /// The handler ran and the event is recorded.
    case processed
    /// The event was already recorded; the handler did not run.
    case duplicate
    /// The handler threw; its writes were rolled back and the event is not recorded.
    case failed(String)
}

/// The handler's access to the inbox's database inside the event's savepoint.
public protocol InboxTransaction: Sendable {
    /// Runs a statement with positional parameters (`?`).
    /// - Parameters:
    ///   - sql: The statement.
    ///   - parameters: Values for `?` placeholders.
    /// - Returns: The number of rows changed.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int
    /// Runs a query with positional parameters and returns its rows.
    /// - Parameters:
    ///   - sql: The query.
    ///   - parameters: Values for `?` placeholders.
    /// - Returns: The rows, each as column values in order.
    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]]
    /// Undoes everything the handler wrote for the current event so far, keeping the event open: the runtime calls
    /// it before retrying a handler in place, so an attempt's writes never add up with the next attempt's.
    /// - Throws: ``InboxError`` if the writes cannot be undone (then the event fails), or when there is no event
    ///   in progress (outside ``InboxStore/processBatch(group:eventIDs:_:)``).
    func discardWrites() throws
}

extension InboxTransaction {
    /// Runs a statement without parameters.
    @discardableResult
    public func execute(_ sql: String) throws -> Int { try execute(sql, []) }
    /// Runs a query without parameters.
    public func query(_ sql: String) throws -> [[SQLValue]] { try query(sql, []) }
}

/// A database value.
public enum SQLValue: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    /// NULL.
    case null
    /// An integer.
    case integer(Int64)
    /// A floating-point number.
    case double(Double)
    /// Text.
    case text(String)
    /// Bytes.
    case blob([UInt8])

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }

    /// The integer value, if this is an integer.
    public var integerValue: Int64? { if case .integer(let value) = self { value } else { nil } }
    /// The text value, if this is text.
    public var textValue: String? { if case .text(let value) = self { value } else { nil } }
    /// The floating-point value, if this is a number (an integer column value converts).
    public var doubleValue: Double? {
        switch self {
        case .double(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }
}

/// An inbox database failure.
public struct InboxError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The database could not be opened or connected to (PostgreSQL: also when the inbox table cannot be
        /// created). SQLite reports a file that is not a database, or a failed schema statement, as ``statement``.
        public static let open = Code("open")
        /// A statement failed.
        public static let statement = Code("statement")
        /// The batch transaction could not commit.
        public static let commit = Code("commit")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What failed, with the database's message.
    public var message: String

    /// Creates an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "inbox \(code): \(message)" }
}
