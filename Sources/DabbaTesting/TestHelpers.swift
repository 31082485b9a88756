import Foundation
import Logging

/// Small helpers shared by Dabba's own test targets and users' tests.
public enum TestHelpers {
    /// A loopback port free a moment ago (the system's choice for port 0), for a child process to listen on: a
    /// random port can collide with one a broker or another process of the test run holds.
    /// - Returns: The port.
    public static func freePort() -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return Int(UInt16(bigEndian: bound.sin_port))
    }

    /// A name unique to one test run, for topics, groups and files, so tests can run in parallel.
    ///
    /// `uniqueName("orders")` → `orders-3f9c2a1b`. Characters outside `[A-Za-z0-9._-]` are dropped, and the base
    /// is cut to 40 characters, so the result is a valid Kafka topic name.
    /// - Parameter base: A readable prefix (by default the calling function's name).
    /// - Returns: The prefix, a dash and 8 random hex digits.
    public static func uniqueName(_ base: String = #function) -> String {
        let cleaned = base.filter { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) }
        return "\(cleaned.prefix(40))-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// A logger that prints only at `level` and above (default: critical), to keep test output readable.
    /// - Parameters:
    ///   - label: The logger label.
    ///   - level: The lowest level printed.
    /// - Returns: The logger.
    public static func quietLogger(_ label: String = "dabba.test", level: Logger.Level = .critical) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = level
        return logger
    }

    /// Polls `condition` until it holds.
    ///
    /// The timeout is a deadline for waiting, never an assertion about speed: choose it generously.
    /// - Parameters:
    ///   - what: The condition in words, for the failure message.
    ///   - timeout: How long to wait.
    ///   - pollInterval: How often to check.
    ///   - condition: The condition.
    /// - Throws: ``WaitTimeout`` naming `what` when the deadline passes; what `condition` throws.
    public static func eventually(
        _ what: String,
        timeout: Duration = .seconds(60),
        pollInterval: Duration = .milliseconds(25),
        _ condition: () async throws -> Bool
    ) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if try await condition() { return }
            guard clock.now < deadline else { throw WaitTimeout("timed out after \(timeout) waiting until \(what)") }
            try await Task.sleep(for: pollInterval)
        }
    }
}

/// A wait that did not see what it expected in time; the message says what was expected and what was seen.
public struct WaitTimeout: Error, Sendable, CustomStringConvertible {
    /// What was expected, and what was seen instead.
    public var message: String

    /// Creates the error.
    /// - Parameter message: What was expected and seen.
    public init(_ message: String) { self.message = message }

    /// The message.
    public var description: String { message }
}
