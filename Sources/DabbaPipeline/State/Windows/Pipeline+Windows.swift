import DabbaEvents
import DabbaInbox
import Foundation

extension Pipeline {
    /// Aggregates events of a type in keyed windows of event time, and emits one result event per key and window
    /// when the window closes.
    ///
    /// ```swift
    /// pipeline.window("zone-demand", of: RideRequested.self, .tumbling(.seconds(60), grace: .seconds(10)),
    ///                 aggregate: .count()) { result in
    ///     ZoneDemand(zone: result.key, from: result.start, to: result.end, requests: result.value)
    /// }
    /// ```
    ///
    /// - The key is the record key (the event's partition key): every event of a key is in one partition, so one
    ///   instance owns each key's windows. To aggregate by something else, emit events keyed by it first.
    /// - The aggregate is a row of the inbox database, updated in the event's transaction after its handler (if
    ///   any): it counts each committed event exactly once, whatever is redelivered or crashes.
    /// - A window closes at `end + grace`: when the partition's stream time (the latest event time seen) reaches
    ///   that, or when the wall clock does (``WindowSpec/closesOnWallClock``, through a durable timer: a quiet key's
    ///   window closes on time). Closing emits `result` for the window (with an id derived from the group, window,
    ///   key and start, so it is emitted once across restarts) in the same transaction that marks it closed.
    /// - An event arriving after one of its windows closed is late: it counts in
    ///   `dabba_window_late_events_total{window}`, is left out of the closed windows, and when it fits no open window
    ///   it is handled as `lateEvents` says.
    ///
    /// Needs an inbox (the runner refuses to start without one). The type need not have a handler.
    /// - Parameters:
    ///   - name: The window's name, unique in the pipeline (its rows and metrics are named by it).
    ///   - type: The event type aggregated.
    ///   - windows: Tumbling or hopping windows, with their grace.
    ///   - aggregate: What is kept per key and window: `.count()`, `.sum(…)`, `.min(…)`, `.max(…)` or
    ///     `.reduce(…)`.
    ///   - time: Where the event time comes from (`ce_time` by default).
    ///   - lateEvents: What becomes of an event too late for every window it belongs to.
    ///   - result: The event emitted when a window closes (routed by its type, like any emitted event).
    public mutating func window<E: Event, Value: Codable & Sendable, Result: Event>(
        _ name: String,
        of type: E.Type,
        _ windows: WindowSpec,
        aggregate: WindowAggregate<E, Value>,
        time: WindowTime<E> = .eventTime,
        lateEvents: LateEvents = .drop,
        result: @escaping @Sendable (WindowResult<Value>) -> Result
    ) {
        registry.register(type)
        registry.register(WindowCloseDue.self)
        let coding = AggregateCoding<Value>(window: name)
        let closer = WindowCloser { row, context in
            guard let database = context.database else { return }
            let value = try coding.decode(row.aggregate)
            let closed = WindowResult(
                key: row.key, start: Date(milliseconds: row.start), end: Date(milliseconds: row.end), value: value,
                events: Int(row.events)
            )
            var metadata = EventMetadata()
            // The window's identity, not the event that closed it: whichever closes it, the result has one id.
            metadata.id = EventID.derived(from: ["dabba-window", context.groupID, name, row.key, String(row.start)])
            metadata.time = closed.end
            try await context.emit(result(closed), metadata: metadata)
            try WindowStore.markClosed(
                group: context.groupID, name: name, key: row.key, start: row.start, in: database
            )
            context.windowMetrics?.recordResult(of: name)
        }
        let feed = WindowFeed { decoded, context in
            guard let event = decoded.payload(as: E.self) else {
                let actual = String(describing: Swift.type(of: decoded.payload))
                throw PermanentError(HandlerTypeMismatch(expected: E.eventType, actual: actual))
            }
            guard let eventTime = time.time(event, context.envelope, decoded.message.timestampMilliseconds) else {
                throw PermanentError(
                    WindowError(
                        .noEventTime,
                        "window '\(name)': event \(context.envelope.id) (\(E.eventType)) has no time: no ce_time and "
                            + "no record timestamp"
                    )
                )
            }
            let aggregation = WindowAggregation(
                name: name, spec: windows, context: context, coding: coding, closer: closer
            )
            let counted = try await aggregation.add(eventTime: eventTime, initial: aggregate.initial) { value in
                aggregate.add(value, event)
            }
            guard !counted else { return }
            if case .route(let topic) = lateEvents {
                var metadata = EventMetadata()
                metadata.topic = topic
                try await context.emit(event, discriminator: "late:\(name)", metadata: metadata)
            }
        }
        self.windows.add(
            name: name, spec: windows, lateEvents: lateEvents, eventType: E.eventType, resultType: Result.eventType,
            feed: feed, closer: closer
        )
    }
}

/// An aggregate value as the JSON text stored in its row.
struct AggregateCoding<Value: Codable & Sendable>: Sendable {
    let window: String

    func encode(_ value: Value) throws -> String {
        do {
            return String(decoding: try JSONEncoder().encode([value]), as: UTF8.self)
        } catch {
            throw WindowError(.aggregateCoding, "window '\(window)': the aggregate cannot be encoded: \(error)")
        }
    }

    func decode(_ text: String) throws -> Value {
        do {
            guard let value = try JSONDecoder().decode([Value].self, from: Data(text.utf8)).first else {
                throw WindowError(.aggregateCoding, "window '\(window)': a stored aggregate is empty")
            }
            return value
        } catch let error as WindowError {
            throw error
        } catch {
            throw WindowError(
                .aggregateCoding, "window '\(window)': a stored aggregate does not decode as \(Value.self): \(error)"
            )
        }
    }
}
