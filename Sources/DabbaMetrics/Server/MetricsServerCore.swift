import Foundation
import Synchronization

/// The state shared by a ``MetricsHTTPServer`` and its thread, and the thread's event loop.
///
/// The loop multiplexes the listening socket, the wake-up pipe and every open connection with one `poll(2)`, so slow
/// clients are served side by side and each is bounded by its own deadline: none can hold up a health probe for
/// longer than it takes to answer it. All sockets are non-blocking.
///
/// The thread keeps the core alive until it finishes, and owns the listening descriptor: it closes it itself, so the
/// descriptor number cannot be reused by another file while a `poll` still watches it.
final class MetricsServerCore: Sendable {
    /// The largest request head (request line and headers) read.
    static let maximumHeadSize = 8 * 1024
    /// Connections served at once; more wait in the listen backlog.
    static let maximumConnections = 64
    /// How long to read and discard what a client still sends after its response, so closing does not reset the
    /// connection before the client has read the response.
    static let lingerTime = Duration.milliseconds(250)
    /// The most bytes discarded while lingering.
    static let lingerBudget = 64 * 1024

    private let listener: Int32
    private let wakeUp: (read: Int32, write: Int32)
    private let routes: MetricsRoutes
    private let requestTimeout: Duration
    private let state = Mutex(State())

    private struct State {
        var stopRequested = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    init(listener: Int32, wakeUp: (read: Int32, write: Int32), routes: MetricsRoutes, requestTimeout: Duration) {
        self.listener = listener
        self.wakeUp = wakeUp
        self.routes = routes
        self.requestTimeout = requestTimeout
    }

    deinit {
        POSIXSocket.closeDescriptor(wakeUp.read)
        POSIXSocket.closeDescriptor(wakeUp.write)
    }

    /// Makes the loop stop at its next wake-up, which is at once. Idempotent.
    func requestStop() {
        let first = state.withLock { state in
            defer { state.stopRequested = true }
            return !state.stopRequested
        }
        if first { POSIXSocket.signal(wakeUp.write) }
    }

