internal import CLibPQ
import DabbaInbox
import Dispatch
import Synchronization

/// One libpq connection (`PGconn`) and the serial queue its blocking calls run on.
///
/// libpq calls block the calling thread until the server answers (a statement can wait for another instance's row
/// lock for as long as that instance's transaction lasts), so ``run(_:)`` moves them off Swift's cooperative thread
/// pool onto `queue`, a dedicated serial `DispatchQueue`, and resumes the caller through a continuation.
final class PostgresConnection: @unchecked Sendable {
    // @unchecked: a PGconn is not thread-safe. `handle` is used by one thread at a time: PostgresInbox holds its
    // AsyncLock for the whole of every operation, and within an operation statements run one after the other (on
    // `queue`, or on the handler's task for the handler's own statements). `cancelState` is behind a Mutex and is
    // the only state `cancelRunningStatement()` touches from another thread.

    private let handle: OpaquePointer
    private let queue: DispatchQueue
    /// The cancel key for the current backend (replaced on reconnect) and whether a statement is running on `queue`.
    private let cancelState = Mutex(CancelState())

    private struct CancelState: @unchecked Sendable {
        // @unchecked: the PGcancel pointer is only used under the Mutex; PQcancel is thread-safe by design.
        var cancel: OpaquePointer?
        var statementRunning = false
    }

