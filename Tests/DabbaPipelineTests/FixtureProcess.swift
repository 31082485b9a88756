import DabbaTesting
import Foundation
import Testing

/// A running fixture executable (by default `dabba-pipeline-fixture`) whose output lines (standard error merged in:
/// errors are part of what the tests check) are collected; DabbaTesting's ``TestProcess`` underneath.
final class FixtureProcess: Sendable {
    private let running: TestProcess

    init(
        executable: String = "dabba-pipeline-fixture", arguments: [String], environment: [String: String?] = [:]
    ) throws {
        running = try TestProcess(
            executable: TestProcess.executable(named: executable), arguments: arguments, environment: environment,
            mergeStandardError: true
        )
    }

    /// Lines printed so far.
    var lines: [String] { running.lines }

    /// Event ids the process reported handling.
    var handledIDs: [String] {
        lines.compactMap { line in
            let parts = line.split(separator: " ")
            return parts.first == "handled" && parts.count > 1 ? String(parts[1]) : nil
        }
    }

    func send(_ signal: Int32) { running.signal(signal) }

    /// The process id (for sampling its memory).
    var processIdentifier: pid_t { running.processIdentifier }

    /// Waits for the process to exit and returns its status.
    func waitForExit(timeout: Duration = .seconds(60)) async throws -> Int32 {
        do {
            return try await running.waitForExit(timeLimit: timeout).exitCode
        } catch let timeout as WaitTimeout {
            Issue.record("fixture process: \(timeout)")
            return -1
        }
    }
}

/// A plain HTTP GET over a loopback socket: returns the status code and body, or nil if nothing listens.
func httpGet(port: Int, path: String) -> (status: Int, body: String)? {
    httpRequest("GET", port: port, path: path)
}

/// A plain HTTP request without a body over a loopback socket: the status code and body, or nil if nothing listens.
func httpRequest(_ method: String, port: Int, path: String) -> (status: Int, body: String)? {
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
    let request = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
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
func freePort() -> Int { TestHelpers.freePort() }
