/// A table: the latest value per key of a stream of events (a compacted topic in production), kept in the inbox
/// database by the pipeline that declares it and read by its handlers.
///
/// A pipeline feeds a table from events it consumes (``Pipeline/table(_:from:_:)``): each event's change is written
/// in the same database transaction as the event's inbox mark, so the table is exact under redelivery and crashes,
/// and after a restart it is simply there (no topic is read again to rebuild it). Handlers read it through
/// ``EventContext/table(_:)``.
///
/// ```swift
/// struct Location: Codable, Sendable { var zone: String; var latitude: Double; var longitude: Double }
/// let locations = Table<Location>("driver-locations")
///
/// var pipeline = Pipeline(service: "dispatch", groupID: "dispatch")
/// pipeline.table(locations, from: DriverMoved.self) { moved in
///     .put(moved.driverID, Location(zone: moved.zone, latitude: moved.latitude, longitude: moved.longitude))
/// }
/// pipeline.table(locations, from: DriverWentOffline.self) { .delete($0.driverID) }
/// pipeline.on(RideRequested.self) { request, context in
///     let drivers = try context.table(locations).scan().filter { $0.value.zone == request.zone }
///     // …
/// }
/// ```
public struct Table<Value: Codable & Sendable>: Sendable, Hashable {
    /// The table's name, unique within the consumer group (rows are stored per group and name).
    public let name: String

    /// Names a table.
    /// - Parameters:
    ///   - name: The name (not empty), unique within the consumer group.
    ///   - valueType: The type of its values, stored as JSON.
    public init(_ name: String, of valueType: Value.Type = Value.self) {
        self.name = name
    }
}

/// What one event does to a table: sets a key's value, or deletes the key (a tombstone).
public struct TableUpdate<Value: Codable & Sendable>: Sendable {
    /// The key changed.
    public let key: String
    /// The new value; nil deletes the key.
    public let value: Value?

    /// Sets a key's value.
    /// - Parameters:
    ///   - key: The key.
    ///   - value: Its new value.
    /// - Returns: The update.
    public static func put(_ key: String, _ value: Value) -> TableUpdate { TableUpdate(key: key, value: value) }

    /// Deletes a key (a tombstone); deleting a key that is not there changes nothing.
    /// - Parameter key: The key.
    /// - Returns: The update.
    public static func delete(_ key: String) -> TableUpdate { TableUpdate(key: key, value: nil) }

    /// Sets a key's value, or deletes the key when `value` is nil (a record whose value is null is a tombstone).
    /// - Parameters:
    ///   - key: The key.
    ///   - value: Its new value, or nil to delete it.
    /// - Returns: The update.
    public static func set(_ key: String, _ value: Value?) -> TableUpdate { TableUpdate(key: key, value: value) }
}

/// One key of a table and its value.
public struct TableEntry<Value: Codable & Sendable>: Sendable {
    /// The key.
    public let key: String
    /// Its value.
    public let value: Value
}

extension TableEntry: Equatable where Value: Equatable {}

/// A table could not be read or written.
public struct TableError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The table is used without an inbox database, where tables live.
        public static let noInbox = Code("noInbox")
        /// A handler read a table its pipeline does not declare.
        public static let undeclared = Code("undeclared")
        /// A value could not be encoded to, or decoded from, its stored JSON.
        public static let value = Code("value")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// The table.
    public var table: String
    /// What went wrong, and how to fix it.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - table: The table's name.
    ///   - message: What went wrong.
    public init(_ code: Code, table: String, _ message: String) {
        self.code = code
        self.table = table
        self.message = message
    }

    public var description: String { "table '\(table)' \(code): \(message)" }
}