    /// Connects, blocking the calling thread.
    /// - Parameter connectionString: A libpq conninfo (`host=… dbname=…`) or URI (`postgresql://…`).
    /// - Throws: ``InboxError/Code-swift.struct/open`` with libpq's message.
    init(connectionString: String) throws {
        guard let handle = PQconnectdb(connectionString) else {
            throw InboxError(.open, "could not connect to PostgreSQL: libpq is out of memory")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(handle))
            PQfinish(handle)
            throw InboxError(.open, "could not connect to PostgreSQL: \(message)")
        }
        self.handle = handle
        queue = DispatchQueue(label: "dabba.inbox.postgres")
        configureSession()
    }

    deinit {
        cancelState.withLock { state in
            if let cancel = state.cancel { PQfreeCancel(cancel) }
            state.cancel = nil
        }
        PQfinish(handle)
    }

    // MARK: Running on the connection's queue

    /// Runs blocking libpq work on the connection's queue and waits for it without blocking a cooperative thread.
    ///
    /// Cancelling the calling task sends PostgreSQL a cancel request for the statement then running, so a statement
    /// waiting for a lock does not keep a shutting-down service waiting; the statement then fails.
    /// - Parameter work: The work; it gets the connection for exclusive use.
    /// - Returns: What `work` returns.
    /// - Throws: What `work` throws.
    func run<T: Sendable>(_ work: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                queue.async {
                    self.cancelState.withLock { $0.statementRunning = true }
                    let result = Result { try work(self) }
                    self.cancelState.withLock { $0.statementRunning = false }
                    continuation.resume(with: result)
                }
            }
        } onCancel: {
            cancelRunningStatement()
        }
    }

    /// Asks the server to cancel the statement running on `queue`, if any. Safe from any thread.
    private func cancelRunningStatement() {
        cancelState.withLock { state in
            guard state.statementRunning, let cancel = state.cancel else { return }
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(cancel, &buffer, Int32(buffer.count))
        }
    }

    // MARK: Connection state

    /// Whether libpq considers the connection usable. A connection the server closed is only noticed as broken
    /// after a statement fails on it.
    var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Whether the current transaction failed and ignores statements until a rollback.
    var isTransactionFailed: Bool { PQtransactionStatus(handle) == PQTRANS_INERROR }

    /// Reconnects once (PQreset) if the connection is broken.
    /// - Throws: ``InboxError/Code-swift.struct/open`` if the reconnect fails.
    func reconnectIfBroken() throws {
        guard !isConnected else { return }
        PQreset(handle)
        guard isConnected else {
            throw InboxError(.open, "lost the connection to PostgreSQL and could not reconnect: \(lastErrorMessage)")
        }
        configureSession()
    }

    /// Runs `work`; if it fails because the connection broke (the server restarted, an idle connection was closed),
    /// reconnects once and runs it again. Only for work that is safe to repeat: the first statement of an operation.
    func reconnectingOnce<T>(_ work: (PostgresConnection) throws -> T) throws -> T {
        try reconnectIfBroken()
        do {
            return try work(self)
        } catch where !isConnected {
            try reconnectIfBroken()
            return try work(self)
        }
    }

    /// libpq's message for the last failure on this connection.
    var lastErrorMessage: String { Self.trimmed(PQerrorMessage(handle)) }

    private func configureSession() {
        // libpq prints notices ("relation … already exists, skipping") to stderr by default; a library stays quiet.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        PQsetClientEncoding(handle, "UTF8")
        let cancel = PQgetCancel(handle)
        cancelState.withLock { state in
            if let old = state.cancel { PQfreeCancel(old) }
            state.cancel = cancel
        }
    }

    // MARK: Statements

    /// Runs a statement and returns the number of rows it changed (0 for statements without a count).
    ///
    /// With parameters, `?` placeholders are numbered `$1…$n` (see ``PostgresPlaceholders``) and the statement runs
    /// through `PQexecParams` with text-format values. Without parameters it runs through `PQexec`, so `sql` may
    /// hold several statements (a migration script); the count is then the last statement's.
    /// - Throws: ``InboxError/Code-swift.struct/statement`` naming the SQL and PostgreSQL's message.
    @discardableResult
    func execute(_ sql: String, _ parameters: [SQLValue] = []) throws -> Int {
        let result = try exec(sql, parameters)
        defer { PQclear(result) }
        return Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// Runs a query and returns its rows, each value converted by its column's type (see ``PostgresValues``).
    /// - Throws: ``InboxError/Code-swift.struct/statement`` naming the SQL and PostgreSQL's message.
    func query(_ sql: String, _ parameters: [SQLValue] = []) throws -> [[SQLValue]] {
        let result = try exec(sql, parameters)
        defer { PQclear(result) }
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        let types = (0..<columnCount).map { PQftype(result, $0) }
        var rows: [[SQLValue]] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            rows.append(
                (0..<columnCount).map { column in
                    if PQgetisnull(result, row, column) != 0 { return .null }
                    guard let value = PQgetvalue(result, row, column) else { return .null }
                    let length = Int(PQgetlength(result, row, column))
                    return PostgresValues.decode(value, length: length, type: types[Int(column)])
                }
            )
        }
        return rows
    }

    /// Runs a command and returns its command tag (`COMMIT`, `ROLLBACK`, `INSERT 0 1`, …).
    /// - Throws: ``InboxError/Code-swift.struct/statement`` naming the SQL and PostgreSQL's message.
    @discardableResult
    func command(_ sql: String) throws -> String {
        let result = try exec(sql, [])
        defer { PQclear(result) }
        return String(cString: PQcmdStatus(result))
    }

    /// Runs `sql` and returns its successful result, to be cleared by the caller.
    private func exec(_ sql: String, _ parameters: [SQLValue]) throws -> OpaquePointer {
        let result: OpaquePointer?
        if parameters.isEmpty {
            result = PQexec(handle, sql)
        } else {
            let statement = try PostgresPlaceholders.numbered(sql, parameterCount: parameters.count)
            result = PostgresValues.withEncoded(parameters) { types, values, formats in
                PQexecParams(handle, statement, Int32(parameters.count), types, values, nil, formats, 0)
            }
        }
        guard let result else {
            throw InboxError(.statement, "\(lastErrorMessage) — in: \(sql.prefix(200))")
        }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY else {
            let message = Self.describeFailure(result, connection: handle)
            PQclear(result)
            throw InboxError(.statement, "\(message) — in: \(sql.prefix(200))")
        }
        return result
    }

    /// PostgreSQL's primary message, SQLSTATE and detail, or libpq's message when the server sent none.
    private static func describeFailure(_ result: OpaquePointer, connection: OpaquePointer) -> String {
        func field(_ code: UInt8) -> String? {
            PQresultErrorField(result, Int32(code)).map { String(cString: $0) }
        }
        // PG_DIAG_MESSAGE_PRIMARY 'M', PG_DIAG_SQLSTATE 'C', PG_DIAG_MESSAGE_DETAIL 'D' (char macros).
        guard let primary = field(UInt8(ascii: "M")) else {
            let message = trimmed(PQresultErrorMessage(result))
            return message.isEmpty ? trimmed(PQerrorMessage(connection)) : message
        }
        var message = primary
        if let state = field(UInt8(ascii: "C")) { message += " (SQLSTATE \(state))" }
        if let detail = field(UInt8(ascii: "D")) { message += "; \(detail)" }
        return message
    }

    private static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "unknown error" }
        var text = String(cString: message)
        while text.last?.isWhitespace == true { text.removeLast() }
        return text
    }
}
