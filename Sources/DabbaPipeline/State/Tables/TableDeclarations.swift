import DabbaEvents

/// The tables a pipeline declares: each table's value type, and per event type the changes its events make.
struct TableDeclarations: Sendable {
    /// Per table name, the value types it was declared with (more than one is refused when the runner starts).
    private(set) var valueTypes: [String: Set<String>] = [:]
    /// Per event type, how its events change tables, in declaration order.
    private(set) var feeds: [String: [TableFeed]] = [:]

    /// The declared table names, sorted.
    var names: [String] { valueTypes.keys.sorted() }

    mutating func add(table: String, valueType: String, eventType: String, feed: TableFeed) {
        valueTypes[table, default: []].insert(valueType)
        feeds[eventType, default: []].append(feed)
    }
}

/// How events of one type change one table.
struct TableFeed: Sendable {
    /// The change an event makes, or nil for none.
    let change: @Sendable (DecodedEvent) throws -> TableChange?
}

/// One key of one table.
struct TableKey: Hashable, Sendable, Comparable {
    let table: String
    let key: String

    static func < (lhs: TableKey, rhs: TableKey) -> Bool { (lhs.table, lhs.key) < (rhs.table, rhs.key) }
}

/// A change an event makes to a table: a new value, or a deletion.
struct TableChange: Sendable {
    let key: TableKey
    /// The new value (nil deletes the key).
    let value: StagedValue?
}

/// A value waiting to be written: kept as its own type, so later handlers of the batch read it without decoding,
/// and encoded only if it is still the key's latest value when the batch commits.
struct StagedValue: Sendable {
    let value: any Sendable
    let encode: @Sendable () throws -> String
}

extension Pipeline {
    /// Keeps a table up to date from events of a type this pipeline consumes: for each event, `update` says which
    /// key it sets or deletes (or nil for no change). The change is written in the same inbox transaction as the
    /// event's mark, after the event's handler (if any) succeeded; an event that fails, or is a duplicate, changes
    /// nothing. Changes of one key within a batch are conflated into one write. Needs an inbox: the table lives in
    /// the inbox database (the runner refuses to start without one).
    ///
    /// The type need not have a handler: declaring a table from it is enough for its events to be consumed. A
    /// handler of the same type reads the table as it was before its own event's change.
    /// - Parameters:
    ///   - table: The table.
    ///   - type: The event type that feeds it (more than one type may feed a table).
    ///   - update: The key an event sets or deletes, or nil. A thrown error fails the event like a handler's.
    public mutating func table<E: Event, Value>(
        _ table: Table<Value>,
        from type: E.Type,
        _ update: @escaping @Sendable (E) throws -> TableUpdate<Value>?
    ) {
        registry.register(type)
        let name = table.name
        let feed = TableFeed { decoded in
            guard let event = decoded.payload(as: E.self) else {
                let actual = String(describing: Swift.type(of: decoded.payload))
                throw PermanentError(HandlerTypeMismatch(expected: E.eventType, actual: actual))
            }
            guard let update = try update(event) else { return nil }
            let staged = update.value.map { value in
                StagedValue(value: value) { try TableCoding.encode(value, table: name) }
            }
            return TableChange(key: TableKey(table: name, key: update.key), value: staged)
        }
        tables.add(table: name, valueType: String(reflecting: Value.self), eventType: E.eventType, feed: feed)
    }

    /// The names of the tables the pipeline keeps, sorted.
    public var tableNames: [String] { tables.names }
}
