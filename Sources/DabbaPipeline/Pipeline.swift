import DabbaEvents

/// What a domain service handles: its consumer group and one handler per event type, plus middleware.
///
/// ```swift
/// var pipeline = Pipeline(service: "orders", groupID: "food-orders")
/// pipeline.on(OrderPlaced.self) { event, context in
///     try context.database?.execute("INSERT INTO orders (id) VALUES (?)", [.text(event.orderID)])
///     try await context.emit(OrderConfirmed(orderID: event.orderID))
/// }
/// pipeline.ignore("food.order.viewed", because: "analytics only")
/// ```
public struct Pipeline: Sendable {
    /// The service name; emitted events carry `ce_source: /<service>`.
    public var service: String
    /// The consumer group the service's instances share.
    public var groupID: String
    var handlers: [String: EventHandler] = [:]
    var ignored: [String: String] = [:]
    var emitted: [any Event] = []
    var middleware: [any EventMiddleware] = []
    var breakers: [String: CircuitBreakerConfiguration] = [:]
    var tables = TableDeclarations()
    var windows = WindowDeclarations()
    var registry = EventRegistry()

    /// Creates an empty pipeline.
    /// - Parameters:
    ///   - service: The service name.
    ///   - groupID: The consumer group.
    public init(service: String, groupID: String) {
        self.service = service
        self.groupID = groupID
    }

    /// Handles an event type. Handlers of one partition run in order (or per key, see
    /// ``PipelineConfiguration/concurrency``).
    ///
    /// Throw ``TransientError`` for failures worth retrying in place (timeouts, a busy dependency), and
    /// ``PermanentError`` for failures no retry can fix (they go straight to the dead-letter topic). Any other
    /// error goes through the retry topics, then the dead-letter topic.
    /// - Parameters:
    ///   - type: The event type.
    ///   - handler: The work to do for each event.
    public mutating func on<E: Event>(
        _ type: E.Type,
        _ handler: @escaping @Sendable (E, EventContext) async throws -> Void
    ) {
        registry.register(type)
        handlers[E.eventType] = EventHandler(eventType: E.eventType) { decoded, context in
            // The payload is read as its own type, without an existential box or a dynamic cast.
            guard let event = decoded.payload(as: E.self) else {
                throw PermanentError(
                    HandlerTypeMismatch(
                        expected: E.eventType, actual: String(describing: Swift.type(of: decoded.payload))
                    )
                )
            }
            try await handler(event, context)
        }
    }

    /// Declares an event type this service receives on its topics but deliberately does not handle: such events are
    /// acknowledged and counted, never dead-lettered.
    /// - Parameters:
    ///   - eventType: The event type name.
    ///   - reason: Why it is ignored (documentation and logs).
    public mutating func ignore(_ eventType: String, because reason: String) {
        ignored[eventType] = reason
    }

    /// Declares an event type this service emits, with representative samples. Contract checks
    /// (`dabba contract verify`) encode each sample and validate it against the catalog's schema for its type, so
    /// a Swift type that drifts from `Topics/` fails before deploy.
    /// - Parameter samples: One or more sample events of the type (cover optional fields both set and unset).
    public mutating func emits<E: Event>(_ samples: E...) {
        emitted.append(contentsOf: samples.map { $0 as any Event })
    }

    /// Adds middleware around every handler; the first added is the outermost.
    /// - Parameter middleware: The middleware.
    public mutating func use(_ middleware: some EventMiddleware) {
        self.middleware.append(middleware)
    }

    /// The event types with a handler, or that feed a table or a window.
    public var handledEventTypes: [String] {
        Set(handlers.keys).union(tables.feeds.keys).union(windows.feeds.keys).sorted()
    }

    /// The handlers the runner calls: each handler, followed by the table changes and the window aggregations of its
    /// event type; event types that only feed tables or windows get a handler that only does that. With windows, also
    /// the handler of the timers that close them.
    var runnableHandlers: [String: EventHandler] {
        var runnable = handlers
        for eventType in Set(tables.feeds.keys).union(windows.feeds.keys) {
            let handler = handlers[eventType]
            let tableFeeds = tables.feeds[eventType] ?? []
            let windowFeeds = windows.feeds[eventType] ?? []
            runnable[eventType] = EventHandler(eventType: eventType) { decoded, context in
                try await handler?.invoke(decoded, context)
                // After the handler: it reads the table as it was before this event, and a failed attempt stages
                // nothing that a retry in place would stage again.
                if !tableFeeds.isEmpty {
                    try TableBatch.stage(tableFeeds.compactMap { try $0.change(decoded) }, of: decoded)
                }
                for feed in windowFeeds { try await feed.apply(decoded, context) }
            }
        }
        if let closeHandler = windows.closeHandler { runnable[WindowCloseDue.eventType] = closeHandler }
        return runnable
    }

    /// The event types explicitly ignored, with reasons.
    public var ignoredEventTypes: [String: String] { ignored }

    /// The sample events declared with ``emits(_:)``, in declaration order.
    public var emittedSamples: [any Event] { emitted }

    /// The registry of handled event types.
    public var eventRegistry: EventRegistry { registry }
}

struct EventHandler: Sendable {
    let eventType: String
    let invoke: @Sendable (DecodedEvent, EventContext) async throws -> Void
}

struct HandlerTypeMismatch: Error, CustomStringConvertible {
    let expected: String
    let actual: String
    var description: String { "handler for \(expected) received a \(actual)" }
}
