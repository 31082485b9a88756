import DabbaInbox

extension EventContext {
    /// A table the pipeline keeps (see ``Pipeline/table(_:from:_:)``), as this event's handler sees it: the latest
    /// committed value of each key, with the changes of the events before this one in the same inbox transaction.
    /// - Parameter table: The table.
    /// - Returns: A reader for this event's transaction.
    /// - Throws: ``TableError``: `noInbox` when the pipeline has no inbox, `undeclared` when the pipeline does not
    ///   declare the table.
    public func table<Value>(_ table: Table<Value>) throws -> TableReader<Value> {
        guard let database, let batch = TableBatch.current else {
            throw TableError(
                .noInbox, table: table.name,
                "tables live in the inbox database: configure an inbox (SQLite or PostgreSQL)"
            )
        }
        guard batch.tables.names.contains(table.name) else {
            throw TableError(
                .undeclared, table: table.name,
                "the pipeline does not keep this table: declare it with pipeline.table(_:from:_:) (it keeps "
                    + (batch.tables.names.isEmpty ? "none" : batch.tables.names.sorted().joined(separator: ", ")) + ")"
            )
        }
        return TableReader(table: table, group: groupID, database: database, batch: batch)
    }
}

/// Reads a table inside an event's inbox transaction (see ``EventContext/table(_:)``). Reads go to the inbox
/// database (its primary key), after the changes the batch has staged and not written yet.
public struct TableReader<Value: Codable & Sendable>: Sendable {
    let table: Table<Value>
    let group: String
    let database: any InboxTransaction
    let batch: TableBatch

    /// A key's value.
    /// - Parameter key: The key.
    /// - Returns: Its latest value, or nil when the table has no such key (never set, or deleted).
    /// - Throws: ``TableError`` if the stored value cannot be decoded; ``DabbaInbox/InboxError`` if the query fails.
    public func get(_ key: String) throws -> Value? {
        let tableKey = TableKey(table: table.name, key: key)
        if let change = batch.staged(tableKey) { return try change.value.map(cast) }
        guard let json = try TableSQL.value(group: group, key: tableKey, in: database) else { return nil }
        return try TableCoding.decode(Value.self, from: json, table: table.name, key: key)
    }

    /// The keys starting with a prefix and their values, by key. Reads every matching row: meant for small tables
    /// or narrow prefixes (per zone, per account), not for walking millions of keys per event.
    /// - Parameter prefix: The keys' common start (empty for every key).
    /// - Returns: The entries, sorted by key.
    /// - Throws: ``TableError`` if a stored value cannot be decoded; ``DabbaInbox/InboxError`` if the query fails.
    public func scan(prefix: String = "") throws -> [TableEntry<Value>] {
        var values: [String: Value] = [:]
        for row in try TableSQL.scan(group: group, table: table.name, prefix: prefix, in: database) {
            values[row.key] = try TableCoding.decode(Value.self, from: row.json, table: table.name, key: row.key)
        }
        for change in batch.staged(table: table.name, prefix: prefix) {
            values[change.key.key] = try change.value.map(cast)
        }
        return values.sorted { $0.key < $1.key }.map { TableEntry(key: $0.key, value: $0.value) }
    }

    private func cast(_ staged: StagedValue) throws -> Value {
        guard let value = staged.value as? Value else {
            throw TableError(
                .value, table: table.name, "a staged value is a \(type(of: staged.value)), not a \(Value.self)"
            )
        }
        return value
    }
}

extension Table {
    /// The table's committed entries, read outside any event (reports, admin endpoints, tests).
    /// - Parameters:
    ///   - group: The consumer group whose pipeline keeps the table.
    ///   - inbox: The inbox holding it.
    ///   - prefix: The keys' common start (empty for every key).
    /// - Returns: The entries, sorted by key.
    /// - Throws: ``TableError`` if a stored value cannot be decoded; ``DabbaInbox/InboxError`` if the query fails.
    public func entries(
        group: String, in inbox: any InboxStore, prefix: String = ""
    ) async throws -> [TableEntry<Value>] {
        let name = self.name
        let rows = try await inbox.withConnection { database in
            try TableSQL.scan(group: group, table: name, prefix: prefix, in: database)
        }
        return try rows.sorted { $0.key < $1.key }.map { row in
            let value = try TableCoding.decode(Value.self, from: row.json, table: name, key: row.key)
            return TableEntry(key: row.key, value: value)
        }
    }
}
