/// A call through a circuit breaker was refused, or it failed and opened the breaker: the dependency is down.
///
/// When a handler's event ends with this error the pipeline holds the event instead of retrying or dead-lettering
/// it: the event is not marked, its partition is rewound to it and paused until the breaker's next probe, and it is
/// handled again after the dependency recovers (see ``EventContext/breaker(_:)``). A handler may also catch it and
/// fall back to something else.
public struct DependencyUnavailable: Error, Sendable, CustomStringConvertible {
    /// Why the call did not reach (or did not succeed at) the dependency.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        private init(_ name: String) { self.name = name }
        /// The breaker is open: the call was refused without calling the dependency.
        public static let open = Code("open")
        /// The breaker is half-open and its probe calls are taken: the call was refused.
        public static let probing = Code("probing")
        /// The call failed and its failure opened the breaker (or re-opened it, as a failed probe).
        public static let tripped = Code("tripped")
        /// The code's name.
        public var description: String { name }
    }

    /// Why.
    public let code: Code
    /// The breaker's (dependency's) name.
    public let dependency: String
    /// The failure that tripped the breaker (code ``Code/tripped``), described.
    public let cause: String?

    /// Creates the error.
    /// - Parameters:
    ///   - code: Why.
    ///   - dependency: The breaker's name.
    ///   - cause: The failure that tripped the breaker, if this call did.
    public init(_ code: Code, dependency: String, cause: String? = nil) {
        self.code = code
        self.dependency = dependency
        self.cause = cause
    }

    public var description: String {
        switch code {
        case .tripped: "dependency '\(dependency)' unavailable: this call opened its circuit breaker (\(cause ?? ""))"
        case .probing: "dependency '\(dependency)' unavailable: its circuit breaker is half-open and probing"
        default: "dependency '\(dependency)' unavailable: its circuit breaker is open"
        }
    }
}
