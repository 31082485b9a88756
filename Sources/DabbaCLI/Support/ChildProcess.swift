import DabbaSpawn
import Foundation

/// A finished child process: its exit status and what it printed.
struct ChildProcessResult: Sendable {
    /// The exit status (or the signal number for a process killed by a signal).
    var status: Int32
    /// Standard output.
    var stdout: String
    /// Standard error.
    var stderr: String
}

/// Runs other programs (`swift`, `git`, service executables) to completion.
enum ChildProcess {
    /// Runs a program and collects its output; output goes to temporary files so a chatty program never blocks
    /// on a full pipe.
    /// - Parameters:
    ///   - executable: The program: a path, or a name looked up in `PATH`.
    ///   - arguments: Its arguments.
    ///   - workingDirectory: Where it runs (the current directory by default).
    ///   - environment: Variables to add to (or, with `nil` values, remove from) this process's environment.
    ///   - timeLimit: The program is killed after this long.
    ///   - passesStandardError: Whether its standard error goes straight to this process's (progress a user
    ///     should see as it happens) instead of being collected.
    /// - Returns: The status and output.
    /// - Throws: ``CLIError`` when the program cannot be started or outlives the time limit.
    static func run(
        _ executable: String,
        _ arguments: [String],
        workingDirectory: URL? = nil,
        environment: [String: String?] = [:],
        timeLimit: Duration = .seconds(1800),
        passesStandardError: Bool = false
    ) async throws -> ChildProcessResult {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "dabba-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let stdoutURL = directory.appendingPathComponent("stdout")
        let stderrURL = directory.appendingPathComponent("stderr")
        for output in [stdoutURL, stderrURL] where !FileManager.default.createFile(atPath: output.path, contents: nil) {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: output.path])
        }

        var variables = ProcessInfo.processInfo.environment
        for (name, value) in environment { variables[name] = value }
        // A name is looked up in PATH by env(1), as a shell would.
        let program = executable.contains("/") ? executable : "/usr/bin/env"
        let process: SpawnedProcess
        do {
            process = try SpawnedProcess(
                executable: program, arguments: executable.contains("/") ? arguments : [executable] + arguments,
                environment: variables, workingDirectory: workingDirectory?.path,
                standardOutput: .file(stdoutURL.path), standardError: passesStandardError ? .inherit : .file(stderrURL.path)
            )
        } catch {
            throw CLIError("cannot run \(executable): \(error)")
        }
        let status = await withTaskGroup(of: Int32?.self) { group in
            group.addTask { await process.waitForExit() }
            group.addTask {
                try? await Task.sleep(for: timeLimit)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let status else {
            process.signal(SIGTERM)
            throw CLIError(
                "\(executable) \(arguments.joined(separator: " ")) did not finish within \(timeLimit); stopped it")
        }
        return ChildProcessResult(
            status: status,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        )
    }
}
