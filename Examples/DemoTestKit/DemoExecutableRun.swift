import DabbaSpawn
import DemoKit
import Foundation

/// One run of a demo executable (`upi-demo --rate 0 …`) from a test: its exit status, its output and the fields of
/// its last `dabba-demo` line. The run holds ``DemoSystemGate`` so that it never overlaps another example system of
/// the test process.
public struct DemoExecutableRun: Sendable {
    /// The exit status (-1 when it did not exit normally).
    public let status: Int32
    /// Everything it printed.
    public let output: String
    /// The fields of its last `dabba-demo` line (`["payments": "300", …]`); empty when it printed none.
    public let fields: [String: String]

    /// Runs a demo executable with the repository's catalog and waits for it.
    /// - Parameters:
    ///   - name: The executable (`upi-demo`), found next to the test bundle.
    ///   - arguments: Its options; `--catalog` is added.
    /// - Returns: The run.
    /// - Throws: ``ServiceProcessError`` when it is not built, or ``SpawnError`` when it cannot start.
    public static func run(_ name: String, arguments: [String]) async throws -> DemoExecutableRun {
        let executable = try ServiceProcess.locate(name)
        await DemoSystemGate.lock.acquire()
        defer { DemoSystemGate.lock.release() }
        let outputPath = NSTemporaryDirectory() + "\(name)-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        let process = try SpawnedProcess(
            executable: executable.path,
            arguments: arguments + ["--catalog", ExampleSystem.topicsDirectory.path],
            environment: ProcessInfo.processInfo.environment, standardOutput: .file(outputPath), standardError: nil)
        let status = await process.waitForExit() ?? -1
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return DemoExecutableRun(status: status, output: output, fields: Self.fields(of: output))
    }

    /// The integer value of a field of the `dabba-demo` line.
    /// - Parameter key: The field.
    /// - Returns: Its value; nil when it is missing or not an integer.
    public func integer(_ key: String) -> Int? { fields[key].flatMap { Int($0) } }

    /// The fields of the last line that starts with `dabba-demo `.
    static func fields(of output: String) -> [String: String] {
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("dabba-demo ") }) else { return [:] }
        var fields: [String: String] = [:]
        for word in line.split(separator: " ").dropFirst() {
            guard let equals = word.firstIndex(of: "=") else { continue }
            fields[String(word[..<equals])] = String(word[word.index(after: equals)...])
        }
        return fields
    }
}
