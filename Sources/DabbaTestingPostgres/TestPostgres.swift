import DabbaInbox
import DabbaInboxPostgres
import DabbaSpawn
import DabbaTesting
import Foundation

#if canImport(Testing)
import Testing
#endif

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A PostgreSQL server for tests: an existing one, or a throwaway cluster started for the test run.
///
/// Either an existing server named by `DABBA_TEST_POSTGRES_URL` (a libpq URI or conninfo; the role needs CREATE on
/// the database), or a throwaway cluster: `initdb` into a temporary directory, `pg_ctl start` on a free loopback
/// port with the socket in that directory, `pg_ctl stop -m fast` and delete when the suite ends. As root, the
/// cluster's tools run as the `postgres` system user (else `nobody`) through `runuser`, since PostgreSQL refuses
/// to run as root. The binaries are found through `DABBA_PG_BIN`, then `PATH`, then `/usr/lib/postgresql/*/bin`
/// and Homebrew's `postgresql@*`.
///
/// One server serves a whole suite (the ``PostgresServerTrait`` trait, `.postgresServer`); each test gets a schema
/// of its own (``withFixture(_:)``), so tests run in parallel and leave nothing behind. A test that needs the
/// server itself (to share it between processes, say) calls ``start()`` and ``stop()``. A test process killed
/// before its suite ended leaves its cluster running: the next run stops and deletes it (its directory names the
/// dead pid).
///
/// ```swift
/// @Suite(.enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason), .postgresServer)
/// struct StoreTests {
///     @Test func writes() async throws {
///         try await TestPostgres.withFixture { postgres in
///             let inbox = try await postgres.open()   // search_path = the test's schema
///             …
///         }
///     }
/// }
/// ```
public final class TestPostgres: Sendable {
    /// The server the current suite uses, set by ``PostgresServerTrait``.
    @TaskLocal public static var current: TestPostgres?

