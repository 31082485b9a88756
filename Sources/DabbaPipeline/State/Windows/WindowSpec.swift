import DabbaEvents
import Foundation

/// The windows of a windowed aggregation (``Pipeline/window(_:of:_:aggregate:time:lateEvents:result:)``): their
/// size, how far apart they start, the grace for late events, and what closes them.
///
/// Windows are half-open intervals `[start, end)` of event time, in milliseconds since the Unix epoch, aligned to the
/// epoch: a tumbling minute starts on the minute. An event belongs to every window that contains its time (one for
/// tumbling windows, `size / advance` for hopping ones).
public struct WindowSpec: Sendable, Equatable {
    /// How long each window is.
    public var size: Duration
    /// How far apart windows start (`size` for tumbling windows).
    public var advance: Duration
    /// How long after its end a window still accepts events: it closes at `end + grace`.
    public var grace: Duration
    /// Whether the wall clock closes windows too (the default), not only stream time (the latest event time seen in
    /// the partition): a quiet key's window then closes on time. Turn it off when replaying old events, whose event
    /// times are far behind the wall clock and would all be late.
    public var closesOnWallClock: Bool
    /// How long a closed window is remembered, so that an event arriving later (from a retry tier, or after the wall
    /// clock closed it) is counted late instead of opening the window again: one day.
    public var closedRetention: Duration

    /// Tumbling windows: back to back, each event in exactly one.
    /// - Parameters:
    ///   - size: The window length (at least a millisecond).
    ///   - grace: How long after its end a window still accepts late events.
    public static func tumbling(_ size: Duration, grace: Duration = .zero) -> WindowSpec {
        WindowSpec(size: size, advance: size, grace: grace, closesOnWallClock: true, closedRetention: .seconds(86_400))
    }

    /// Hopping windows: windows of `size` starting every `advance` (at most `size`), so they overlap.
    /// - Parameters:
    ///   - size: The window length.
    ///   - advance: How far apart windows start.
    ///   - grace: How long after its end a window still accepts late events.
    public static func hopping(_ size: Duration, every advance: Duration, grace: Duration = .zero) -> WindowSpec {
        WindowSpec(
            size: size, advance: advance, grace: grace, closesOnWallClock: true, closedRetention: .seconds(86_400)
        )
    }

    /// The same windows closed by stream time only (see ``closesOnWallClock``).
    public var closingOnStreamTimeOnly: WindowSpec {
        var spec = self
        spec.closesOnWallClock = false
        return spec
    }

    /// What is wrong with these windows, naming the setting, or nil.
    public var problem: String? {
        if size.totalMilliseconds < 1 { return "the window size must be at least 1 ms, not \(size)" }
        if advance.totalMilliseconds < 1 { return "the window advance must be at least 1 ms, not \(advance)" }
        if advance > size { return "the window advance (\(advance)) must not exceed its size (\(size))" }
        if grace < .zero { return "the window grace must not be negative, not \(grace)" }
        if closedRetention < .zero { return "the closed-window retention must not be negative" }
        return nil
    }

    /// The windows containing a time, earliest first: `(start, end)` in milliseconds.
    package func windows(containing time: Int64) -> [(start: Int64, end: Int64)] {
        let size = self.size.totalMilliseconds
        let advance = self.advance.totalMilliseconds
        // Starts are multiples of `advance` in (time - size, time].
        let last = Self.floorDivide(time, advance) * advance
        var starts: [Int64] = []
        var start = last
        while start > time - size {
            starts.append(start)
            start -= advance
        }
        return starts.reversed().map { ($0, $0 + size) }
    }

    private static func floorDivide(_ value: Int64, _ divisor: Int64) -> Int64 {
        let quotient = value / divisor
        return (value % divisor != 0 && (value < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}

/// Where an event's time comes from.
public struct WindowTime<E: Event>: Sendable {
    let time: @Sendable (E, EventEnvelope, Int64?) -> Int64?

    /// The CloudEvents `time` attribute (`ce_time`), or the record's timestamp when the event has none.
    public static var eventTime: WindowTime {
        WindowTime { _, envelope, timestamp in
            envelope.time.map { Int64(($0.timeIntervalSince1970 * 1000).rounded(.down)) } ?? timestamp
        }
    }

    /// A field of the payload.
    /// - Parameter field: The event's time.
    public static func field(_ field: @escaping @Sendable (E) -> Date) -> WindowTime {
        WindowTime { event, _, _ in Int64((field(event).timeIntervalSince1970 * 1000).rounded(.down)) }
    }
}

/// What a window keeps per key: a value updated by each event, stored in the inbox database (as JSON) in the
/// event's transaction.
public struct WindowAggregate<E: Event, Value: Codable & Sendable>: Sendable {
    let initial: Value
    let add: @Sendable (Value, E) -> Value

    /// A user reduce function: `combine(value, event)` gives the new value; the first event of a window combines
    /// with `initial`.
    public static func reduce(_ initial: Value, _ combine: @escaping @Sendable (Value, E) -> Value) -> Self {
        WindowAggregate(initial: initial, add: combine)
    }
}

extension WindowAggregate where Value == Int {
    /// The number of events.
    public static func count() -> Self { .reduce(0) { count, _ in count + 1 } }
}

extension WindowAggregate where Value == Double {
    /// The sum of a field.
    public static func sum(_ field: @escaping @Sendable (E) -> Double) -> Self {
        .reduce(0) { total, event in total + field(event) }
    }
}

extension WindowAggregate where Value == Double? {
    /// The smallest value of a field.
    public static func min(_ field: @escaping @Sendable (E) -> Double) -> Self {
        .reduce(nil) { smallest, event in Swift.min(smallest ?? .infinity, field(event)) }
    }

    /// The largest value of a field.
    public static func max(_ field: @escaping @Sendable (E) -> Double) -> Self {
        .reduce(nil) { largest, event in Swift.max(largest ?? -.infinity, field(event)) }
    }
}

/// What happens to an event that arrives after all its windows closed (beyond the grace). Either way it is counted
/// in `dabba_window_late_events_total{window}` and the pipeline's own handler for the type (if any) still runs.
public enum LateEvents: Sendable, Equatable {
    /// Left out of the aggregate (counted only).
    case drop
    /// Left out of the aggregate and emitted again, unchanged, to a topic (a new event caused by the late one).
    case route(topic: String)
}

/// One window's result, given to the function that makes the event emitted when the window closes.
public struct WindowResult<Value: Sendable>: Sendable {
    /// The window's key (the record key of its events).
    public var key: String
    /// Its start, inclusive.
    public var start: Date
    /// Its end, exclusive.
    public var end: Date
    /// The aggregate.
    public var value: Value
    /// How many events it aggregated.
    public var events: Int
}
