import DabbaSpawn
import Foundation
import Synchronization

/// A service of an example system running as a child process, its output appended to a log file. It can be killed
/// and started again with the same arguments (the chaos driver does this while the driver's other tasks read it).
public final class ServiceProcess: Sendable {
    /// The executable name (`food-orders`).
    public let name: String
    /// The log file (standard output and error, appended over restarts).
    public let logPath: String
    /// The arguments it was started with.
    public let arguments: [String]
    private let executable: URL
    /// The current child: replaced by ``restart()``.
    private let process: Mutex<SpawnedProcess>

    /// Starts a service.
    /// - Parameters:
    ///   - name: The executable's name, looked up next to the current executable (see ``locate(_:)``).
    ///   - arguments: Its arguments.
    ///   - logPath: Where its output goes (appended).
    /// - Throws: ``ServiceProcessError`` when the executable is missing or cannot start.
    public init(name: String, arguments: [String], logPath: String) throws {
        self.name = name
        self.arguments = arguments
        self.logPath = logPath
        executable = try Self.locate(name)
        process = Mutex(try Self.start(executable, arguments, logPath: logPath, name: name))
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

    private var current: SpawnedProcess { process.withLock { $0 } }

    /// The process id (of the current child).
    public var pid: Int32 { current.processIdentifier }

    /// Whether it still runs.
    public var isRunning: Bool { current.isRunning }

    /// Sends a signal.
    /// - Parameter signal: `SIGTERM`, `SIGKILL`, …
    public func send(_ signal: Int32) {
        current.signal(signal)
    }

    /// Starts it again with the same arguments, once the previous child has exited (after a kill or a crash).
    /// - Throws: ``ServiceProcessError`` when it still runs or cannot start.
    public func restart() throws {
        try process.withLock { process in
            guard !process.isRunning else {
                throw ServiceProcessError(
                    message: "cannot restart \(name): pid \(process.processIdentifier) still runs")
            }
            process = try Self.start(executable, arguments, logPath: logPath, name: name)
        }
    }

    /// Waits until it exits.
    /// - Parameter timeout: How long to wait before killing it.
    /// - Returns: Its exit status (or -1 when it had to be killed).
    public func waitForExit(timeout: Duration) async -> Int32 {
        let process = current
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

/// A child process could not be found, started or restarted.
public struct ServiceProcessError: Error, CustomStringConvertible {
    /// What went wrong.
    public let message: String
    /// The message.
    public var description: String { message }
}