    /// `DABBA_TEST_POSTGRES_URL`, if set.
    public static let externalURL: String? = {
        guard let url = ProcessInfo.processInfo.environment["DABBA_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }()

    /// The directory holding `initdb` and `pg_ctl`, or nil when PostgreSQL is not installed.
    public static let binDirectory: String? = locateBinaries()

    /// Whether PostgreSQL tests can run: `.enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason)`.
    public static var isAvailable: Bool { externalURL != nil || binDirectory != nil }

    /// Why PostgreSQL tests are skipped when ``isAvailable`` is false.
    public static let unavailableMessage = "PostgreSQL server binaries not found: make test installs them"

    /// A libpq connection string for the server's `postgres` database (or `DABBA_TEST_POSTGRES_URL`).
    public let connectionString: String
    /// The throwaway cluster, nil for an external server.
    private let cluster: Cluster?
    /// Creates and drops the tests' schemas.
    private let admin: PostgresInbox

    private init(connectionString: String, cluster: Cluster?, admin: PostgresInbox) {
        self.connectionString = connectionString
        self.cluster = cluster
        self.admin = admin
    }

    /// Connects the admin connection off the cooperative pool (see ``PostgresInbox/connect(connectionString:)``).
    private static func connect(_ connectionString: String, cluster: Cluster?) async throws -> TestPostgres {
        let admin = try await PostgresInbox.connect(connectionString: connectionString)
        return TestPostgres(connectionString: connectionString, cluster: cluster, admin: admin)
    }

    /// Connects to `DABBA_TEST_POSTGRES_URL`, or creates and starts a throwaway cluster.
    /// - Returns: The running server.
    /// - Throws: ``TestPostgresError`` when the binaries are missing or the cluster cannot start; libpq's error when
    ///   the server does not accept the connection.
    public static func start() async throws -> TestPostgres {
        if let externalURL { return try await connect(externalURL, cluster: nil) }
        guard let binDirectory else {
            throw TestPostgresError("PostgreSQL server binaries not found (set DABBA_PG_BIN or DABBA_TEST_POSTGRES_URL)")
        }
        let cluster = try await Cluster.start(binDirectory: binDirectory)
        do {
            return try await connect(cluster.connectionString, cluster: cluster)
        } catch {
            await cluster.stop()
            throw error
        }
    }

    /// Stops and deletes the throwaway cluster (nothing for an external server).
    public func stop() async {
        guard let cluster else { return }
        await cluster.stop()
    }

    /// Runs `body` with a fresh schema of its own on the current suite's server (``current``) and drops the schema
    /// afterwards, also when `body` throws.
    /// - Parameter body: The test, given connection details for the schema.
    /// - Returns: What `body` returns.
    /// - Throws: ``TestPostgresError`` outside a suite with the `.postgresServer` trait; what `body` throws.
    public static func withFixture<Result>(
        _ body: (PostgresFixture) async throws -> Result
    ) async throws -> Result {
        guard let current else {
            throw TestPostgresError("no PostgreSQL server: the suite needs the .postgresServer trait")
        }
        return try await current.withFixture(body)
    }

    /// Runs `body` with a fresh schema of its own on this server and drops the schema afterwards, also when `body`
    /// throws.
    /// - Parameter body: The test, given connection details for the schema.
    /// - Returns: What `body` returns.
    public func withFixture<Result>(
        _ body: (PostgresFixture) async throws -> Result
    ) async throws -> Result {
        let server = self
        let schema = "dabba_test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        _ = try await server.admin.withDatabase { try $0.execute("CREATE SCHEMA \(schema)") }
        let fixture = PostgresFixture(
            connectionString: server.connectionString(searchPath: schema), schema: schema, server: server
        )
        do {
            let result = try await body(fixture)
            try await server.dropSchema(schema)
            return result
        } catch {
            try? await server.dropSchema(schema)
            throw error
        }
    }

    /// Runs a statement outside any test schema, e.g. `pg_terminate_backend` or `CREATE SCHEMA`.
    /// - Parameters:
    ///   - sql: The statement.
    ///   - parameters: Its `$1`, `$2`, … values.
    /// - Returns: The rows.
    public func adminQuery(_ sql: String, _ parameters: [SQLValue] = []) async throws -> [[SQLValue]] {
        try await admin.withDatabase { try $0.query(sql, parameters) }
    }

    private func dropSchema(_ schema: String) async throws {
        _ = try await admin.withDatabase { try $0.execute("DROP SCHEMA \(schema) CASCADE") }
    }

    /// The connection string with `search_path` set to `schema`, so the inbox table and the test's tables live there.
    /// - Parameter schema: The schema (it must exist: see ``adminQuery(_:_:)``).
    /// - Returns: A libpq connection string in the form of ``connectionString`` (conninfo or URI).
    public func connectionString(searchPath schema: String) -> String {
        if connectionString.hasPrefix("postgres://") || connectionString.hasPrefix("postgresql://") {
            let separator = connectionString.contains("?") ? "&" : "?"
            return connectionString + separator + "options=-csearch_path%3D" + schema
        }
        return connectionString + " options='-csearch_path=\(schema)'"
    }

    /// A `postgres://` URL with `search_path` set to `schema`, for programs that take URLs rather than conninfo
    /// strings (the `--inbox` option of pipeline executables).
    /// - Parameter schema: The schema (it must exist: see ``adminQuery(_:_:)``).
    /// - Returns: The URL.
    /// - Throws: ``TestPostgresError`` when a conninfo ``connectionString`` names no port.
    public func url(searchPath schema: String) throws -> String {
        if connectionString.hasPrefix("postgres://") || connectionString.hasPrefix("postgresql://") {
            return connectionString(searchPath: schema)
        }
        var fields: [String: String] = [:]
        for pair in connectionString.split(separator: " ") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { fields[String(parts[0])] = String(parts[1]) }
        }
        guard let port = fields["port"] else { throw TestPostgresError("no port in \(connectionString)") }
        let host = fields["host"] ?? "127.0.0.1"
        let user = fields["user"] ?? "postgres"
        let database = fields["dbname"] ?? "postgres"
        return "postgres://\(user)@\(host):\(port)/\(database)?options=-csearch_path%3D\(schema)"
    }

    private static func locateBinaries() -> String? {
        let fileManager = FileManager.default
        func hasTools(_ directory: String) -> Bool {
            ["initdb", "pg_ctl"].allSatisfy { fileManager.isExecutableFile(atPath: directory + "/" + $0) }
        }
        let environment = ProcessInfo.processInfo.environment
        if let override = environment["DABBA_PG_BIN"], !override.isEmpty {
            return hasTools(override) ? override : nil
        }
        let path = (environment["PATH"] ?? "").split(separator: ":").map(String.init)
        if let found = path.first(where: hasTools) { return found }
        var candidates: [String] = []
        for root in ["/usr/lib/postgresql", "/opt/homebrew/opt", "/usr/local/opt"] {
            let names = (try? fileManager.contentsOfDirectory(atPath: root)) ?? []
            // Newest version first: "15" > "14", "postgresql@16" > "postgresql@15".
            let versions = names.filter { root == "/usr/lib/postgresql" || $0.hasPrefix("postgresql") }
                .sorted { $0.compare($1, options: .numeric) == .orderedDescending }
            candidates += versions.map { "\(root)/\($0)/bin" }
        }
        return candidates.first(where: hasTools)
    }
}

/// One test's database: a schema of its own on the suite's server.
public struct PostgresFixture: Sendable {
    /// Connects to the server with `search_path` set to ``schema``.
    public let connectionString: String
    /// The test's schema.
    public let schema: String
    /// The server.
    public let server: TestPostgres

