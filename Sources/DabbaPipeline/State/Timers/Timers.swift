import DabbaEvents
import DabbaInbox
import Foundation

/// Durable timers of the event being handled (``EventContext/timers``): schedule an event to be delivered to this
/// pipeline later, for the key of the event in hand, or cancel one.
///
/// ```swift
/// pipeline.on(SeatHeld.self) { held, context in
///     try context.timers.schedule(HoldExpired(seatID: held.seatID), id: "hold", after: .seconds(300))
/// }
/// pipeline.on(SeatPaid.self) { paid, context in
///     try context.timers.cancel(id: "hold")
/// }
/// pipeline.on(HoldExpired.self) { expired, context in /* release the seat */ }
/// ```
///
/// A timer is a row of the inbox database written in the handler's transaction: it exists exactly when the event
/// that scheduled it committed, and a cancel is undone with the handler's other writes if the handler fails.
/// Timers belong to the key (and partition) of the scheduling event; their ids are per key, and scheduling an id
/// that is pending replaces it. When due, the event is handled by the pipeline's handler for its type on the instance
/// that owns the partition, between batches (never at the same time as that partition's events), in due-time order
/// per key, once in effect: it is handled in an inbox transaction that also deletes the timer.
public struct Timers: Sendable {
    let scope: TimerScope?

    /// Schedules an event for a moment.
    /// - Parameters:
    ///   - event: The event to deliver (a type the pipeline handles with ``Pipeline/on(_:_:)``).
    ///   - id: The timer's name among this key's timers: scheduling it again replaces it.
    ///   - date: When it is due (a past date is due at once). Not scaled by ``TimerConfiguration/timeScale``.
    /// - Throws: ``TimerError`` (wrapped in ``PermanentError``) without an inbox, for an event type the pipeline
    ///   does not handle or an empty id; ``InboxError`` when the insert fails.
    public func schedule<E: Event>(_ event: E, id: String, at date: Date) throws {
        let scope = try required()
        try scope.schedule(event, id: id, dueMilliseconds: Int64((date.timeIntervalSince1970 * 1000).rounded(.up)))
    }

    /// Schedules an event a while from now, on the timer clock: `delay` divided by
    /// ``TimerConfiguration/timeScale``.
    /// - Parameters:
    ///   - event: The event to deliver (a type the pipeline handles with ``Pipeline/on(_:_:)``).
    ///   - id: The timer's name among this key's timers: scheduling it again replaces it.
    ///   - delay: How long from now.
    /// - Throws: ``TimerError`` (wrapped in ``PermanentError``) without an inbox, for an event type the pipeline
    ///   does not handle or an empty id; ``InboxError`` when the insert fails.
    public func schedule<E: Event>(_ event: E, id: String, after delay: Duration) throws {
        let scope = try required()
        try scope.schedule(event, id: id, dueMilliseconds: scope.configuration.dueMilliseconds(after: delay))
    }

    /// Schedules an event a while after a moment of the event in hand (a deadline counted from when a request was
    /// made, not from when it is handled), on the timer clock: `delay` divided by ``TimerConfiguration/timeScale``,
    /// added to `start`. A due time already past is due at once, so a request handled after its deadline (the
    /// service was behind) meets it at once.
    /// - Parameters:
    ///   - event: The event to deliver (a type the pipeline handles with ``Pipeline/on(_:_:)``).
    ///   - id: The timer's name among this key's timers: scheduling it again replaces it.
    ///   - delay: How long after `start`.
    ///   - start: The moment the delay counts from (an event's own time).
    /// - Returns: The due time.
    /// - Throws: As ``schedule(_:id:after:)``.
    @discardableResult
    public func schedule<E: Event>(_ event: E, id: String, after delay: Duration, from start: Date) throws -> Date {
        let scope = try required()
        let due = scope.configuration.dueMilliseconds(
            after: delay, from: Int64((start.timeIntervalSince1970 * 1000).rounded(.down)))
        try scope.schedule(event, id: id, dueMilliseconds: due)
        return Date(milliseconds: due)
    }

    /// Cancels a pending timer of this key.
    /// - Parameter id: The timer's id.
    /// - Returns: Whether a timer with that id was pending.
    /// - Throws: ``TimerError`` (wrapped in ``PermanentError``) without an inbox; ``InboxError`` when the delete
    ///   fails.
    @discardableResult
    public func cancel(id: String) throws -> Bool {
        let scope = try required()
        return try TimerStore.delete(
            group: scope.group, topic: scope.topic, partition: scope.partition, key: scope.key, id: id,
            in: scope.database
        )
    }

