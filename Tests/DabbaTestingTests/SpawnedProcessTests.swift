import DabbaSpawn
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Child processes started without Foundation's `Process`: what they receive (arguments, environment, input,
/// directory), what they do not inherit (descriptors, blocked signals), and how their end is reported.
@Suite("SpawnedProcess")
struct SpawnedProcessTests {
    /// Seconds for a `sleep` child that outlives any test: the test kills it.
    static let forever = "100000"

    static func temporaryFile() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dabba-spawn-\(UUID().uuidString)").path
    }

    /// Runs a shell script to completion; returns its exit status and output (standard error merged).
    static func shell(
        _ script: String, input: Data? = nil, environment: [String: String] = ["PATH": "/usr/bin:/bin"],
        workingDirectory: String? = nil
    ) async throws -> (status: Int32?, output: String) {
        let output = temporaryFile()
        defer { try? FileManager.default.removeItem(atPath: output) }
        let process = try SpawnedProcess(
            executable: "/bin/sh", arguments: ["-c", script], environment: environment,
            workingDirectory: workingDirectory, input: input, standardOutput: .file(output), standardError: nil
        )
        let status = await process.waitForExit()
        return (status, (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
    }

    @Test("arguments, environment, input and working directory reach the child; its exit code comes back")
    func whatTheChildGets() async throws {
        let directory = FileManager.default.temporaryDirectory.path
        let result = try await Self.shell(
            #"printf '%s|%s|' "$GREETING" "$(pwd -P)"; cat; echo oops >&2; exit 7"#,
            input: Data("from stdin".utf8), environment: ["GREETING": "namaste", "PATH": "/usr/bin:/bin"],
            workingDirectory: directory
        )
        let resolved = URL(fileURLWithPath: directory).resolvingSymlinksInPath().path
        #expect(result.status == 7)
        #expect(result.output == "namaste|\(resolved)|from stdinoops\n")
    }

    @Test(
        "the child inherits no descriptor but its standard streams, and no blocked signal",
        .enabled(if: FileManager.default.fileExists(atPath: "/proc/self/status"), "reads Linux's /proc")
    )
    func nothingLeaks() async throws {
        // A descriptor this process holds open while spawning.
        let held = open("/dev/null", O_RDONLY)
        defer { close(held) }
        #expect(held > 2)
        let result = try await Self.shell("ls /proc/self/fd; grep SigBlk /proc/self/status")
        let descriptors = result.output.split(separator: "\n").compactMap { Int($0) }
        // The standard streams, and the directory `ls` itself opened (the lowest free number).
        #expect(descriptors == [0, 1, 2, 3], "\(result.output)")
        #expect(result.output.contains("SigBlk:\t0000000000000000"), "\(result.output)")
    }

    @Test("a child that exits without reading its input does not take this process down (no SIGPIPE)")
    func unreadInput() async throws {
        let result = try await Self.shell("exit 0", input: Data(repeating: 0x61, count: 4 << 20))
        #expect(result.status == 0)
        // The writer thread has hit the closed pipe by now (or soon): this process is still here to check.
        try await Task.sleep(for: .milliseconds(100))
    }

    @Test("a signal ends it: the signal's number, and isRunning turns false")
    func killed() async throws {
        // A child that never ends by itself: on a loaded machine this test's steps can take longer than any sleep.
        let process = try SpawnedProcess(
            executable: "/bin/sleep", arguments: [Self.forever], environment: [:], standardOutput: .discard
        )
        #expect(process.isRunning)
        process.signal(SIGTERM)
        #expect(await process.waitForExit() == SIGTERM)
        #expect(process.wasKilledBySignal)
        #expect(!process.isRunning)
        #expect(process.exitStatus == SIGTERM)
        process.signal(SIGKILL)  // already reaped: nothing is sent
    }

    @Test("a cancelled wait returns nil and leaves the child running")
    func cancelledWait() async throws {
        // A child that never ends by itself: the cancelled wait must not race its exit, however long the pool takes
        // to run this test's next step (it took longer than 30 s in a loaded full run).
        let process = try SpawnedProcess(
            executable: "/bin/sleep", arguments: [Self.forever], environment: [:], standardOutput: .discard
        )
        let waiting = Task { await process.waitForExit() }
        try await Task.sleep(for: .milliseconds(50))
        waiting.cancel()
        #expect(await waiting.value == nil)
        #expect(process.isRunning)
        process.signal(SIGKILL)
        #expect(await process.waitForExit() == SIGKILL)
    }

    @Test("a program that cannot start is a SpawnError naming it")
    func missingProgram() {
        #expect {
            try SpawnedProcess(executable: "/nonexistent/dabba-tool", arguments: [], environment: [:])
        } throws: { error in
            guard let error = error as? SpawnError else { return false }
            return error.code == ENOENT && error.description.hasPrefix("/nonexistent/dabba-tool: cannot start it")
        }
    }
}
