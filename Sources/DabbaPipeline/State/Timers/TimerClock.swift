import Foundation
import Synchronization

/// The time durable timers are due by. Due times are stored as milliseconds since the Unix epoch, so a clock must
/// count from there: a restarted process compares the stored times with the same clock.
public protocol TimerClock: Sendable {
    /// Now, in milliseconds since the Unix epoch.
    var nowMilliseconds: Int64 { get }
}

/// The system's wall clock.
public struct SystemTimerClock: TimerClock {
    /// Creates the clock.
    public init() {}

    public var nowMilliseconds: Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

/// A clock that moves only when told to, for unit tests: timers fall due when the test advances it past their due
/// time, however long the test takes.
public final class ManualTimerClock: TimerClock {
    private let now: Mutex<Int64>

    /// Creates a clock.
    /// - Parameter startMilliseconds: The starting time, in milliseconds since the Unix epoch (the current time by
    ///   default, so absolute due times near now behave as in production).
    public init(startMilliseconds: Int64 = SystemTimerClock().nowMilliseconds) {
        now = Mutex(startMilliseconds)
    }

    public var nowMilliseconds: Int64 { now.withLock { $0 } }

    /// Moves the clock forward.
    /// - Parameter duration: How far (a negative duration is ignored: the clock never goes back).
    public func advance(by duration: Duration) {
        let step = max(0, duration.totalMilliseconds)
        now.withLock { $0 += step }
    }

    /// Sets the clock, never backwards.
    /// - Parameter milliseconds: The new time, in milliseconds since the Unix epoch.
    public func set(toMilliseconds milliseconds: Int64) {
        now.withLock { $0 = max($0, milliseconds) }
    }
}
