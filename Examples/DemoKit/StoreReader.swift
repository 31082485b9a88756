import DabbaInbox

/// Reads a service's store (SQLite, or a PostgreSQL one shared by several instances) during or after a run: the
/// demo's and tests' way to check what the services recorded. Reads run outside any event's transaction.
public struct StoreReader: Sendable {
    private let store: any InboxStore

    /// Opens a SQLite store.
    /// - Parameter path: The SQLite file.
    /// - Throws: ``InboxError`` when it cannot be opened.
    public init(path: String) throws {
        store = try SQLiteInbox(path: path)
    }

    /// Reads another store (a PostgreSQL one shared by several instances).
    /// - Parameter store: The store.
    public init(store: any InboxStore) {
        self.store = store
    }

    /// Runs a one-integer query (`SELECT COUNT(*) …`).
    /// - Parameter sql: The query.
    /// - Returns: Its single value (0 for none).
    /// - Throws: ``InboxError`` naming the statement.
    public func integer(_ sql: String) async throws -> Int {
        try await read { database in
            if let row = try database.query(sql).first, case .integer(let value) = row[0] { return Int(value) }
            return 0
        }
    }

    /// Runs a query, its values rendered as strings (NULL as the empty string).
    /// - Parameter sql: The query.
    /// - Returns: The rows.
    /// - Throws: ``InboxError`` naming the statement.
    public func rows(_ sql: String) async throws -> [[String]] {
        try await read { database in
            try database.query(sql).map { row in
                row.map { value in
                    switch value {
                    case .null: ""
                    case .integer(let number): String(number)
                    case .double(let number): String(number)
                    case .text(let text): text
                    default: "\(value)"
                    }
                }
            }
        }
    }

    /// Reads with the store's connection.
    /// - Parameter body: The reads.
    /// - Returns: What `body` returns.
    /// - Throws: What `body` throws.
    public func read<Result: Sendable>(
        _ body: @escaping @Sendable (any InboxTransaction) throws -> Result
    ) async throws -> Result {
        try await store.withConnection(body)
    }
}
