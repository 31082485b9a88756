/// An error starting a ``MetricsHTTPServer``.
///
/// A struct with an extensible ``Code`` rather than an enum, so new kinds of failure can be added without breaking
/// code that switches over them. ``message`` names the address involved, e.g.
/// `cannot listen on 0.0.0.0:9090: Address already in use (errno 98)`.
public struct MetricsServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// An argument was invalid, such as a port outside 0…65535.
        public static let invalidArgument = Code("invalidArgument")
        /// The host could not be resolved to an address.
        public static let addressResolution = Code("addressResolution")
        /// The port is already in use on that address (`EADDRINUSE`).
        public static let addressInUse = Code("addressInUse")
        /// The address could not be bound for another reason (for example `EACCES` for a privileged port, or
        /// `EADDRNOTAVAIL` for an address this host does not have).
        public static let bindFailed = Code("bindFailed")
        /// Another system call failed (creating the socket, listening, creating the wake-up pipe).
        public static let systemCall = Code("systemCall")

        /// The code's name.
        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation naming the address (`host:port`) involved.
    public var message: String
    /// The `errno` of the failed system call, if one failed.
    public var systemErrno: Int32?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A human-readable explanation.
    ///   - systemErrno: The `errno` of the failed system call, if any.
    public init(code: Code, message: String, systemErrno: Int32? = nil) {
        self.code = code
        self.message = message
        self.systemErrno = systemErrno
    }

    /// `"<code>: <message>"`.
    public var description: String { "\(code): \(message)" }
}
