import Foundation
import Synchronization
import Testing

/// A running `dabba-pipeline-fixture` process whose stdout lines are collected.
final class FixtureProcess: Sendable {
    private let process: Process
    private let buffer = LineBuffer()

    init(executable: String = "dabba-pipeline-fixture", arguments: [String]) throws {
        let process = Process()
        process.executableURL = try Self.executable(named: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        // Errors are part of what the tests check: they land in `lines` with the output.
        process.standardError = pipe
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
    static func executable(named name: String) throws -> URL {
        var candidates = [URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()]
        candidates.append(Bundle.main.bundleURL)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for directory in candidates {
            let url = directory.appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        throw FixtureMissing(name: name, searched: candidates.map(\.path))
    }
}

struct FixtureMissing: Error, CustomStringConvertible {
    let name: String
    let searched: [String]
    var description: String {
        "\(name) not found in \(searched); build it with `swift build --build-tests`"
    }
}

/// A plain HTTP GET over a loopback socket: returns the status code and body, or nil if nothing listens.
func httpGet(port: Int, path: String) -> (status: Int, body: String)? {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard descriptor >= 0 else { return nil }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else { return nil }
    let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    _ = request.withCString { send(descriptor, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
    var response = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let count = recv(descriptor, &buffer, buffer.count, 0)
        if count <= 0 { break }
        response += buffer[0..<count]
    }
    let text = String(decoding: response, as: UTF8.self)
    guard let statusLine = text.split(separator: "\r\n").first,
        let status = statusLine.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
    else { return nil }
    let body = text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    return (status, body)
}

/// A free loopback port.
func freePort() -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = 0
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    _ = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    var bound = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &bound) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
    }
    return Int(UInt16(bigEndian: bound.sin_port))
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
