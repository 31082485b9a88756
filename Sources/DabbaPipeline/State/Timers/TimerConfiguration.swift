import Foundation

/// Settings of durable timers (see ``Timers``): the clock they are due by, and how the pipeline looks for due ones.
///
/// Timers need an inbox: they are rows of its database, written in the handler's transaction. Every pipeline with an
/// inbox fires its timers; these settings only tune how.
public struct TimerConfiguration: Sendable {
    /// The environment variable a service reads the time scale from when no option sets it:
    /// `DABBA_TIMER_TIME_SCALE`.
    public static let timeScaleEnvironmentVariable = "DABBA_TIMER_TIME_SCALE"

    /// How much faster than real time relative delays pass, for demos: at 100, `schedule(…, after: .seconds(300))`
    /// is due in 3 s. Absolute due times (`at:`) are not scaled. Must be positive; 1 (the default) is real time.
    public var timeScale: Double
    /// The time timers are due by (the system clock by default; a ``ManualTimerClock`` in unit tests).
    public var clock: any TimerClock
    /// How often an idle pipeline looks for due timers (between batches it looks at most this often too): the
    /// lateness of a timer is about this, plus the time to handle the timers due before it.
    public var pollInterval: Duration
    /// The most due timers read and fired in one inbox transaction: memory stays bounded however many are pending.
    public var pageSize: Int

    /// Creates settings: real time, the system clock, a look every 250 ms, pages of 500 timers.
    /// - Parameter timeScale: The time-scale factor (see ``timeScale``).
    public init(timeScale: Double = 1) {
        self.timeScale = timeScale
        self.clock = SystemTimerClock()
        self.pollInterval = .milliseconds(250)
        self.pageSize = 500
    }

    /// What is wrong with these settings, naming the setting, or nil.
    public var problem: String? {
        if !(timeScale.isFinite && timeScale > 0) {
            return "the timer time scale must be a positive number, not \(timeScale)"
        }
        if pageSize < 1 { return "the timer page size must be at least 1, not \(pageSize)" }
        if pollInterval <= .zero { return "the timer poll interval must be positive, not \(pollInterval)" }
        return nil
    }

    /// Parses a time scale given as text (an option or ``timeScaleEnvironmentVariable``).
    /// - Parameter text: A positive number such as `100` or `2.5`.
    /// - Returns: The factor, or nil when the text is not a positive finite number.
    public static func parseTimeScale(_ text: String) -> Double? {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, value > 0 else {
            return nil
        }
        return value
    }

    /// The due time, in milliseconds since the Unix epoch on ``clock``, of a timer scheduled `delay` from now.
    func dueMilliseconds(after delay: Duration) -> Int64 {
        dueMilliseconds(after: delay, from: clock.nowMilliseconds)
    }

    /// The due time of a timer `delay` (scaled) after a moment, in milliseconds since the Unix epoch.
    func dueMilliseconds(after delay: Duration, from start: Int64) -> Int64 {
        let scaled = Double(delay.totalMilliseconds) / timeScale
        return start + Int64(scaled.rounded(.up))
    }
}
