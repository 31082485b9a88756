import DabbaSpawn
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An executable under test (a service, a CLI) running as a child process. Its output goes to temporary files, so
/// a chatty process never blocks on a full pipe, and can be read while it runs.
public final class TestProcess: Sendable {

    /// How a finished process exited and what it printed.
    public struct Result: Sendable {
        /// The exit status (the signal number when killed by a signal).
        public var exitCode: Int32
        /// Standard output.
        public var stdout: String
        /// Standard error (empty when merged into standard output).
        public var stderr: String

        /// Standard output's non-empty lines.
        public var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    }

    /// The child process (started with `posix_spawn`: see `SpawnedProcess`).
    private let child: SpawnedProcess
    private let directory: URL
    private let stdoutURL: URL
    private let stderrURL: URL

    /// The process id.
    public var processIdentifier: pid_t { child.processIdentifier }

    /// Finds an executable built next to the test bundle (`.build/debug` or whatever `--scratch-path` names).
    /// - Parameters:
    ///   - name: The executable's name.
    ///   - environmentVariable: A variable that, when set, names the executable's path instead.
    /// - Returns: Its URL.
    /// - Throws: ``EmbeddedKafkaError`` listing the places searched.
    public static func executable(named name: String, environmentVariable: String? = nil) throws -> URL {
        var candidates: [URL] = []
        if let environmentVariable, let override = ProcessInfo.processInfo.environment[environmentVariable] {
            candidates.append(URL(fileURLWithPath: override))
        }
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent(name))
        }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent(name))
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent(name))
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent(name))
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) {
            return found
        }
        throw EmbeddedKafkaError(
            "\(name) not found in \(candidates.map(\.path)); build it with `swift build --build-tests`"
        )
    }

    /// Starts a process.
    /// - Parameters:
    ///   - executable: The program.
    ///   - arguments: Its arguments.
    ///   - input: Standard input; `nil` gives `/dev/null`.
    ///   - environment: Variables to add to (or, with `nil` values, remove from) the test's environment.
    ///   - workingDirectory: Where it runs (the test's own by default).
    ///   - mergeStandardError: Write standard error into standard output, in order.
    /// - Throws: When the program cannot be started.
    public init(
        executable: URL,
        arguments: [String],
        input: Data? = nil,
        environment: [String: String?] = [:],
        workingDirectory: URL? = nil,
        mergeStandardError: Bool = false
    ) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            TestHelpers.uniqueName("dabba-process"))
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        stdoutURL = directory.appendingPathComponent("stdout")
        stderrURL = directory.appendingPathComponent("stderr")
        for output in [stdoutURL, stderrURL] where !FileManager.default.createFile(atPath: output.path, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: output.path])
        }
        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        child = try SpawnedProcess(
            executable: executable.path, arguments: arguments, environment: variables,
            workingDirectory: workingDirectory?.path, input: input, standardOutput: .file(stdoutURL.path),
            // Merged: one file description for both, so lines stay in the order written.
            standardError: mergeStandardError ? nil : .file(stderrURL.path)
        )
    }

    /// Standard output so far.
    public var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    /// Standard error so far.
    public var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }
    /// Complete lines of standard output so far.
    public var lines: [String] {
        var parts = stdout.components(separatedBy: "\n")
        parts.removeLast()  // the partial line after the last newline (or "")
        return parts
    }

    /// Whether the process still runs.
    public var isRunning: Bool { child.isRunning }

    /// Sends a signal (SIGTERM by default).
    /// - Parameter number: The signal.
    public func signal(_ number: Int32 = SIGTERM) {
        child.signal(number)
    }

    /// Waits for the process to exit.
    /// - Parameter timeLimit: How long to wait before killing it.
    /// - Returns: The exit status and output.
    /// - Throws: ``WaitTimeout`` (after SIGKILL) when it outlives the limit, with its standard error.
    public func waitForExit(timeLimit: Duration = .seconds(90)) async throws -> Result {
        let code = await withTaskGroup(of: Int32?.self) { group in
            let child = self.child
            group.addTask { await child.waitForExit() }
            group.addTask {
                try? await Task.sleep(for: timeLimit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let code else {
            child.signal(SIGKILL)
            throw WaitTimeout(
                "\(URL(fileURLWithPath: child.executable).lastPathComponent) \(child.arguments) did not exit within \(timeLimit); stderr: \(stderr)"
            )
        }
        return Result(exitCode: code, stdout: stdout, stderr: stderr)
    }

    deinit {
        child.signal(SIGKILL)
        try? FileManager.default.removeItem(at: directory)
    }
}
