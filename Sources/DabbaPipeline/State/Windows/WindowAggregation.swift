import DabbaInbox

/// One event's work on one window declaration, in the event's transaction: add it to the windows that contain its
/// time and are still open, advance the partition's stream time, and close the windows that stream time passed.
struct WindowAggregation<Value: Codable & Sendable> {
    let name: String
    let spec: WindowSpec
    let context: EventContext
    let coding: AggregateCoding<Value>
    let closer: WindowCloser

    /// Adds the event.
    /// - Parameters:
    ///   - eventTime: The event's time, in milliseconds since the Unix epoch.
    ///   - initial: A new window's aggregate before its first event.
    ///   - combine: The aggregate with this event added.
    /// - Returns: Whether the event was added to at least one window (false: too late for all of them).
    func add(eventTime: Int64, initial: Value, combine: (Value) -> Value) async throws -> Bool {
        guard let database = context.database else {
            throw WindowError(.noInbox, "window '\(name)' needs an inbox")
        }
        let group = context.groupID
        let key = context.key ?? ""
        let scope = WindowStore.Scope(group: group, name: name, topic: context.topic, partition: context.partition)
        let streamTime = try WindowStore.streamTime(scope, in: database)
        // Windows that close at or before this are closed: by stream time, and by the wall clock when it counts.
        var closedUpTo = streamTime ?? .min
        if spec.closesOnWallClock, let clock = context.timerEnvironment?.configuration.clock {
            closedUpTo = max(closedUpTo, clock.nowMilliseconds)
        }
        let grace = spec.grace.totalMilliseconds
        let windows = spec.windows(containing: eventTime)
        var added = 0
        for window in windows {
            let closesAt = window.end + grace
            guard closesAt > closedUpTo else { continue }
            if let row = try WindowStore.row(group: group, name: name, key: key, start: window.start, in: database) {
                // Closed already (by its timer, or remembered from before): late for this window.
                guard !row.closed else { continue }
                let value = combine(try coding.decode(row.aggregate))
                try WindowStore.update(
                    group: group, name: name, key: key, start: window.start, aggregate: try coding.encode(value),
                    events: row.events + 1, in: database
                )
            } else {
                let row = WindowStore.Row(
                    key: key, start: window.start, end: window.end, aggregate: try coding.encode(combine(initial)),
                    events: 1, closed: false
                )
                try WindowStore.insert(row, closesAt: closesAt, scope, in: database)
                if spec.closesOnWallClock {
                    try context.timers.scheduleInternal(
                        WindowCloseDue(window: name, start: window.start), id: "dabba.window:\(name):\(window.start)",
                        dueMilliseconds: closesAt
                    )
                }
            }
            added += 1
        }
        if added < windows.count { context.windowMetrics?.recordLate(for: name) }
        if eventTime > streamTime ?? .min {
            try WindowStore.setStreamTime(eventTime, scope, in: database)
            let passed = try WindowStore.closing(by: eventTime, scope, in: database)
            for row in passed { try await closer.close(row, context) }
            // Windows the wall clock closed are forgotten too: once per window advance of stream time, not per event.
            let advance = spec.advance.totalMilliseconds
            if !passed.isEmpty || (streamTime.map { $0 / advance } ?? .min) != eventTime / advance {
                try WindowStore.forgetClosed(
                    before: eventTime - spec.closedRetention.totalMilliseconds, scope, in: database
                )
            }
        }
        return added > 0
    }
}

/// The metrics of a pipeline's windows: `dabba_window_late_events_total{window}` (events that missed at least one
/// of their windows because it had closed) and `dabba_window_results_total{window}` (windows closed, one result
/// each). Counted as events are handled: a batch that rolls back and is handled again counts again.
package final class WindowMetrics: Sendable {
    private let late: [String: PipelineCounter]
    private let results: [String: PipelineCounter]

    init(names: [String], metrics: PipelineMetrics) {
        late = metrics.counters("dabba_window_late_events_total", label: "window", values: names)
        results = metrics.counters("dabba_window_results_total", label: "window", values: names)
    }

    func recordLate(for window: String) { late[window]?.increment() }
    func recordResult(of window: String) { results[window]?.increment() }

    /// Results emitted so far by a window (what `dabba_window_results_total` says).
    package func results(of window: String) -> Int { results[window].map { Int($0.value) } ?? 0 }
    /// Late events so far of a window (what `dabba_window_late_events_total` says).
    package func lateEvents(of window: String) -> Int { late[window].map { Int($0.value) } ?? 0 }
}