    /// A new connection (and inbox) on the test's schema, made off Swift's cooperative pool: tests open connections
    /// in parallel, and a connection that waits for a busy server must not stop the other tests' tasks.
    /// - Returns: The inbox; its tables and the test's own live in ``schema``.
    /// - Throws: libpq's error when the connection fails.
    public func open() async throws -> PostgresInbox {
        try await PostgresInbox.connect(connectionString: connectionString)
    }
}

#if canImport(Testing)
extension TestPostgres {
    /// Why PostgreSQL tests are skipped: `.enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason)`.
    public static var unavailableReason: Comment { Comment(rawValue: unavailableMessage) }
}

/// Starts one ``TestPostgres`` for the suite it is attached to (and its nested suites), stopping it when the suite
/// ends, whether its tests passed or not. Use it as `.postgresServer`.
public struct PostgresServerTrait: SuiteTrait, TestScoping {
    /// Not recursive: one server for the suite and everything nested in it.
    public var isRecursive: Bool { false }

    /// Runs the suite with a started server as ``TestPostgres/current``.
    public func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        let server = try await TestPostgres.start()
        do {
            try await TestPostgres.$current.withValue(server) { try await function() }
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }
}

extension Trait where Self == PostgresServerTrait {
    /// Runs the suite against one PostgreSQL server; see ``TestPostgres``.
    public static var postgresServer: Self { Self() }
}
#endif

// MARK: - The throwaway cluster

/// A PostgreSQL cluster in a temporary directory, run by `pg_ctl`.
private struct Cluster: Sendable {
    /// Names the directories of clusters made by this code: `dabba-pg-<pid of the test process>-<random>`.
    static let directoryPrefix = "dabba-pg-"

    let binDirectory: String
    let directory: URL
    let port: Int
    /// The system user that runs the server when the tests run as root.
    let user: String?

    var dataDirectory: URL { directory.appendingPathComponent("data") }
    var connectionString: String { "host=127.0.0.1 port=\(port) user=postgres dbname=postgres connect_timeout=10" }

