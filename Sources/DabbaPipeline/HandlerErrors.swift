/// A failure worth retrying in place: the handler is called again after an exponential backoff with jitter, up to
/// ``RetryConfiguration/inPlaceAttempts`` times, before the event moves to the retry topics.
public struct TransientError: Error, CustomStringConvertible {
    /// The underlying error.
    public let underlying: any Error
    /// Wraps an error as transient.
    /// - Parameter underlying: The error.
    public init(_ underlying: any Error) { self.underlying = underlying }
    public var description: String { "\(underlying)" }
}

/// A failure no retry can fix (invalid business data, a rule violation): the event goes straight to the
/// dead-letter topic.
public struct PermanentError: Error, CustomStringConvertible {
    /// The underlying error.
    public let underlying: any Error
    /// Wraps an error as permanent.
    /// - Parameter underlying: The error.
    public init(_ underlying: any Error) { self.underlying = underlying }
    public var description: String { "\(underlying)" }
}

/// A handler failure described in words: a convenient error to throw from handlers.
public struct HandlerFailure: Error, CustomStringConvertible {
    /// What went wrong.
    public let reason: String
    /// Creates a failure.
    /// - Parameter reason: What went wrong.
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// How the runtime treats a handler error.
enum FailureKind: Sendable {
    case transient, retriable, permanent
}

extension FailureKind {
    init(_ error: any Error) {
        switch error {
        case is TransientError: self = .transient
        case is PermanentError: self = .permanent
        default: self = .retriable
        }
    }
}

/// The innermost error's type name and message, for diagnostic headers.
func describeFailure(_ error: any Error) -> (type: String, message: String) {
    var current: any Error = error
    while true {
        if let transient = current as? TransientError {
            current = transient.underlying
        } else if let permanent = current as? PermanentError {
            current = permanent.underlying
        } else {
            break
        }
    }
    return (String(reflecting: type(of: current)), String(describing: current))
}
