import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A service's HTTP endpoint: health and readiness checks, Prometheus metrics and the application's own routes,
/// served by Hummingbird 2.
///
/// ```swift
/// let server = try ServiceHTTPServer(
///     port: 9090,
///     metrics: registry,
///     readiness: { consumer.isAssigned ? .ok : .unhealthy("no partitions assigned") }
/// )
/// let group = ServiceGroup(services: [pipeline, server], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
///
/// Routes:
/// - `GET /metrics`: the registry in the Prometheus text format 0.0.4 (`text/plain; version=0.0.4; charset=utf-8`);
///   without a registry, `404` saying that the application's own metrics backend exports them.
/// - `GET /health`: liveness. `200` with body `ok\n` (the status's reason and a line feed), or `503` with the reason.
/// - `GET /ready`: readiness, answered the same way from the readiness check.
/// - The application's ``ServiceRoute``s; their paths take precedence over the three above.
/// - Any other path: `404`. Another method on a served path: `405` with an `Allow` header. `HEAD` is answered
///   wherever `GET` is, with the headers of the `GET` answer and no body.
///
/// Guarantees:
/// - A request head (request target and headers) over ``maximumRequestHeadSize`` bytes is refused with
///   `431 Request Header Fields Too Large` and `Connection: close`; the server then ends its side of the connection
///   and drops whatever else the client sends. Other malformed requests get `400 Bad Request`, likewise.
/// - A request body over `maxRequestBodySize` bytes (declared in `Content-Length`, or counted as it arrives) is
///   answered with `413 Payload Too Large`; smaller bodies are read and dropped.
/// - A client must deliver each whole request within `requestTimeout` of the connection opening or of the previous
///   response: one that sends part of a request (or nothing) and stalls is disconnected, without an answer, once it
///   has taken that long. Trickling bytes does not extend the time.
/// - A client must take each response within `requestTimeout` of its first byte; one that does not read is
///   disconnected.
/// - Connections are served side by side on NIO's event loops: slow or stalled clients do not delay anyone else's
///   health probe. At most ``maximumConnections`` are open at once; more wait in the listen backlog.
/// - A client that half-closes its connection (`shutdown(SHUT_WR)`) after sending a request still gets the answer.
/// - A client that vanishes mid-request or mid-response costs its connection only: no crash and no `SIGPIPE` (NIO
///   ignores `SIGPIPE` for the process on Linux and sets `SO_NOSIGPIPE` on Darwin).
/// - Connections are kept alive between requests (within the same `requestTimeout`); a `Connection: close` request,
///   or an HTTP/1.0 one without keep-alive, is answered and its connection closed.
/// - ``run()`` returns when its task is cancelled or on a graceful shutdown (swift-service-lifecycle), having closed
///   the listening socket: the port can be bound again at once. A graceful shutdown lets requests in progress finish.
///
/// ## Threads
/// The whole server (accepting, the connections' tasks, route handlers, the health and readiness checks, the metrics
/// rendering) runs on NIO's event loop threads (`MultiThreadedEventLoopGroup.singleton`), never on Swift's
/// cooperative pool: like the hand-written server it replaces, it keeps answering probes while the service's pipeline
/// keeps the pool busy. In exchange, nothing it calls may block or compute for long, or it holds up the other
/// connections on that loop: the checks should read an atomic or a `Mutex`-protected flag that the service keeps
/// current, and a route handler should await anything slow (an actor, or heavy work moved to the cooperative pool
/// with `withTaskExecutorPreference(globalConcurrentExecutor)`).
public final class ServiceHTTPServer: Service, Sendable {
    /// The largest request head accepted: the request target and the header names and values together (NIO's HTTP
    /// decoder counts these), 8 KiB.
    public static let maximumRequestHeadSize = 8 * 1024
    /// The most headers a request may have.
    static let maximumHeaderCount = 100
    /// The most connections served at once; more wait in the listen backlog.
    public static let maximumConnections = 256

    /// The host the server listens on.
    public let host: String
    /// The port requested (`0` for an ephemeral one: see ``boundPort()`` for the actual port).
    public let port: Int
    /// How long a client may take to send a request, or to take a response.
    public let requestTimeout: Duration
    /// The largest request body read; larger ones are answered with `413`.
    public let maxRequestBodySize: Int

    private let routes: ServiceRoutes
    private let logger: Logger
    private let listening = ListeningState()

