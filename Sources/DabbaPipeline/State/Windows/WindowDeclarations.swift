import DabbaEvents
import DabbaInbox
import Foundation

/// The windowed aggregations a pipeline declares: per event type the windows its events feed, and per window how
/// its results are emitted.
struct WindowDeclarations: Sendable {
    /// The declarations in order (names may repeat: refused when the runner starts).
    private(set) var specs: [(name: String, spec: WindowSpec, lateEvents: LateEvents)] = []
    /// Per event type, the windows its events feed, in declaration order.
    private(set) var feeds: [String: [WindowFeed]] = [:]
    /// Per window, how it closes (emits its result).
    private(set) var closers: [String: WindowCloser] = [:]
    /// Per window, the type of its result event.
    private(set) var resultTypes: [String: String] = [:]

    /// The declared window names, sorted.
    var names: [String] { Set(specs.map(\.name)).sorted() }

    mutating func add(
        name: String, spec: WindowSpec, lateEvents: LateEvents, eventType: String, resultType: String,
        feed: WindowFeed, closer: WindowCloser
    ) {
        specs.append((name, spec, lateEvents))
        feeds[eventType, default: []].append(feed)
        closers[name] = closer
        resultTypes[name] = resultType
    }

    /// What is wrong with the declarations, naming the window, or nil.
    /// - Parameters:
    ///   - hasInbox: Whether the runner has an inbox (windows need one).
    ///   - routes: Where emitted events go: every window's result type needs a topic.
    func problem(hasInbox: Bool, routes: EventRoutes) -> String? {
        guard !specs.isEmpty else { return nil }
        guard hasInbox else {
            return "the pipeline aggregates windows (\(names.joined(separator: ", "))) and their aggregates live in "
                + "the inbox database: configure an inbox (--inbox sqlite:PATH or postgres://…; "
                + "PipelineRunner(inbox:))"
        }
        var seen: Set<String> = []
        for (name, spec, lateEvents) in specs {
            if name.isEmpty { return "a window has an empty name: name every window" }
            if !seen.insert(name).inserted {
                return "the window name '\(name)' is declared twice: names must be unique"
            }
            if let problem = spec.problem { return "window '\(name)': \(problem)" }
            if case .route(let topic) = lateEvents, topic.isEmpty {
                return "window '\(name)': the topic for late events is empty"
            }
        }
        // A result that cannot be routed would fail every event that closes a window: refused before the first.
        let unrouted = resultTypes.sorted { $0.key < $1.key }.filter { routes.topic(for: $0.value) == nil }
        for (name, resultType) in unrouted {
            return "window '\(name)': its result event type \(resultType) has no topic to go to (declare it in the "
                + "catalog, or give the runner a route for it)"
        }
        return nil
    }

    /// The handler of the timers that close windows on the wall clock, or nil without windows.
    var closeHandler: EventHandler? {
        guard !closers.isEmpty else { return nil }
        let closers = self.closers
        return EventHandler(eventType: WindowCloseDue.eventType) { decoded, context in
            guard let due = decoded.payload(as: WindowCloseDue.self), let database = context.database else { return }
            // A window no longer declared has nobody to emit its result: its row stays for inspection.
            guard let closer = closers[due.window] else {
                context.logger.warning("a close timer names the window '\(due.window)', which is no longer declared")
                return
            }
            guard
                let row = try WindowStore.row(
                    group: context.groupID, name: due.window, key: context.key ?? "", start: due.start, in: database
                ), !row.closed
            else { return }  // closed by stream time first
            try await closer.close(row, context)
        }
    }
}

/// How events of one type feed one window.
struct WindowFeed: Sendable {
    let apply: @Sendable (DecodedEvent, EventContext) async throws -> Void
}

/// How one window emits its result and records that it closed.
struct WindowCloser: Sendable {
    let close: @Sendable (WindowStore.Row, EventContext) async throws -> Void
}

/// The event of the durable timer that closes one window of one key on the wall clock (the key is the timer's).
struct WindowCloseDue: Event {
    static let eventType = "dabba.window.close-due"
    var window: String
    var start: Int64
    var partitionKey: String? { nil }
}

/// Why a windowed aggregation could not take an event.
public struct WindowError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        /// The event has no time: no `ce_time` and no record timestamp.
        public static let noEventTime = Code(name: "noEventTime")
        /// The pipeline has no inbox (the runner refuses to start first).
        public static let noInbox = Code(name: "noInbox")
        /// A stored aggregate could not be read or written as its type.
        public static let aggregateCoding = Code(name: "aggregateCoding")
        public var description: String { name }
    }

    /// What went wrong.
    public var code: Code
    /// What went wrong, naming the window and the event.
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "window \(code): \(message)" }
}
