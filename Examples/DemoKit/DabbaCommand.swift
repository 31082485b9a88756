import DabbaSpawn
import Foundation

/// Runs the `dabba` command-line tool next to the demo's executable, as an operator would (`dabba group pause …`).
public enum DabbaCommand {
    /// Runs `dabba` with arguments and waits for it.
    /// - Parameters:
    ///   - arguments: The arguments (`["group", "pause", "upi-risk", …]`).
    ///   - outputPath: Where its output goes.
    /// - Returns: Its exit status and output.
    /// - Throws: ``ServiceProcessError`` when `dabba` is not built, or ``SpawnError`` when it cannot start.
    public static func run(_ arguments: [String], outputPath: String) async throws -> (status: Int32, output: String) {
        let executable = try ServiceProcess.locate("dabba")
        let process = try SpawnedProcess(
            executable: executable.path, arguments: arguments, environment: ProcessInfo.processInfo.environment,
            standardOutput: .file(outputPath), standardError: nil)
        let status = await process.waitForExit() ?? -1
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (status, output)
    }
}
