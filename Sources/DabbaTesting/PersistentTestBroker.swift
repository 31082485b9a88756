import DabbaKafka
import DabbaSpawn
import Foundation
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real, persistent Kafka-protocol broker for tests that the embedded broker cannot serve: admin APIs
/// (CreateTopics, DescribeConfigs, …) and faithful transactions (aborted records hidden from `read_committed`,
/// transactional offset commits).
///
/// It is noida-db (PyPI `noida-db`), started as a child process on a free loopback port with a fresh data directory,
/// and stopped (SIGTERM, then SIGKILL) when the test is done. Startup takes tens of milliseconds, so every test gets
/// its own server through ``with(_:)``: no state leaks between tests, and a crashed group member (which noida-db
/// never expires) cannot disturb another test.
///
/// The binary is found through the environment variable `DABBA_NOIDA_DB`, or else through the installed Python
/// package. When neither has it, tests that need it should be skipped, never silently, and never fail:
///
/// ```swift
/// @Suite(.enabled(if: PersistentTestBroker.isAvailable, Comment(rawValue: PersistentTestBroker.unavailableMessage)))
/// ```
///
/// (``unavailableMessage`` is a `String`, as `TestPostgres.unavailableMessage` is: DabbaTesting does not link Swift
/// Testing, because the `dabba` CLI links it for `dabba bench`.)
public final class PersistentTestBroker: Sendable {

    /// The noida-db executable, or nil when it is not installed.
    public static let binaryPath: String? = locateBinary()

    /// Whether noida-db is installed; use as `.enabled(if: PersistentTestBroker.isAvailable, …)`.
    public static var isAvailable: Bool { binaryPath != nil }

    /// Why tests using the persistent broker are skipped when ``isAvailable`` is false (for a trait:
    /// `Comment(rawValue: PersistentTestBroker.unavailableMessage)`).
    public static var unavailableMessage: String {
        if let path = ProcessInfo.processInfo.environment["DABBA_NOIDA_DB"], !path.isEmpty {
            return "noida-db is not installed: DABBA_NOIDA_DB=\(path) is not an executable file"
        }
        return """
            noida-db is not installed: `pip install noida-db==0.2.3` (run by `make test`), \
            or point DABBA_NOIDA_DB at its binary
            """
    }

    /// `127.0.0.1:port`.
    public let bootstrapServers: String
    /// How long the server took to accept connections.
    public let startupTime: Duration
    private let process: SpawnedProcess
    private let dataDirectory: URL
    private let stopped = Mutex(false)

    private init(process: SpawnedProcess, port: Int, dataDirectory: URL, startupTime: Duration) {
        self.process = process
        self.bootstrapServers = "127.0.0.1:\(port)"
        self.dataDirectory = dataDirectory
        self.startupTime = startupTime
    }

    deinit {
        // Normally stopped by `with`; this only guards against a leaked server.
        process.signal(SIGKILL)
    }

    /// Starts a server, runs `body` with it, and stops it, also when `body` throws.
    /// - Parameter body: The test.
    /// - Returns: What `body` returns.
    public static func with<Result>(_ body: (PersistentTestBroker) async throws -> Result) async throws -> Result {
        let broker = try await start()
        let result: Result
        do {
            result = try await body(broker)
        } catch {
            await broker.stop()
            throw error
        }
        await broker.stop()
        return result
    }

