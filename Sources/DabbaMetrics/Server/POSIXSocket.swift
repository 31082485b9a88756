#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Thin wrappers over the socket system calls the metrics server uses, hiding the Glibc/Darwin differences.
///
/// Every descriptor is made close-on-exec (so subprocesses do not inherit the port) and non-blocking: all waiting
/// goes through the server loop's `poll(2)`, which also watches the wake-up pipe that ``MetricsHTTPServer/stop()``
/// signals.
enum POSIXSocket {
    #if canImport(Glibc)
    private static let streamType = Int32(SOCK_STREAM.rawValue)
    private static let closeOnExecFlag = Int32(SOCK_CLOEXEC.rawValue)
    /// Glibc: no `SIGPIPE` when the peer has gone.
    private static let sendFlags = Int32(MSG_NOSIGNAL)
    #else
    private static let streamType = SOCK_STREAM
    private static let closeOnExecFlag: Int32 = 0
    /// Darwin has no `MSG_NOSIGNAL`; accepted sockets get `SO_NOSIGPIPE` instead.
    private static let sendFlags: Int32 = 0
    #endif

    /// The current `errno`.
    static var lastError: Int32 { errno }

    /// A readable description of an `errno` value, e.g. `Address already in use (errno 98)`.
    static func describe(errno code: Int32) -> String {
        let text = strerror(code).map { String(cString: $0) } ?? "error"
        return "\(text) (errno \(code))"
    }

