/// A demo's machine-readable last line and its exit status.
///
/// The line is `<prefix> key=value key=value …`, in the order the values were added; the status is 0 when every
/// invariant held and 1 otherwise, so scripts and CI can run a demo and trust its exit code.
///
/// ```swift
/// var verdict = DemoVerdict(prefix: "dabba-demo")
/// verdict.add("orders", 2000)
/// verdict.require("stuck", stuck, equals: 0)
/// DemoConsole.say(verdict.line)
/// if !verdict.passed { throw ExitCode(verdict.exitStatus) }
/// ```
public struct DemoVerdict: Sendable {
    /// The line's first word.
    public let prefix: String
    /// The values, in order.
    public private(set) var fields: [(key: String, value: String)] = []
    /// The invariants that did not hold, as `key=value (expected …)`.
    public private(set) var violations: [String] = []

    /// Creates an empty verdict.
    /// - Parameter prefix: The line's first word (`dabba-demo`).
    public init(prefix: String) {
        self.prefix = prefix
    }

    /// Adds a value to the line.
    /// - Parameters:
    ///   - key: Its name (no spaces or `=`).
    ///   - value: The value.
    public mutating func add(_ key: String, _ value: some CustomStringConvertible) {
        fields.append((key, value.description))
    }

    /// Adds a value that must equal an expected one: otherwise the demo fails.
    /// - Parameters:
    ///   - key: Its name.
    ///   - value: The value.
    ///   - expected: What it must be.
    public mutating func require(_ key: String, _ value: Int, equals expected: Int) {
        add(key, value)
        if value != expected { violations.append("\(key)=\(value) (expected \(expected))") }
    }

    /// Records an invariant that is not on the line.
    /// - Parameters:
    ///   - holds: Whether it held.
    ///   - description: What did not hold, when it did not.
    public mutating func require(_ holds: Bool, _ description: @autoclosure () -> String) {
        if !holds { violations.append(description()) }
    }

    /// Whether every invariant held.
    public var passed: Bool { violations.isEmpty }

    /// The process's exit status: 0 when every invariant held, 1 otherwise.
    public var exitStatus: Int32 { passed ? 0 : 1 }

    /// `<prefix> key=value …`.
    public var line: String {
        ([prefix] + fields.map { "\($0.key)=\($0.value)" }).joined(separator: " ")
    }
}