    /// When a pending timer of this key is due, as the transaction sees it (so a timer scheduled earlier in this
    /// handler is pending).
    /// - Parameter id: The timer's id.
    /// - Returns: Its due time, or nil when none is pending.
    /// - Throws: ``TimerError`` (wrapped in ``PermanentError``) without an inbox; ``InboxError`` when the query
    ///   fails.
    public func dueDate(of id: String) throws -> Date? {
        let scope = try required()
        let due = try TimerStore.dueMilliseconds(
            group: scope.group, topic: scope.topic, partition: scope.partition, key: scope.key, id: id,
            in: scope.database
        )
        return due.map(Date.init(milliseconds:))
    }

    /// Schedules a timer of Dabba's own (a window's close) at an exact due time on the timer clock.
    func scheduleInternal<E: Event>(_ event: E, id: String, dueMilliseconds: Int64) throws {
        try required().schedule(event, id: id, dueMilliseconds: dueMilliseconds)
    }

    private func required() throws -> TimerScope {
        guard let scope else {
            throw PermanentError(
                TimerError(
                    .noInbox,
                    "durable timers are rows of the inbox database, written in the handler's transaction, and this "
                        + "pipeline has no inbox: configure one (--inbox sqlite:PATH or a postgres:// URL; "
                        + "PipelineRunner(inbox:))"
                )
            )
        }
        return scope
    }
}

/// What scheduling needs besides the event: the pipeline's timer settings and handled types.
struct TimerEnvironment: Sendable {
    let configuration: TimerConfiguration
    let handledTypes: Set<String>
    /// The runner's knowledge of its next due timer, lowered by each schedule.
    let horizon = TimerHorizon()

    init(_ configuration: TimerConfiguration, handledTypes: some Sequence<String>) {
        self.configuration = configuration
        self.handledTypes = Set(handledTypes)
    }
}

/// The key a handler's timers belong to, and the transaction they are written in.
struct TimerScope: Sendable {
    let database: any InboxTransaction
    let environment: TimerEnvironment
    let group: String
    let topic: String
    let partition: Int32
    let key: String
    let cause: EventEnvelope
    let emitter: Emitter

    var configuration: TimerConfiguration { environment.configuration }

    func schedule<E: Event>(_ event: E, id: String, dueMilliseconds: Int64) throws {
        guard !id.isEmpty else {
            throw PermanentError(TimerError(.invalidID, "a timer id must not be empty (scheduling \(E.eventType))"))
        }
        guard environment.handledTypes.contains(E.eventType) else {
            throw PermanentError(
                TimerError(
                    .unhandledEventType,
                    "a timer delivers \(E.eventType) to this pipeline, which has no handler for it: add "
                        + "pipeline.on(\(E.self).self) { … }"
                )
            )
        }
        var metadata = EventMetadata()
        // Derived from what scheduled it: a handler run again after a crash schedules the same event.
        metadata.id = EventID.derived(
            from: ["dabba-timer", group, cause.id, topic, String(partition), key, id, String(dueMilliseconds)]
        )
        metadata.correlationID = cause.correlationID ?? cause.id
        metadata.causationID = cause.id
        metadata.traceParent = cause.traceParent
        metadata.traceState = cause.traceState
        metadata.time = Date(milliseconds: dueMilliseconds)
        metadata.topic = topic
        let record = try emitter.events.message(for: event, metadata: metadata)
        let timer = StoredTimer(
            topic: topic, partition: partition, key: key, id: id, dueMilliseconds: dueMilliseconds,
            eventID: metadata.id ?? "", value: record.value ?? [],
            headers: record.headers.map { OutboxHeader(name: $0.name, value: $0.value) }
        )
        try TimerStore.upsert(timer, group: group, in: database)
        environment.horizon.scheduled(dueMilliseconds: dueMilliseconds)
    }
}

extension EventContext {
    /// The durable timers of this event's key (see ``Timers``). Needs an inbox: without one, every call throws a
    /// ``TimerError`` naming the fix.
    public var timers: Timers {
        guard let database, let timerEnvironment else { return Timers(scope: nil) }
        return Timers(
            scope: TimerScope(
                database: database, environment: timerEnvironment, group: groupID, topic: topic, partition: partition,
                key: key ?? "", cause: envelope, emitter: emitter
            )
        )
    }
}
