import Foundation
import Testing

/// What a finished `dabba` run printed and how it exited.
struct CommandResult: Sendable {
    var exitCode: Int32
    var stdout: String
    var stderr: String

    /// Standard output's non-empty lines.
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }

    /// Standard output's lines parsed as JSON objects.
    func jsonLines() throws -> [[String: Any]] {
        try lines.map { line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8))
            return try #require(object as? [String: Any], "not a JSON object: \(line)")
        }
    }
}

/// Runs the built `dabba` executable as a subprocess, the way a user or script does.
enum Dabba {
    /// The `dabba` executable of the current build: it sits next to the test bundle in the products directory
    /// (`.build/debug`, or whatever `--scratch-path` names). `DABBA_EXECUTABLE` overrides the search.
    static let executable: URL = {
        let fileManager = FileManager.default
        var candidates: [URL] = []
        if let override = ProcessInfo.processInfo.environment["DABBA_EXECUTABLE"] {
            candidates.append(URL(fileURLWithPath: override))
        }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("dabba"))
        if let first = CommandLine.arguments.first {
            candidates.append(URL(fileURLWithPath: first).deletingLastPathComponent().appendingPathComponent("dabba"))
        }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("dabba"))
        }
        if let found = candidates.first(where: { fileManager.isExecutableFile(atPath: $0.path) }) {
            return found
        }
        fatalError("the dabba executable was not found; looked at \(candidates.map(\.path)). Build it first.")
    }()

    /// Runs `dabba` to completion.
    /// - Parameters:
    ///   - arguments: The arguments after `dabba`.
    ///   - input: Standard input; nil gives /dev/null.
    ///   - environment: Variables added to a copy of the test's environment (without `DABBA_BOOTSTRAP` and
    ///     `DABBA_CATALOG`).
    ///   - workingDirectory: Where the process runs (the test's own by default).
    ///   - timeLimit: Kill the process (and fail) if it runs longer than this.
    static func run(
        _ arguments: [String],
        input: String? = nil,
        environment: [String: String] = [:],
        workingDirectory: URL? = nil,
        timeLimit: Duration = .seconds(90)
    ) async throws -> CommandResult {
        let running = try RunningDabba(
            arguments, input: input.map { Data($0.utf8) }, environment: environment, workingDirectory: workingDirectory
        )
        return try await running.waitForExit(timeLimit: timeLimit)
    }

    /// Runs `dabba` with bytes on standard input.
    static func run(_ arguments: [String], inputData: Data, timeLimit: Duration = .seconds(90)) async throws
        -> CommandResult
    {
        let running = try RunningDabba(arguments, input: inputData, environment: [:])
        return try await running.waitForExit(timeLimit: timeLimit)
    }
}

/// A `dabba` subprocess; its output goes to temporary files so a chatty process never blocks on a full pipe.
final class RunningDabba: @unchecked Sendable {
    // `process` is only started once and then read; Foundation's Process is thread-safe for that.
    let process = Process()
    private let directory: URL
    private let stdoutURL: URL
    private let stderrURL: URL
    private let exited: AsyncStream<Int32>

    init(_ arguments: [String], input: Data?, environment: [String: String], workingDirectory: URL? = nil) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-cli-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        stdoutURL = directory.appendingPathComponent("stdout")
        stderrURL = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.executableURL = Dabba.executable
        process.arguments = arguments
        if let workingDirectory { process.currentDirectoryURL = workingDirectory }
        var processEnvironment = ProcessInfo.processInfo.environment
        processEnvironment.removeValue(forKey: "DABBA_BOOTSTRAP")
        processEnvironment.removeValue(forKey: "DABBA_CATALOG")
        processEnvironment.merge(environment) { $1 }
        process.environment = processEnvironment
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
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
            // Write from a thread of its own: a large input must not block the test while dabba reads it.
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
    var stdout: String { (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "" }
    /// Standard error so far.
    var stderr: String { (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "" }

    /// Sends a signal (SIGTERM by default).
    func signal(_ number: Int32 = SIGTERM) {
        kill(process.processIdentifier, number)
    }

    /// Waits for the process to exit; kills it and records an issue if it outlives `timeLimit`.
    func waitForExit(timeLimit: Duration = .seconds(90)) async throws -> CommandResult {
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
            Issue.record("dabba \(process.arguments ?? []) did not exit within \(timeLimit); stderr: \(stderr)")
            return CommandResult(exitCode: -1, stdout: stdout, stderr: stderr)
        }
        let result = CommandResult(exitCode: code, stdout: stdout, stderr: stderr)
        try? FileManager.default.removeItem(at: directory)
        return result
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}
