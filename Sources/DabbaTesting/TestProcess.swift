import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An executable under test (a service, a CLI) running as a child process. Its output goes to temporary files, so
/// a chatty process never blocks on a full pipe, and can be read while it runs.
public final class TestProcess: @unchecked Sendable {
    // @unchecked: `process` is started once in `init` and only read afterwards (Foundation's Process is safe for
    // that); the output URLs are constants.

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

    /// The running process.
    public let process = Process()
    private let directory: URL
    private let stdoutURL: URL
    private let stderrURL: URL
    private let exited: AsyncStream<Int32>

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
        process.executableURL = executable
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        process.environment = variables
        let output = try FileHandle(forWritingTo: stdoutURL)
        process.standardOutput = output
        // One handle for both: they share the file offset, so lines stay in the order written.
        process.standardError = mergeStandardError ? output : try FileHandle(forWritingTo: stderrURL)
        let (exited, continuation) = AsyncStream<Int32>.makeStream()
        self.exited = exited
        process.terminationHandler = { process in
            continuation.yield(process.terminationStatus)
            continuation.finish()
        }
        if let input {
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            // Written from a thread of its own: a large input must not block the test while the process reads it.
            let writer = pipe.fileHandleForWriting
            Thread.detachNewThread {
                try? writer.write(contentsOf: input)
                try? writer.close()
            }
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
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
    public var isRunning: Bool { process.isRunning }

    /// Sends a signal (SIGTERM by default).
    /// - Parameter number: The signal.
    public func signal(_ number: Int32 = SIGTERM) {
        kill(process.processIdentifier, number)
    }

    /// Waits for the process to exit.
    /// - Parameter timeLimit: How long to wait before killing it.
    /// - Returns: The exit status and output.
    /// - Throws: ``WaitTimeout`` (after SIGKILL) when it outlives the limit, with its standard error.
    public func waitForExit(timeLimit: Duration = .seconds(90)) async throws -> Result {
        let code = await withTaskGroup(of: Int32?.self) { group in
            let exited = self.exited
            group.addTask {
                for await code in exited { return code }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: timeLimit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let code else {
            kill(process.processIdentifier, SIGKILL)
            throw WaitTimeout(
                "\(process.executableURL?.lastPathComponent ?? "process") \(process.arguments ?? []) did not exit within \(timeLimit); stderr: \(stderr)"
            )
        }
        return Result(exitCode: code, stdout: stdout, stderr: stderr)
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: directory)
    }
}