    /// Creates a server; ``run()`` binds the address and serves.
    /// - Parameters:
    ///   - host: The address to listen on: an IPv4 or IPv6 literal or a host name; `0.0.0.0` (every IPv4 interface)
    ///     by default, `::` for every interface.
    ///   - port: The port, 0…65535; `0` picks a free ephemeral port, available from ``boundPort()``.
    ///   - metrics: The registry served on `GET /metrics`; nil when the application exports metrics through a
    ///     backend of its own (`/metrics` then answers `404` saying so).
    ///   - health: The liveness check served on `/health`; always healthy by default.
    ///   - readiness: The readiness check served on `/ready`; always ready by default.
    ///   - routes: More routes; their paths take precedence over the built-in ones.
    ///   - requestTimeout: How long a client may take to send a whole request, and to take a response. Positive.
    ///   - maxRequestBodySize: The largest request body read, in bytes; at least 0.
    ///   - logger: The logger of the server and of Hummingbird's application.
    /// - Throws: ``ServiceHTTPServerError`` with code ``ServiceHTTPServerError/Code/invalidArgument``, naming
    ///   `host:port`, for a port outside 0…65535, a request timeout that is not positive or a negative body limit.
    public init(
        host: String = "0.0.0.0",
        port: Int,
        metrics: PrometheusCollectorRegistry?,
        health: @escaping @Sendable () -> HealthStatus = { .ok },
        readiness: @escaping @Sendable () -> HealthStatus = { .ok },
        routes: [ServiceRoute] = [],
        requestTimeout: Duration = .seconds(2),
        maxRequestBodySize: Int = 64 * 1024,
        logger: Logger = Logger(label: "dabba.http")
    ) throws {
        let address = Self.displayAddress(host: host, port: port)
        guard (0...65535).contains(port) else {
            throw ServiceHTTPServerError(
                code: .invalidArgument,
                message: "port \(port) is outside 0…65535 (\(address))"
            )
        }
        guard requestTimeout > .zero else {
            throw ServiceHTTPServerError(
                code: .invalidArgument,
                message: "the request timeout of the HTTP server on \(address) must be positive, not \(requestTimeout)"
            )
        }
        guard maxRequestBodySize >= 0 else {
            throw ServiceHTTPServerError(
                code: .invalidArgument,
                message: "the request body limit of the HTTP server on \(address) must be at least 0, "
                    + "not \(maxRequestBodySize)"
            )
        }
        self.host = host
        self.port = port
        self.requestTimeout = requestTimeout
        self.maxRequestBodySize = maxRequestBodySize
        self.routes = ServiceRoutes(metrics: metrics, health: health, readiness: readiness, extra: routes)
        self.logger = logger
    }

    /// Binds the address and serves until the task is cancelled or a graceful shutdown is triggered; then closes the
    /// listening socket, ends or finishes the connections, and returns.
    ///
    /// The server may be run again after it has returned, but not twice at once.
    /// - Throws: ``ServiceHTTPServerError``, naming `host:port`: ``ServiceHTTPServerError/Code/addressInUse`` when the
    ///   port is taken, ``ServiceHTTPServerError/Code/bindFailed`` when the address cannot be bound otherwise,
    ///   ``ServiceHTTPServerError/Code/invalidArgument`` when the server is already running.
    public func run() async throws {
        guard listening.start() else {
            throw ServiceHTTPServerError(
                code: .invalidArgument,
                message: "the HTTP server on \(Self.displayAddress(host: host, port: port)) is already running"
            )
        }
        var bindFailure: ServiceHTTPServerError?
        defer { listening.finished(failure: bindFailure) }
        // A task cancelled before it started has nothing to serve.
        guard !Task.isCancelled else { return }

        let listening = listening
        // No idle timeout: the connection guard bounds every phase of a connection (see ConnectionGuard).
        let http1Configuration = HTTP1Channel.Configuration(
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: Self.maximumRequestHeadSize,
                maxHeaderListSize: Self.maximumRequestHeadSize,
                maxHeaderFieldCount: Self.maximumHeaderCount
            )
        )
        let requestTimeout = TimeAmount(requestTimeout)
        let application = Application(
            responder: ServiceResponder(routes: routes, maxRequestBodySize: maxRequestBodySize),
            server: HTTPServerBuilder { responder in
                GuardedHTTP1Channel(
                    base: HTTP1Channel(responder: responder, configuration: http1Configuration),
                    requestTimeout: requestTimeout
                )
            },
            configuration: ApplicationConfiguration(
                address: .hostname(host, port: port),
                serverName: nil,
                availableConnectionsDelegate: .maximum(Self.maximumConnections, logger: logger)
            ),
            onServerRunning: { [port] channel in
                listening.listening(on: channel.localAddress?.port ?? port)
            },
            eventLoopGroupProvider: .singleton,
            logger: logger
        )

        do {
            // Off the cooperative pool: see EventLoopTaskExecutor.
            let executor = EventLoopTaskExecutor(group: MultiThreadedEventLoopGroup.singleton)
            try await withTaskExecutorPreference(executor) {
                try await application.run()
            }
        } catch {
            // Once listening, the application's errors are its own; before, they are the bind's.
            if listening.hasListened || error is CancellationError { throw error }
            let failure = Self.bindError(error, host: host, port: port)
            bindFailure = failure
            throw failure
        }
    }

    /// The port the server listens on: the one requested, or the ephemeral port chosen when `0` was requested.
    ///
    /// Suspends until the server listens, waiting for ``run()`` to be called if need be, or (once a run has ended)
    /// for the next run.
    /// - Returns: The port.
    /// - Throws: The ``ServiceHTTPServerError`` with which the last ``run()`` failed to bind; `CancellationError` if
    ///   the last run was cancelled before it listened, or if the calling task is cancelled while waiting.
    public func boundPort() async throws -> Int {
        try await listening.port()
    }

    /// `host:port`, with IPv6 literals in brackets.
    static func displayAddress(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The error of a run that failed before listening.
    static func bindError(_ error: any Error, host: String, port: Int) -> ServiceHTTPServerError {
        let address = displayAddress(host: host, port: port)
        if let error = error as? IOError {
            let reason = strerror(error.errnoCode).map { String(cString: $0) } ?? "error"
            return ServiceHTTPServerError(
                code: error.errnoCode == EADDRINUSE ? .addressInUse : .bindFailed,
                message: "cannot listen on \(address): \(reason) (errno \(error.errnoCode))"
            )
        }
        return ServiceHTTPServerError(code: .bindFailed, message: "cannot listen on \(address): \(error)")
    }
}
