import DabbaEvents
import Logging

/// Code around every handler call: logging, metrics, timeouts, authorization, custom concerns.
///
/// Middleware forms one chain; the first added with ``Pipeline/use(_:)`` is the outermost. Call `next` to go on;
/// not calling it skips the handler (the event counts as handled).
public protocol EventMiddleware: Sendable {
    /// Handles one event.
    /// - Parameters:
    ///   - event: The decoded event.
    ///   - context: The event's context.
    ///   - next: The rest of the chain.
    func handle(
        _ event: DecodedEvent,
        context: EventContext,
        next: @Sendable (DecodedEvent, EventContext) async throws -> Void
    ) async throws
}

/// Fails a handler call that takes longer than a limit, with a ``TransientError`` (so it is retried).
public struct TimeoutMiddleware: EventMiddleware {
    /// The limit.
    public let limit: Duration

    /// Creates the middleware.
    /// - Parameter limit: How long one handler call may take.
    public init(_ limit: Duration) { self.limit = limit }

    public func handle(
        _ event: DecodedEvent,
        context: EventContext,
        next: @Sendable (DecodedEvent, EventContext) async throws -> Void
    ) async throws {
        try await withoutActuallyEscaping(next) { next in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                group.addTask {
                    try await next(event, context)
                    return true
                }
                group.addTask {
                    try await Task.sleep(for: limit)
                    return false
                }
                let finished = try await group.next() ?? false
                group.cancelAll()
                if !finished {
                    throw TransientError(HandlerFailure("handler for \(event.envelope.type) timed out after \(limit)"))
                }
            }
        }
    }
}

/// Logs each event at a level, with the handler's outcome and duration.
public struct LoggingMiddleware: EventMiddleware {
    /// The level for successful events.
    public let level: Logger.Level

    /// Creates the middleware.
    /// - Parameter level: The level for successful events (failures log at warning).
    public init(level: Logger.Level = .debug) { self.level = level }

    public func handle(
        _ event: DecodedEvent,
        context: EventContext,
        next: @Sendable (DecodedEvent, EventContext) async throws -> Void
    ) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await next(event, context)
            context.logger.log(level: level, "handled \(event.envelope.type) in \(clock.now - start)")
        } catch {
            context.logger.warning("handler for \(event.envelope.type) failed: \(error)")
            throw error
        }
    }
}
