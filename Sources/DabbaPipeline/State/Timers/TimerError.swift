/// A timer could not be scheduled or cancelled as asked.
public struct TimerError: Error, Sendable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        /// The pipeline has no inbox: timers are rows of its database, written in the handler's transaction.
        public static let noInbox = Code("noInbox")
        /// The timer's event type has no handler in the pipeline, so it could never be delivered.
        public static let unhandledEventType = Code("unhandledEventType")
        /// The timer id is empty.
        public static let invalidID = Code("invalidID")
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// What was wrong, and how to fix it.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: What was wrong, and how to fix it.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "timer \(code): \(message)" }
}
