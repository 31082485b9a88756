import Foundation
import Synchronization
import Testing

/// A running `dabba-pipeline-fixture` process whose stdout lines are collected.
final class FixtureProcess: Sendable {
    private let process: Process
    private let buffer = LineBuffer()

    init(arguments: [String]) throws {
        let process = Process()
        process.executableURL = try Self.executable()
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        self.process = process
        let buffer = self.buffer
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            guard !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            let text = String(decoding: data, as: UTF8.self)
            buffer.append(text)
        }
        try process.run()
    }

    /// Lines printed so far.
    var lines: [String] { buffer.lines.withLock { $0 } }

    /// Event ids the process reported handling.
    var handledIDs: [String] {
        lines.compactMap { line in
            let parts = line.split(separator: " ")
            return parts.first == "handled" && parts.count > 1 ? String(parts[1]) : nil
        }
    }

    func send(_ signal: Int32) { kill(process.processIdentifier, signal) }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while process.isRunning {
            guard clock.now < deadline else {
                process.terminate()
                Issue.record("fixture process did not exit in \(timeout)")
                return -1
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// The fixture binary, built next to the test bundle.
    static func executable() throws -> URL {
        let name = "dabba-pipeline-fixture"
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        candidates.append(Bundle.main.bundleURL)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for directory in candidates {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw FixtureMissing(searched: candidates.map(\.path))
    }
}

struct FixtureMissing: Error, CustomStringConvertible {
    let searched: [String]
    var description: String {
        "dabba-pipeline-fixture not found in \(searched); build it with `swift build --build-tests`"
    }
}

/// Splits a byte stream into lines.
final class LineBuffer: Sendable {
    let lines = Mutex<[String]>([])
    private let partial = Mutex<String>("")

    func append(_ text: String) {
        let complete: [String] = partial.withLock { buffer in
            buffer += text
            var parts = buffer.components(separatedBy: "\n")
            buffer = parts.removeLast()
            return parts
        }
        lines.withLock { $0.append(contentsOf: complete) }
    }
}
