import DabbaSpawn
import Foundation

/// A food-delivery service running as a child process, its output in a log file.
public final class ServiceProcess: @unchecked Sendable {
    // @unchecked: `process` is replaced only by `restart()`, which the driver calls from the one task that manages
    // this service; everything else goes through SpawnedProcess's own thread-safe API.
    /// The executable name (`food-orders`).
    public let name: String
    /// The log file (standard output and error).
    public let logPath: String
    /// The arguments it was started with.
    public let arguments: [String]
    private let executable: URL
    private var process: SpawnedProcess

    /// Starts a service.
    /// - Parameters:
    ///   - name: The executable's name, looked up next to the current executable.
    ///   - arguments: Its arguments.
    ///   - logPath: Where its output goes (appended).
    /// - Throws: When the executable is missing or cannot start.
    public init(name: String, arguments: [String], logPath: String) throws {
        self.name = name
        self.arguments = arguments
        self.logPath = logPath
        executable = try Self.locate(name)
        process = try Self.start(executable, arguments, logPath: logPath, name: name)
    }

    private static func start(
        _ executable: URL, _ arguments: [String], logPath: String, name: String
    ) throws -> SpawnedProcess {
        do {
            return try SpawnedProcess(
                executable: executable.path, arguments: arguments, environment: ProcessInfo.processInfo.environment,
                standardOutput: .appending(logPath), standardError: nil
            )
        } catch {
            throw ServiceProcessError(message: "cannot start \(name): \(error)")
        }
    }

    /// The process id.
    public var pid: Int32 { process.processIdentifier }

    /// Whether it still runs.
    public var isRunning: Bool { process.isRunning }

    /// Sends a signal.
    /// - Parameter signal: `SIGTERM`, `SIGKILL`, …
    public func send(_ signal: Int32) {
        process.signal(signal)
    }

    /// Starts it again with the same arguments (after it exited or was killed).
    /// - Throws: When it cannot start.
    public func restart() throws {
        process = try Self.start(executable, arguments, logPath: logPath, name: name)
    }

    /// Waits until it exits.
    /// - Parameter timeout: How long to wait before killing it.
    /// - Returns: Its exit status (or -1 when it had to be killed).
    public func waitForExit(timeout: Duration) async -> Int32 {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while process.isRunning {
            if clock.now >= deadline {
                process.signal(SIGKILL)
                _ = await process.waitForExit()
                return -1
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return process.exitStatus ?? -1
    }

    /// Stops it gracefully (SIGTERM), killing it after the timeout.
    /// - Parameter timeout: How long graceful shutdown may take.
    /// - Returns: Its exit status (-1 when killed).
    @discardableResult
    public func stop(timeout: Duration = .seconds(30)) async -> Int32 {
        send(SIGTERM)
        return await waitForExit(timeout: timeout)
    }

    /// The log's contents.
    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// Finds an executable next to the current one (where `swift build` puts every product), or in a test bundle's
    /// directory.
    /// - Parameter name: The executable name.
    /// - Returns: Its URL.
    /// - Throws: ``ServiceProcessError`` naming the directories searched.
    public static func locate(_ name: String) throws -> URL {
        var directories: [URL] = []
        if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
        directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        directories.append(Bundle.main.bundleURL)
        directories.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for directory in directories {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw ServiceProcessError(
            message:
                "\(name) not found in \(directories.map(\.path).joined(separator: ", ")): build it with `swift build`"
        )
    }
}

/// A child process could not be found or started.
public struct ServiceProcessError: Error, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    public var description: String { message }
}

/// The five services of the example, by executable name.
public let foodServiceNames = [
    "food-orders", "food-restaurants", "food-delivery", "food-notifications", "food-analytics",
]

/// The standard arguments of a service started by the demo or a test.
/// - Parameters:
///   - bootstrap: The brokers.
///   - catalog: The Topics/ directory.
///   - store: The SQLite file of its inbox and state.
///   - instanceID: A static member id, if any.
///   - sessionTimeout: The consumer session timeout.
/// - Returns: The arguments.
public func foodServiceArguments(
    bootstrap: String, catalog: String, store: String, instanceID: String? = nil, sessionTimeout: String = "6s"
) -> [String] {
    var arguments = [
        "--bootstrap", bootstrap, "--catalog", catalog, "--inbox", "sqlite:\(store)", "--session-timeout",
        sessionTimeout,
        "--metrics-port=-1", "--log-level", "info",
    ]
    if let instanceID { arguments += ["--instance-id", instanceID] }
    return arguments
}