    /// `host:port`, with IPv6 literals in brackets.
    static func displayAddress(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    // MARK: Listening

    /// Resolves `host`, binds the first address that accepts the port, and listens.
    /// - Returns: The listening descriptor and the bound port (the ephemeral one when `port` is 0).
    static func listen(host: String, port: Int, backlog: Int32 = 128) throws -> (descriptor: Int32, port: Int) {
        let address = displayAddress(host: host, port: port)
        guard (0...65535).contains(port) else {
            throw MetricsServerError(code: .invalidArgument, message: "port \(port) is outside 0…65535 (\(address))")
        }

        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = streamType
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let resolved = getaddrinfo(host.isEmpty ? nil : host, String(port), &hints, &list)
        guard resolved == 0, let first = list else {
            let reason = gai_strerror(resolved).map { String(cString: $0) } ?? "error \(resolved)"
            throw MetricsServerError(code: .addressResolution, message: "cannot resolve \(address): \(reason)")
        }
        defer { freeaddrinfo(first) }

        var failure = MetricsServerError(code: .bindFailed, message: "cannot listen on \(address): no address")
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let info = entry?.pointee {
            entry = info.ai_next
            guard let socketAddress = info.ai_addr else { continue }
            let descriptor = socket(info.ai_family, info.ai_socktype | closeOnExecFlag, info.ai_protocol)
            guard descriptor >= 0 else {
                failure = systemError(.systemCall, "cannot create a socket for \(address)")
                continue
            }
            setCloseOnExecAndNonBlocking(descriptor)
            var one: Int32 = 1
            _ = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))

            if bind(descriptor, socketAddress, info.ai_addrlen) != 0 {
                let code = errno
                failure = MetricsServerError(
                    code: code == EADDRINUSE ? .addressInUse : .bindFailed,
                    message: "cannot listen on \(address): \(describe(errno: code))",
                    systemErrno: code
                )
                _ = close(descriptor)
                continue
            }
            #if canImport(Glibc)
            let listened = Glibc.listen(descriptor, backlog)
            #else
            let listened = Darwin.listen(descriptor, backlog)
            #endif
            guard listened == 0, let boundPort = localPort(descriptor) else {
                failure = systemError(.systemCall, "cannot listen on \(address)")
                _ = close(descriptor)
                continue
            }
            return (descriptor, boundPort)
        }
        throw failure
    }

    /// The local port a socket is bound to.
    static func localPort(_ descriptor: Int32) -> Int? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let result = withUnsafeMutablePointer(to: &storage) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        return withUnsafePointer(to: &storage) { pointer -> Int? in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET:
                pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin_port))
                }
            case AF_INET6:
                pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                    Int(UInt16(bigEndian: $0.pointee.sin6_port))
                }
            default:
                nil
            }
        }
    }

    // MARK: Connections

    enum AcceptResult {
        /// A new connection, close-on-exec and non-blocking.
        case connection(Int32)
        /// Nothing to accept after all (spurious wake-up, or the client already gave up): poll again.
        case retry
        /// Out of descriptors or memory, or an unexpected error: wait a little before trying again.
        case backOff
    }

    static func accept(_ listener: Int32) -> AcceptResult {
        // Glibc's Swift module does not export `accept4`, so the flags are set right after (the descriptor could
        // leak into a process forked in between; the listening socket itself is created close-on-exec).
        #if canImport(Glibc)
        let descriptor = Glibc.accept(listener, nil, nil)
        #else
        let descriptor = Darwin.accept(listener, nil, nil)
        #endif
        guard descriptor >= 0 else {
            switch errno {
            case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED, EPROTO: return .retry
            default: return .backOff
            }
        }
        setCloseOnExecAndNonBlocking(descriptor)
        #if !canImport(Glibc)
        var one: Int32 = 1
        _ = setsockopt(descriptor, SOL_SOCKET, SO_NOSIGPIPE, &one, socklen_t(MemoryLayout<Int32>.size))
        #endif
        return .connection(descriptor)
    }

    /// Milliseconds from now until `deadline`, rounded up, at least 0.
    static func milliseconds(until deadline: ContinuousClock.Instant) -> Int32 {
        let remaining = deadline - ContinuousClock.now
        guard remaining > .zero else { return 0 }
        let (seconds, attoseconds) = remaining.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let milliseconds = seconds * 1000 + (attoseconds + perMillisecond - 1) / perMillisecond
        return Int32(clamping: milliseconds)
    }

    enum ReceiveResult {
        case received(Int)
        case wouldBlock
        case endOfStream
        case failed
    }

    static func receive(_ descriptor: Int32, into buffer: UnsafeMutableRawBufferPointer) -> ReceiveResult {
        let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
        if count > 0 { return .received(count) }
        if count == 0 { return .endOfStream }
        switch errno {
        case EAGAIN, EWOULDBLOCK, EINTR: return .wouldBlock
        default: return .failed
        }
    }

    enum SendResult {
        case sent(Int)
        case wouldBlock
        case failed
    }

    /// Sends without raising `SIGPIPE` if the peer has gone.
    static func send(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> SendResult {
        #if canImport(Glibc)
        let count = Glibc.send(descriptor, bytes.baseAddress, bytes.count, sendFlags)
        #else
        let count = Darwin.send(descriptor, bytes.baseAddress, bytes.count, sendFlags)
        #endif
        if count >= 0 { return .sent(count) }
        switch errno {
        case EAGAIN, EWOULDBLOCK, EINTR: return .wouldBlock
        default: return .failed
        }
    }

    /// Half-closes the sending side, so the client sees the end of the response.
    static func shutdownWrite(_ descriptor: Int32) {
        _ = shutdown(descriptor, Int32(SHUT_WR))
    }

    static func closeDescriptor(_ descriptor: Int32) {
        _ = close(descriptor)
    }

    // MARK: Wake-up pipe

    /// A pipe whose read end becomes readable when the server should stop; both ends non-blocking.
    static func makeWakeUpPipe() throws -> (read: Int32, write: Int32) {
        var descriptors: [Int32] = [-1, -1]
        guard pipe(&descriptors) == 0 else {
            throw systemError(.systemCall, "cannot create the metrics server's wake-up pipe")
        }
        setCloseOnExecAndNonBlocking(descriptors[0])
        setCloseOnExecAndNonBlocking(descriptors[1])
        return (descriptors[0], descriptors[1])
    }

    /// Makes the wake-up pipe readable (once is enough: nothing ever drains it).
    static func signal(_ writeEnd: Int32) {
        var byte: UInt8 = 1
        _ = write(writeEnd, &byte, 1)
    }

    // MARK: Helpers

    /// Names the calling thread for debuggers and `top -H`; at most 15 bytes are kept on Linux.
    ///
    /// Glibc's Swift module does not export `pthread_setname_np`, and Foundation's `Thread.name` does not reliably
    /// reach the OS thread on Linux, so there the name is written to `/proc/thread-self/comm`. Best effort.
    static func nameCurrentThread(_ name: String) {
        #if canImport(Glibc)
        let descriptor = open("/proc/thread-self/comm", O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        _ = close(descriptor)
        #else
        _ = pthread_setname_np(name)
        #endif
    }

    private static func setCloseOnExecAndNonBlocking(_ descriptor: Int32) {
        _ = fcntl(descriptor, F_SETFD, fcntl(descriptor, F_GETFD) | FD_CLOEXEC)
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
    }

    private static func systemError(_ code: MetricsServerError.Code, _ what: String) -> MetricsServerError {
        let number = errno
        return MetricsServerError(code: code, message: "\(what): \(describe(errno: number))", systemErrno: number)
    }
}
