import Logging
import NIOCore
import NIOHTTP1

/// Bounds how long one connection may take over its side of each exchange, and refuses oversized request heads.
///
/// It sits right after NIO's HTTP/1 decoder (before Hummingbird's conversion to HTTP types), so it sees request
/// heads with their HTTP version. A connection is always in one of three phases:
///
/// - **Receiving** (from the connection's start, and after each response): the client must deliver a whole request,
///   head and body, within the request timeout. Bytes trickling in do not extend it.
/// - **Handling** (a request is in, its response not begun): no limit; the application's handler decides.
/// - **Responding** (from the response head until its last byte is handed to the kernel): the client must take the
///   response within the request timeout.
///
/// When the time of a phase runs out the connection is closed, whatever is in flight. Hummingbird's own idle timeout
/// is not enough for this: it is reset by every request part read (a body sent a byte at a time never ends) and it
/// does not run while a response is being written (a client that never reads holds the connection forever).
///
/// It also closes the connection after the response to a request that is not keep-alive (HTTP/1.0 without
/// `Connection: keep-alive`, or any `Connection: close`), by passing on a plain `Connection: close` header, the only
/// form Hummingbird checks for.
///
/// A request head over the decoder's limits (``ServiceHTTPServer/maximumRequestHeadSize``) is answered with
/// `431 Request Header Fields Too Large`, after which the sending side is shut down and the rest of the input is
/// discarded until the client closes or the request timeout closes the connection.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let timeout: TimeAmount
    private let logger: Logger

    /// Request heads read.
    private var requestsStarted = 0
    /// Request ends read.
    private var requestsRead = 0
    /// Final (not `1xx`) response heads written.
    private var responsesStarted = 0
    /// Response ends written to the socket.
    private var responsesFinished = 0
    /// Set once an oversized head was refused: everything after is discarded.
    private var refused = false

    /// Set once the channel has closed or the handler was removed: no deadline is started after that.
    private var isDone = false
    private var deadline: Scheduled<Void>?
    /// Tells a deadline that fired after it was replaced that it is stale.
    private var deadlineGeneration = 0

    init(timeout: TimeAmount, logger: Logger) {
        self.timeout = timeout
        self.logger = logger
    }

    // MARK: Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { startDeadline(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        isDone = true
        cancelDeadline()
    }

    func channelActive(context: ChannelHandlerContext) {
        startDeadline(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        isDone = true
        cancelDeadline()
        context.fireChannelInactive()
    }

    // MARK: Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !refused else { return }
        switch unwrapInboundIn(data) {
        case .head(var head):
            requestsStarted += 1
            if !head.isKeepAlive, head.headers["connection"] != ["close"] {
                head.headers.replaceOrAdd(name: "connection", value: "close")
                context.fireChannelRead(wrapInboundOut(.head(head)))
                return
            }
        case .body:
            break
        case .end:
            requestsRead += 1
            if isHandling { cancelDeadline() }
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // After a refusal the decoder reports every further read as an error: they are the discarded input.
        guard !refused else { return }
        if let parserError = error as? HTTPParserError, parserError == .headerOverflow, isIdle {
            refuseOversizedHead(context)
            return
        }
        context.fireErrorCaught(error)
    }

    // MARK: Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.code >= 200:
            responsesStarted += 1
            startDeadline(context)
        case .head, .body:
            break
        case .end:
            let promise = promise ?? context.eventLoop.makePromise()
            promise.futureResult.assumeIsolated().whenSuccess { [self] in
                responsesFinished += 1
                if isHandling { cancelDeadline() } else { startDeadline(context) }
            }
            context.write(data, promise: promise)
            return
        }
        context.write(data, promise: promise)
    }

    // MARK: Phases

    /// A request is fully read and its response has not begun: the application's handler has it.
    private var isHandling: Bool {
        requestsRead > responsesStarted && responsesStarted == responsesFinished
    }

    /// No request is in progress and no response is owed.
    private var isIdle: Bool {
        requestsStarted == responsesFinished && responsesStarted == responsesFinished
    }

    private func startDeadline(_ context: ChannelHandlerContext) {
        cancelDeadline()
        guard !isDone else { return }
        deadlineGeneration += 1
        let generation = deadlineGeneration
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            guard generation == deadlineGeneration else { return }
            deadline = nil
            logger.debug(
                "Closing an HTTP connection whose client did not send its request or take its response in time",
                metadata: [
                    "peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")",
                    "timeout": "\(timeout)",
                ]
            )
            context.close(promise: nil)
        }
    }

    private func cancelDeadline() {
        deadlineGeneration += 1
        deadline?.cancel()
        deadline = nil
    }

    // MARK: Refusal

    private func refuseOversizedHead(_ context: ChannelHandlerContext) {
        refused = true
        logger.debug(
            "Refusing an HTTP request head over the size limit",
            metadata: ["peer": "\(context.channel.remoteAddress.map { "\($0)" } ?? "unknown")"]
        )
        let body = ByteBuffer(string: "request header fields too large\n")
        let headers = HTTPHeaders([
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", String(body.readableBytes)),
            ("Connection", "close"),
        ])
        let head = HTTPResponseHead(version: .http1_1, status: .requestHeaderFieldsTooLarge, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        // The deadline of the receiving phase still runs and closes the connection if the client never does.
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenSuccess {
            context.close(mode: .output, promise: nil)
        }
    }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}
