import DabbaInbox
import Foundation

/// Reads a service's store (SQLite or PostgreSQL) after a run (the service must be stopped, or at least idle): duplicate effects,
/// order states, notifications.
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

    /// Side effects applied more than once (0 when every effect happened exactly once).
    public func duplicateEffects() async throws -> Int {
        try await integer(FoodStore.duplicateEffectsQuery)
    }

    /// Each order's state in this service's view.
    public func orderStates() async throws -> [String: String] {
        try await store.withConnection { database in
            var states: [String: String] = [:]
            for row in try database.query("SELECT order_id, state FROM order_states") {
                if case .text(let order) = row[0], case .text(let state) = row[1] { states[order] = state }
            }
            return states
        }
    }

    /// The states each order passed through, in this service's view.
    public func passedStates() async throws -> [String: [String]] {
        try await store.withConnection { database in
            var passed: [String: [String]] = [:]
            for row in try database.query("SELECT order_id, passed FROM order_states") {
                if case .text(let order) = row[0], case .text(let history) = row[1] {
                    passed[order] = history.split(separator: ",").map(String.init)
                }
            }
            return passed
        }
    }

    /// Runs a one-integer query (`SELECT COUNT(*) …`).
    /// - Parameter sql: The query.
    /// - Returns: Its single value (0 for none).
    public func integer(_ sql: String) async throws -> Int {
        try await store.withConnection { database in
            if let row = try database.query(sql).first, case .integer(let value) = row[0] { return Int(value) }
            return 0
        }
    }

    /// Runs a query returning text/integer rows, rendered as strings.
    /// - Parameter sql: The query.
    /// - Returns: The rows.
    public func rows(_ sql: String) async throws -> [[String]] {
        try await store.withConnection { database in
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
}