    /// Suspends until ``run()`` has returned (immediately if it already has).
    func waitUntilFinished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = state.withLock { state in
                if !state.finished { state.waiters.append(continuation) }
                return state.finished
            }
            if finished { continuation.resume() }
        }
    }

    // MARK: - The server's thread

    /// One client connection and where it is in its single exchange.
    private final class Connection {
        enum Phase {
            case readingHead
            case writingResponse
            /// The response is sent and the sending side shut down; reading and discarding until the client closes.
            case lingering
        }

        let descriptor: Int32
        var phase = Phase.readingHead
        var deadline: ContinuousClock.Instant
        /// The request head while reading it; scratch space while lingering.
        var input = [UInt8](repeating: 0, count: MetricsServerCore.maximumHeadSize)
        var filled = 0
        var output: [UInt8] = []
        var written = 0
        /// Whether the client may still be sending after its head (a request body, say).
        var mayStillBeSending = true
        var lingerBudget = MetricsServerCore.lingerBudget

        init(descriptor: Int32, deadline: ContinuousClock.Instant) {
            self.descriptor = descriptor
            self.deadline = deadline
        }

        var pollEvents: Int16 {
            phase == .writingResponse ? Int16(POLLOUT) : Int16(POLLIN)
        }
    }

    /// The event loop; returns when a stop is requested, having closed every connection and the listening socket.
    func run() {
        var connections: [Connection] = []
        var acceptPausedUntil: ContinuousClock.Instant?
        defer {
            for connection in connections { POSIXSocket.closeDescriptor(connection.descriptor) }
            POSIXSocket.closeDescriptor(listener)
            let waiters = state.withLock { state in
                state.finished = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }

        while true {
            if let until = acceptPausedUntil, ContinuousClock.now >= until { acceptPausedUntil = nil }
            let accepting = acceptPausedUntil == nil && connections.count < Self.maximumConnections

            var descriptors = [
                pollfd(fd: wakeUp.read, events: Int16(POLLIN), revents: 0),
                pollfd(fd: listener, events: accepting ? Int16(POLLIN) : 0, revents: 0),
            ]
            descriptors += connections.map { pollfd(fd: $0.descriptor, events: $0.pollEvents, revents: 0) }
            let nextDeadline = (connections.map(\.deadline) + [acceptPausedUntil].compactMap { $0 }).min()
            let timeout = nextDeadline.map(POSIXSocket.milliseconds(until:)) ?? -1

            let ready = poll(&descriptors, nfds_t(descriptors.count), timeout)
            if ready < 0 {
                guard POSIXSocket.lastError == EINTR else {
                    // Not expected (the arguments are valid); avoid spinning and try again.
                    acceptPausedUntil = .now + .milliseconds(100)
                    usleep(10_000)
                    continue
                }
            }
            if descriptors[0].revents != 0 { return }

            let now = ContinuousClock.now
            var open: [Connection] = []
            open.reserveCapacity(connections.count)
            for (index, connection) in connections.enumerated() {
                var done = false
                if ready > 0, descriptors[index + 2].revents != 0 {
                    done = advance(connection)
                }
                if !done, now >= connection.deadline {
                    done = expire(connection)
                }
                if done {
                    POSIXSocket.closeDescriptor(connection.descriptor)
                } else {
                    open.append(connection)
                }
            }
            connections = open

            if accepting, ready > 0, descriptors[1].revents != 0 {
                acceptConnections(into: &connections, pausedUntil: &acceptPausedUntil)
            }
        }
    }

    /// Accepts what is waiting, up to the connection limit.
    private func acceptConnections(
        into connections: inout [Connection],
        pausedUntil: inout ContinuousClock.Instant?
    ) {
        while connections.count < Self.maximumConnections {
            switch POSIXSocket.accept(listener) {
            case .connection(let descriptor):
                let connection = Connection(descriptor: descriptor, deadline: .now + requestTimeout)
                // The request has usually arrived with the connection: try at once.
                if advance(connection) {
                    POSIXSocket.closeDescriptor(descriptor)
                } else {
                    connections.append(connection)
                }
            case .retry:
                return
            case .backOff:
                // Out of descriptors, say: leave the backlog alone for a moment rather than spin.
                pausedUntil = .now + .milliseconds(100)
                return
            }
        }
    }

    /// Does what the connection is ready for. Returns whether it is finished and should be closed.
    private func advance(_ connection: Connection) -> Bool {
        switch connection.phase {
        case .readingHead: readHead(connection)
        case .writingResponse: writeResponse(connection)
        case .lingering: linger(connection)
        }
    }

    /// Handles a passed deadline. Returns whether the connection should be closed.
    private func expire(_ connection: Connection) -> Bool {
        switch connection.phase {
        case .readingHead:
            respond(connection, with: .requestTimeout, mayStillBeSending: true)
            return writeResponse(connection)
        case .writingResponse, .lingering:
            return true
        }
    }

    private func readHead(_ connection: Connection) -> Bool {
        let limit = Self.maximumHeadSize
        while connection.filled < limit {
            let filled = connection.filled
            let received = connection.input.withUnsafeMutableBytes { bytes in
                POSIXSocket.receive(
                    connection.descriptor,
                    into: UnsafeMutableRawBufferPointer(rebasing: bytes[filled...])
                )
            }
            switch received {
            case .received(let count):
                connection.filled += count
                let searchFrom = max(0, filled - 3)
                if let end = Self.endOfHead(in: connection.input[searchFrom..<connection.filled]) {
                    let head = connection.input[..<end]
                    respond(
                        connection,
                        with: routes.response(toHead: head),
                        mayStillBeSending: connection.filled > end || !head.starts(with: "GET ".utf8)
                    )
                    return writeResponse(connection)
                }
            case .wouldBlock:
                return false
            case .endOfStream, .failed:
                return true
            }
        }
        respond(connection, with: .headTooLarge, mayStillBeSending: true)
        return writeResponse(connection)
    }

    private func respond(_ connection: Connection, with response: HTTPResponse, mayStillBeSending: Bool) {
        connection.phase = .writingResponse
        connection.output = response.serialized()
        connection.written = 0
        connection.mayStillBeSending = mayStillBeSending
        connection.deadline = .now + requestTimeout
    }

    private func writeResponse(_ connection: Connection) -> Bool {
        while connection.written < connection.output.count {
            let written = connection.written
            let sent = connection.output.withUnsafeBytes { bytes in
                POSIXSocket.send(connection.descriptor, UnsafeRawBufferPointer(rebasing: bytes[written...]))
            }
            switch sent {
            case .sent(let count): connection.written += count
            case .wouldBlock: return false
            case .failed: return true
            }
        }
        POSIXSocket.shutdownWrite(connection.descriptor)
        connection.output = []
        connection.phase = .lingering
        connection.deadline = .now + Self.lingerTime
        return linger(connection)
    }

    /// Discards input until the client closes. A client that is not expected to send more is let go as soon as
    /// nothing is pending.
    private func linger(_ connection: Connection) -> Bool {
        while connection.lingerBudget > 0 {
            let received = connection.input.withUnsafeMutableBytes {
                POSIXSocket.receive(connection.descriptor, into: $0)
            }
            switch received {
            case .received(let count): connection.lingerBudget -= count
            case .wouldBlock: return !connection.mayStillBeSending
            case .endOfStream, .failed: return true
            }
        }
        return true
    }

    /// The index just past the first `\r\n\r\n` (or bare `\n\n`) in `bytes`, in `bytes`' indices.
    static func endOfHead(in bytes: ArraySlice<UInt8>) -> Int? {
        let lineFeed = UInt8(ascii: "\n")
        let carriageReturn = UInt8(ascii: "\r")
        var index = bytes.startIndex
        while let next = bytes[index...].firstIndex(of: lineFeed) {
            let after = next + 1
            if after < bytes.endIndex, bytes[after] == lineFeed { return after + 1 }
            if after + 1 < bytes.endIndex, bytes[after] == carriageReturn, bytes[after + 1] == lineFeed {
                return after + 2
            }
            index = after
        }
        return nil
    }
}
