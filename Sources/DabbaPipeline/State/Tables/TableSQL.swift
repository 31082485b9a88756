import DabbaInbox
import Foundation

/// The tables' rows in the inbox database: portable SQL (SQLite and PostgreSQL) through an ``InboxTransaction``.
/// One table holds every table of every group, keyed by (group, table, key); values are JSON text.
enum TableSQL {
    static let create = """
        CREATE TABLE IF NOT EXISTS dabba_tables (
            group_id TEXT NOT NULL,
            table_name TEXT NOT NULL,
            table_key TEXT NOT NULL,
            value TEXT NOT NULL,
            updated_at BIGINT NOT NULL,
            PRIMARY KEY (group_id, table_name, table_key)
        )
        """

    static func upsert(
        group: String, key: TableKey, json: String, now: Int64, in database: any InboxTransaction
    ) throws {
        try database.execute(
            """
            INSERT INTO dabba_tables (group_id, table_name, table_key, value, updated_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (group_id, table_name, table_key)
            DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
            """,
            [.text(group), .text(key.table), .text(key.key), .text(json), .integer(now)]
        )
    }

    static func delete(group: String, key: TableKey, in database: any InboxTransaction) throws {
        try database.execute(
            "DELETE FROM dabba_tables WHERE group_id = ? AND table_name = ? AND table_key = ?",
            [.text(group), .text(key.table), .text(key.key)]
        )
    }

    /// A key's stored JSON, or nil.
    static func value(group: String, key: TableKey, in database: any InboxTransaction) throws -> String? {
        try database.query(
            "SELECT value FROM dabba_tables WHERE group_id = ? AND table_name = ? AND table_key = ?",
            [.text(group), .text(key.table), .text(key.key)]
        ).first?.first?.textValue
    }

    /// The stored keys starting with `prefix` and their JSON, in no particular order.
    static func scan(
        group: String, table: String, prefix: String, in database: any InboxTransaction
    ) throws -> [(key: String, json: String)] {
        let rows: [[SQLValue]]
        if prefix.isEmpty {
            rows = try database.query(
                "SELECT table_key, value FROM dabba_tables WHERE group_id = ? AND table_name = ?",
                [.text(group), .text(table)]
            )
        } else {
            // Both databases count characters (code points) in substr.
            rows = try database.query(
                """
                SELECT table_key, value FROM dabba_tables
                WHERE group_id = ? AND table_name = ? AND substr(table_key, 1, ?) = ?
                """,
                [.text(group), .text(table), .integer(Int64(prefix.unicodeScalars.count)), .text(prefix)]
            )
        }
        return try rows.map { row in
            guard row.count == 2, let key = row[0].textValue, let json = row[1].textValue else {
                throw TableError(.value, table: table, "a stored row has an unexpected shape: \(row.prefix(1))")
            }
            return (key, json)
        }
    }
}

/// Values as stored: JSON text.
enum TableCoding {
    static func encode<Value: Encodable>(_ value: Value, table: String) throws -> String {
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            throw TableError(.value, table: table, "a \(Value.self) could not be encoded as JSON: \(error)")
        }
    }

    static func decode<Value: Decodable>(
        _ type: Value.Type, from json: String, table: String, key: String
    ) throws -> Value {
        do {
            return try JSONDecoder().decode(Value.self, from: Data(json.utf8))
        } catch {
            throw TableError(
                .value, table: table,
                "the stored value of key '\(key)' is not a \(Value.self) (was the table declared with another type?): "
                    + "\(error)"
            )
        }
    }
}