    /// Starts a server on a free port with a fresh data directory and waits (at most 20 s) until it accepts
    /// connections. A port taken between choosing and binding it is retried with another.
    public static func start() async throws -> PersistentTestBroker {
        guard let binary = binaryPath else { throw PersistentBrokerError(unavailableMessage) }
        var lastFailure = ""
        for _ in 0..<3 {
            let port = try TestHelpers.freeLoopbackPort()
            let dataDirectory = FileManager.default.temporaryDirectory
                .appendingPathComponent("dabba-noida-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
            let logURL = dataDirectory.appendingPathComponent("server.log")
            _ = FileManager.default.createFile(atPath: logURL.path, contents: nil)
            let clock = ContinuousClock()
            let began = clock.now
            // Started with no signal blocked (SpawnedProcess): Swift's threads block SIGTERM, and noida-db started
            // with that mask would ignore it and outlive its grace period.
            let process = try SpawnedProcess(
                executable: binary,
                arguments: [
                    "start", "--only", "kafka", "--kafka-port", String(port), "--host", "127.0.0.1",
                    "--data-dir", dataDirectory.path,
                ],
                environment: ProcessInfo.processInfo.environment, standardOutput: .file(logURL.path),
                standardError: nil
            )
            let deadline = began.advanced(by: .seconds(20))
            while process.isRunning, clock.now < deadline, !acceptsConnections(port: port) {
                try await Task.sleep(for: .milliseconds(10))
            }
            let output = (try? String(contentsOf: logURL, encoding: .utf8)) ?? ""
            if process.isRunning, acceptsConnections(port: port) {
                return PersistentTestBroker(
                    process: process, port: port, dataDirectory: dataDirectory, startupTime: clock.now - began
                )
            }
            process.signal(SIGTERM)
            _ = await process.waitForExit()
            try? FileManager.default.removeItem(at: dataDirectory)
            lastFailure = output
            // Lost the race for the port: try another one. Anything else is a real failure.
            guard output.contains("already in use") else { break }
        }
        throw PersistentBrokerError("noida-db did not start within 20 s; its output:\n\(lastFailure)")
    }

    /// Stops the server (SIGTERM, SIGKILL after 5 s) and deletes its data.
    public func stop() async {
        let alreadyStopped = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !alreadyStopped else { return }
        process.signal(SIGTERM)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(5))
        while process.isRunning, clock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        process.signal(SIGKILL)
        _ = await process.waitForExit()
        try? FileManager.default.removeItem(at: dataDirectory)
    }

    // MARK: - Helpers

    private static func locateBinary() -> String? {
        if let path = ProcessInfo.processInfo.environment["DABBA_NOIDA_DB"], !path.isEmpty {
            return FileManager.default.isExecutableFile(atPath: path) ? path : nil
        }
        // The Python package ships the real server binary next to its module; the `noida-db` console script is a
        // Python wrapper that does not forward signals, so it is not what we launch.
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-noida-path-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: output) }
        guard
            let python = try? SpawnedProcess(
                executable: "/usr/bin/env",
                arguments: [
                    "python3", "-c",
                    "import noida_db, os; print(os.path.join(os.path.dirname(noida_db.__file__), 'noida-db'))",
                ],
                environment: ProcessInfo.processInfo.environment, standardOutput: .file(output.path),
                standardError: .discard
            ),
            python.waitForExitBlocking() == 0, let data = FileManager.default.contents(atPath: output.path)
        else { return nil }
        let path = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return FileManager.default.isExecutableFile(atPath: path) ? path : nil
    }

    /// Whether a TCP connection to the loopback port succeeds (instant on loopback: refused or accepted).
    private static func acceptsConnections(port: Int) -> Bool {
        let socketFD = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0 else { return false }
        defer { close(socketFD) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketFD, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// Why the persistent broker could not start.
public struct PersistentBrokerError: Error, CustomStringConvertible {
    /// What went wrong, with the server's output.
    public var description: String
    init(_ description: String) { self.description = description }
}

// MARK: - Clients for the persistent broker

extension PersistentTestBroker {
    /// Producer settings for this broker, with a short linger so tests run quickly.
    public func producerConfiguration(transactionalID: String? = nil) -> ProducerConfiguration {
        var configuration = ProducerConfiguration(bootstrap: bootstrapServers)
        configuration.linger = .milliseconds(1)
        configuration.messageTimeout = .seconds(30)
        configuration.transactionalID = transactionalID
        return configuration
    }

    /// Consumer settings for this broker (read_committed, earliest) with short intervals so tests run quickly.
    public func consumerConfiguration(group: String) -> ConsumerConfiguration {
        var configuration = ConsumerConfiguration(bootstrap: bootstrapServers, groupID: group)
        configuration.commitInterval = .milliseconds(200)
        configuration.sessionTimeout = .seconds(6)
        configuration.client.properties["heartbeat.interval.ms"] = "500"
        configuration.client.properties["topic.metadata.refresh.interval.ms"] = "1000"
        return configuration
    }

    /// An admin client for this broker.
    /// - Parameter logger: Where the client's log lines go.
    public func admin(logger: Logger = Logger(label: "dabba.test.admin")) throws -> KafkaAdmin {
        try KafkaAdmin(configuration: ClientConfiguration(bootstrap: bootstrapServers), logger: logger)
    }
}

/// Reads up to `count` messages, without marking any processed (so nothing is committed by the consumer itself),
/// and stops early once none has arrived for `quietPeriod` after the first. Use it to show that some messages never
/// arrive.