    /// Creates the cluster and starts the server on a free port, retrying with another port if it was taken in
    /// the meantime.
    static func start(binDirectory: String) async throws -> Cluster {
        await stopAbandonedClusters(binDirectory: binDirectory)
        let user = try serverUser()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("\(directoryPrefix)\(getpid())-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var cluster = Cluster(binDirectory: binDirectory, directory: directory, port: 0, user: user)
        do {
            if let user { try changeOwner(of: directory, to: user) }
            let initdb = try await cluster.tool(
                "initdb",
                ["-D", cluster.dataDirectory.path, "-U", "postgres", "--auth=trust", "-N", "-E", "UTF8", "--locale=C"]
            )
            guard initdb.status == 0 else { throw TestPostgresError("initdb failed:\n\(initdb.output)") }
            var failure = ""
            for _ in 0..<3 {
                cluster = Cluster(binDirectory: binDirectory, directory: directory, port: try TestHelpers.freeLoopbackPort(), user: user)
                let log = directory.appendingPathComponent("server.log")
                let options = [
                    "-p \(cluster.port)", "-k \(directory.path)", "-c listen_addresses=127.0.0.1",
                    // A test cluster need not survive a power cut.
                    "-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off",
                    // Tests that provoke a deadlock see it detected quickly.
                    "-c deadlock_timeout=100ms",
                ].joined(separator: " ")
                let started = try await cluster.tool(
                    "pg_ctl",
                    ["-D", cluster.dataDirectory.path, "-l", log.path, "-o", options, "-w", "-t", "30", "start"]
                )
                if started.status == 0 { return cluster }
                failure = started.output + "\n" + ((try? String(contentsOf: log, encoding: .utf8)) ?? "")
                // Lost the race for the port: try another one. Anything else is a real failure.
                guard failure.contains("could not bind") || failure.contains("already in use") else { break }
            }
            throw TestPostgresError("pg_ctl start failed:\n\(failure)")
        } catch {
            await cluster.stop()
            throw error
        }
    }

    /// Stops the server (fast shutdown: rolls back open transactions, disconnects clients) and deletes the cluster.
    public func stop() async {
        if FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("postmaster.pid").path) {
            let fast = try? await tool("pg_ctl", ["-D", dataDirectory.path, "-m", "fast", "-w", "-t", "20", "stop"])
            if fast?.status != 0 {
                _ = try? await tool("pg_ctl", ["-D", dataDirectory.path, "-m", "immediate", "-w", "stop"])
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Stops and deletes clusters whose test process no longer exists (killed before its suite ended).
    private static func stopAbandonedClusters(binDirectory: String) async {
        let temporary = FileManager.default.temporaryDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? []
        for name in names where name.hasPrefix(directoryPrefix) {
            let owner = name.dropFirst(directoryPrefix.count).split(separator: "-").first.flatMap { Int32($0) }
            guard let owner, owner != getpid(), kill(owner, 0) != 0, errno == ESRCH else { continue }
            let directory = temporary.appendingPathComponent(name)
            let user = (try? serverUser()) ?? nil
            await Cluster(binDirectory: binDirectory, directory: directory, port: 0, user: user).stop()
        }
    }

    /// Runs one of the PostgreSQL tools (as ``user`` when set) in the cluster directory and returns its exit status
    /// and output.
    private func tool(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let executable = binDirectory + "/" + name
        let outputPath = directory.appendingPathComponent("\(name)-\(UUID().uuidString.prefix(8)).out").path
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let command = try user.map { ["\(try Self.runuser())", "-u", $0, "--"] } ?? []
        let status = try await Self.spawnAndWait(
            command + [executable] + arguments, output: outputPath, directory: directory.path
        )
        return (status, (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "")
    }

    /// Runs a program to completion with stdin from /dev/null and stdout and stderr into the file `output`, in
    /// `directory`, and returns its exit status (128 + the signal if a signal ended it).
    ///
    /// Through `SpawnedProcess`, not Foundation's `Process`: on Linux that one learns that a child exited when a
    /// socket it passes to the child is closed, and the server that `pg_ctl start` leaves running inherits that
    /// socket, so `pg_ctl start` would never be seen to finish.
    private static func spawnAndWait(_ arguments: [String], output: String, directory: String) async throws -> Int32 {
        guard let program = arguments.first else { throw TestPostgresError("no program to run") }
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess(
                executable: program, arguments: Array(arguments.dropFirst()),
                environment: ProcessInfo.processInfo.environment, workingDirectory: directory,
                standardOutput: .file(output), standardError: nil
            )
        } catch {
            throw TestPostgresError("could not start \(program): \(error)")
        }
        let status = await process.waitForExit() ?? -1
        return process.wasKilledBySignal ? 128 + status : status
    }

    /// The user to run the server as: nil unless the tests run as root (PostgreSQL refuses root).
    private static func serverUser() throws -> String? {
        guard geteuid() == 0 else { return nil }
        let candidates: [String] = ["postgres", "nobody"]
        if let user = candidates.first(where: { getpwnam($0) != nil }) { return user }
        throw TestPostgresError("running as root, with neither a `postgres` nor a `nobody` user to run the server")
    }

    private static func runuser() throws -> String {
        let candidates = ["/usr/sbin/runuser", "/sbin/runuser", "/usr/bin/runuser"]
        guard let found = candidates.first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw TestPostgresError("running as root, and `runuser` (util-linux) was not found to run PostgreSQL")
        }
        return found
    }

    private static func changeOwner(of directory: URL, to user: String) throws {
        guard let entry = getpwnam(user) else { throw TestPostgresError("no user \(user)") }
        guard chown(directory.path, entry.pointee.pw_uid, entry.pointee.pw_gid) == 0 else {
            throw TestPostgresError("chown \(directory.path) to \(user) failed: errno \(errno)")
        }
    }
}

/// Why the test PostgreSQL server could not start or be used; the message says what failed and its output.
public struct TestPostgresError: Error, Sendable, CustomStringConvertible {
    /// What failed.
    public var description: String

    /// Creates the error.
    /// - Parameter description: What failed.
    public init(_ description: String) { self.description = description }
}
