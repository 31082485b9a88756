/// An error creating or starting a ``ServiceHTTPServer``.
///
/// A struct with an extensible ``Code`` rather than an enum, so new kinds of failure can be added without breaking
/// code that switches over them. ``message`` names the address involved, e.g.
/// `cannot listen on 0.0.0.0:9090: Address already in use (errno 98)`.
public struct ServiceHTTPServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The port is already in use on that address (`EADDRINUSE`).
        public static let addressInUse = Code("addressInUse")
        /// The address could not be bound for another reason: a host that does not resolve, an address this host
        /// does not have (`EADDRNOTAVAIL`), a privileged port (`EACCES`).
        public static let bindFailed = Code("bindFailed")
        /// An argument was invalid (a port outside 0…65535, a request timeout that is not positive, a negative body
        /// limit), or ``ServiceHTTPServer/run()`` was called while already running.
        public static let invalidArgument = Code("invalidArgument")

        /// The code's name.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation naming the address (`host:port`) involved.
    public var message: String

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A human-readable explanation naming the address involved.
    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code): \(message)" }
}
