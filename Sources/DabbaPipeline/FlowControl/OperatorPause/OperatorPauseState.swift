import DabbaEvents
import Foundation

/// Whether an operator paused a consumer group, as published on the control topic (key: the group id; value: this
/// state as JSON, `{"paused":true,"reason":"surge","by":"alice@ops-1","at":"2026-11-21T08:00:00Z"}`).
public struct OperatorPauseState: Codable, Sendable, Hashable {
    /// Whether the group is paused.
    public var paused: Bool
    /// Why, as the operator gave it.
    public var reason: String?
    /// Who paused or resumed it (user and host, or the instance whose HTTP endpoint was called).
    public var by: String?
    /// When, in RFC 3339.
    public var at: String

    /// Creates a state.
    /// - Parameters:
    ///   - paused: Whether the group is paused.
    ///   - reason: Why.
    ///   - by: Who.
    ///   - at: When (now by default).
    public init(paused: Bool, reason: String? = nil, by: String? = nil, at: Date = Date()) {
        self.paused = paused
        self.reason = reason
        self.by = by
        self.at = RFC3339.format(at)
    }

    /// The state as the control record's value.
    public var json: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array((try? encoder.encode(self)) ?? Data())
    }

    /// Decodes a control record's value; nil when it is not a pause state.
    /// - Parameter bytes: The record's value.
    /// - Returns: The state, or nil.
    public static func decode(_ bytes: [UInt8]) -> OperatorPauseState? {
        try? JSONDecoder().decode(OperatorPauseState.self, from: Data(bytes))
    }

    /// One line for people: `paused since … by … (reason)` or `running since … by …`.
    public var summary: String {
        var text = paused ? "paused" : "running"
        text += " since \(at)"
        if let by { text += " by \(by)" }
        if let reason, !reason.isEmpty { text += ": \(reason)" }
        return text
    }

    /// `user@host` of this process, for ``by``.
    public static var currentUser: String {
        let environment = ProcessInfo.processInfo.environment
        let user = environment["USER"] ?? environment["LOGNAME"] ?? "unknown"
        return "\(user)@\(ProcessInfo.processInfo.hostName)"
    }
}
