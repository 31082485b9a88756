import DabbaTesting
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
    /// The `dabba` executable of the current build, next to the test bundle; `DABBA_EXECUTABLE` overrides it.
    static let executable: URL = {
        do {
            return try TestProcess.executable(named: "dabba", environmentVariable: "DABBA_EXECUTABLE")
        } catch {
            fatalError("\(error)")
        }
    }()

    /// Runs `dabba` to completion.
    /// - Parameters:
    ///   - arguments: The arguments after `dabba`.
    ///   - input: Standard input; nil gives /dev/null.
    ///   - environment: Variables added to a copy of the test's environment (without `DABBA_BOOTSTRAP`,
    ///     `DABBA_CATALOG` and `DABBA_KAFKA_CONFIG`).
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

/// A `dabba` subprocess (DabbaTesting's ``TestProcess``), isolated from the test's `DABBA_BOOTSTRAP`, `DABBA_CATALOG`
/// and `DABBA_KAFKA_CONFIG`.
final class RunningDabba: Sendable {
    let running: TestProcess

    init(_ arguments: [String], input: Data?, environment: [String: String], workingDirectory: URL? = nil) throws {
        var variables: [String: String?] = ["DABBA_BOOTSTRAP": nil, "DABBA_CATALOG": nil, "DABBA_KAFKA_CONFIG": nil]
        for (name, value) in environment { variables[name] = value }
        running = try TestProcess(
            executable: Dabba.executable, arguments: arguments, input: input, environment: variables,
            workingDirectory: workingDirectory
        )
    }

    /// Whether it still runs.
    var isRunning: Bool { running.isRunning }
    /// Standard output so far.
    var stdout: String { running.stdout }
    /// Standard error so far.
    var stderr: String { running.stderr }

    /// Sends a signal (SIGTERM by default).
    func signal(_ number: Int32 = SIGTERM) {
        running.signal(number)
    }

    /// Waits for the process to exit; kills it and records an issue if it outlives `timeLimit`.
    func waitForExit(timeLimit: Duration = .seconds(90)) async throws -> CommandResult {
        do {
            let result = try await running.waitForExit(timeLimit: timeLimit)
            return CommandResult(exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr)
        } catch let timeout as WaitTimeout {
            Issue.record("dabba: \(timeout)")
            return CommandResult(exitCode: -1, stdout: stdout, stderr: stderr)
        }
    }
}
