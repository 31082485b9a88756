internal import CSQLite
import Foundation

/// One SQLite connection. Used by one thread at a time: ``SQLiteInbox`` serializes access.
final class SQLiteConnection: @unchecked Sendable {
    // The handle is only used while SQLiteInbox's lock is held.
    private let handle: OpaquePointer
    private var statements: [String: OpaquePointer] = [:]

    init(path: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX
        let result = sqlite3_open_v2(path, &handle, flags, nil)
        guard result == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            if let handle { sqlite3_close_v2(handle) }
            throw InboxError(.open, "could not open SQLite database '\(path)': \(message)")
        }
        self.handle = handle
        sqlite3_busy_timeout(handle, 5000)
    }

    deinit {
        for statement in statements.values { sqlite3_finalize(statement) }
        sqlite3_close_v2(handle)
    }

    var changes: Int { Int(sqlite3_changes(handle)) }

    /// Runs one or more statements without parameters.
    func executeScript(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(handle, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            throw InboxError(.statement, "\(message) — in: \(sql.prefix(200))")
        }
    }

    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue]) throws -> Int {
        let statement = try prepared(sql)
        defer { sqlite3_reset(statement) }
        try bind(parameters, to: statement, sql: sql)
        var result = sqlite3_step(statement)
        while result == SQLITE_ROW { result = sqlite3_step(statement) }
        guard result == SQLITE_DONE else { throw failure(sql) }
        return changes
    }

    func query(_ sql: String, _ parameters: [SQLValue]) throws -> [[SQLValue]] {
        let statement = try prepared(sql)
        defer { sqlite3_reset(statement) }
        try bind(parameters, to: statement, sql: sql)
        var rows: [[SQLValue]] = []
        while true {
            let result = sqlite3_step(statement)
            if result == SQLITE_DONE { break }
            guard result == SQLITE_ROW else { throw failure(sql) }
            let columns = sqlite3_column_count(statement)
            rows.append((0..<columns).map { column(statement, $0) })
        }
        return rows
    }

    /// Runs a statement whose parameters are two texts (`?1`, `?2`) and, when given, an integer (`?3`): the inbox's
    /// per-event statements. The texts are bound without copying them (they outlive the step), and the statement
    /// comes from `handle`, prepared once, instead of the cache keyed by SQL text.
    /// - Returns: The number of rows changed.
    @discardableResult
    func execute(_ handle: StatementHandle, _ first: String, _ second: String, _ third: Int64? = nil) throws -> Int {
        let statement = try handle.statement ?? prepareOnce(handle)
        var first = first
        var second = second
        let result = first.withUTF8 { firstBytes in
            second.withUTF8 { secondBytes in
                defer {
                    sqlite3_reset(statement)
                    sqlite3_clear_bindings(statement)
                }
                var bound = Self.bindInPlace(firstBytes, to: statement, at: 1)
                if bound == SQLITE_OK { bound = Self.bindInPlace(secondBytes, to: statement, at: 2) }
                if bound == SQLITE_OK, let third { bound = sqlite3_bind_int64(statement, 3, third) }
                guard bound == SQLITE_OK else { return bound }
                var result = sqlite3_step(statement)
                while result == SQLITE_ROW { result = sqlite3_step(statement) }
                return result
            }
        }
        guard result == SQLITE_DONE else { throw failure(handle.sql) }
        return changes
    }

    /// Binds text that stays valid until the statement's bindings are cleared (SQLITE_STATIC: no copy).
    private static func bindInPlace(_ bytes: UnsafeBufferPointer<UInt8>, to statement: OpaquePointer, at index: Int32)
        -> Int32
    {
        guard let base = bytes.baseAddress else {
            // An empty string may have no storage; a NULL pointer would bind SQL NULL, not ''.
            return sqlite3_bind_text(statement, index, "", 0, unsafeBitCast(-1, to: sqlite3_destructor_type.self))
        }
        return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
            // nil is SQLITE_STATIC.
            sqlite3_bind_text(statement, index, $0, Int32(bytes.count), nil)
        }
    }

    private func prepareOnce(_ handle: StatementHandle) throws -> OpaquePointer {
        let statement = try prepared(handle.sql)
        handle.statement = statement
        return statement
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure(sql)
        }
        statements[sql] = statement
        return statement
    }

    private func bind(_ parameters: [SQLValue], to statement: OpaquePointer, sql: String) throws {
        sqlite3_clear_bindings(statement)
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (offset, value) in parameters.enumerated() {
            let index = Int32(offset + 1)
            let result: Int32
            switch value {
            case .null: result = sqlite3_bind_null(statement, index)
            case .integer(let number): result = sqlite3_bind_int64(statement, index, number)
            case .double(let number): result = sqlite3_bind_double(statement, index, number)
            case .text(let text): result = sqlite3_bind_text(statement, index, text, -1, transient)
            case .blob(let bytes):
                result = bytes.withUnsafeBytes { sqlite3_bind_blob(statement, index, $0.baseAddress, Int32($0.count), transient) }
            }
            guard result == SQLITE_OK else { throw failure(sql) }
        }
    }

    private func column(_ statement: OpaquePointer, _ index: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(statement, index))
        case SQLITE_TEXT:
            return .text(sqlite3_column_text(statement, index).map { String(cString: $0) } ?? "")
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(statement, index))
            guard let bytes = sqlite3_column_blob(statement, index) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default: return .null
        }
    }

    private func failure(_ sql: String) -> InboxError {
        InboxError(.statement, "\(String(cString: sqlite3_errmsg(handle))) — in: \(sql.prefix(200))")
    }
}

/// A statement run for every event, prepared on first use and then reused without looking its SQL up. Use it with
/// one ``SQLiteConnection`` only: the prepared statement lives in that connection's cache, which finalizes it.
final class StatementHandle: @unchecked Sendable {
    // Only read and written by the owning connection, under SQLiteInbox's lock.
    fileprivate var statement: OpaquePointer?
    let sql: String

    init(_ sql: String) { self.sql = sql }
}
