import Foundation

/// A minimal HTTP/1.1 server for a pipeline executable's metrics and health checks.
///
/// ```swift
/// let server = try MetricsHTTPServer(port: 9090, registry: registry,
///                                    health: { .ok },
///                                    readiness: { consumer.isAssigned ? .ok : .unhealthy("no partitions assigned") })
/// // … run the pipeline …
/// await server.stop()
/// ```
///
/// Routes:
/// - `GET /metrics`: ``MetricsRegistry/prometheusText()`` as `text/plain; version=0.0.4; charset=utf-8`.
/// - `GET /health`: liveness. `200` with body `ok` (the status's reason) or `503` with the reason.
/// - `GET /ready`: readiness, answered the same way from the readiness check.
/// - The application's ``MetricsServerRoute``s (a pipeline service's `POST /pause`, `POST /resume`, `GET /flow`).
/// - Any other path: `404`. Another method on one of these paths: `405` with an `Allow` header.
///
/// The query string is ignored. Each connection carries one request and is closed after the response
/// (`Connection: close`); there is no keep-alive and no TLS.
///
/// ## Threads and robustness
/// The server runs on one dedicated thread, never on Swift's cooperative pool. That thread multiplexes the
/// listening socket and up to 64 connections with `poll(2)` (more wait in the listen backlog), so a slow or stuck
/// client does not delay anyone else's health probe. Each client is bounded: its request head may be at most 8 KiB
/// (`431` otherwise) and must arrive within `requestTimeout` (`408` otherwise), and it must take the response within
/// the same time. Writes to a vanished client never raise `SIGPIPE`. ``stop()`` wakes the thread at once.
///
/// The health and readiness checks, callback gauges and collectors run on the server's thread, one request at a
/// time: they must be quick and must not wait for async work (read an atomic or a `Mutex`-protected flag that the
/// pipeline keeps current).
public final class MetricsHTTPServer: Sendable {
    /// The host the server was asked to listen on.
    public let host: String
    /// The port the server listens on: the one requested, or the ephemeral port chosen when `0` was requested.
    public let port: Int

    /// The thread's state; internal so tests can wait for the thread of a server they dropped.
    let core: MetricsServerCore

    /// Binds `host:port`, starts listening, and starts the server's thread.
    /// - Parameters:
    ///   - host: The address to listen on: an IPv4 or IPv6 literal or a host name; `0.0.0.0` (every IPv4 interface)
    ///     by default, `::` for every interface.
    ///   - port: The port; `0` picks a free ephemeral port, available afterwards as ``port``.
    ///   - registry: The registry served on `/metrics`.
    ///   - health: The liveness check served on `/health`; always healthy by default.
    ///   - readiness: The readiness check served on `/ready`; always ready by default.
    ///   - routes: More routes (``MetricsServerRoute``); their paths take precedence over the built-in ones.
    ///   - requestTimeout: How long a client may take to send its request head, and to take the response. Positive.
    /// - Throws: ``MetricsServerError``, naming `host:port`: ``MetricsServerError/Code/addressInUse`` when the port
    ///   is taken, ``MetricsServerError/Code/bindFailed`` or ``MetricsServerError/Code/addressResolution`` for other
    ///   address problems, ``MetricsServerError/Code/invalidArgument`` for a port outside 0…65535 or a request
    ///   timeout that is not positive.
    public init(
        host: String = "0.0.0.0",
        port: Int,
        registry: MetricsRegistry,
        health: @escaping @Sendable () -> HealthStatus = { .ok },
        readiness: @escaping @Sendable () -> HealthStatus = { .ok },
        routes: [MetricsServerRoute] = [],
        requestTimeout: Duration = .seconds(2)
    ) throws {
        guard requestTimeout > .zero else {
            throw MetricsServerError(
                code: .invalidArgument,
                message: "the request timeout of the metrics server on "
                    + "\(POSIXSocket.displayAddress(host: host, port: port)) must be positive, not \(requestTimeout)"
            )
        }
        let listener = try POSIXSocket.listen(host: host, port: port)
        let wakeUp: (read: Int32, write: Int32)
        do {
            wakeUp = try POSIXSocket.makeWakeUpPipe()
        } catch {
            POSIXSocket.closeDescriptor(listener.descriptor)
            throw error
        }
        self.host = host
        self.port = listener.port
        let core = MetricsServerCore(
            listener: listener.descriptor,
            wakeUp: wakeUp,
            routes: MetricsRoutes(registry: registry, health: health, readiness: readiness, extra: routes),
            requestTimeout: requestTimeout
        )
        self.core = core

        let thread = Thread {
            POSIXSocket.nameCurrentThread("dabba-metrics")
            core.run()
        }
        thread.start()
    }

    /// Stops the server: closes the listening socket, abandons any connection in progress, and waits for the
    /// server's thread to finish.
    ///
    /// Suspends rather than blocks, so it is safe to call from any task. When it returns the port is released and
    /// can be bound again. Calling it again, or concurrently, is harmless: every call returns once the thread is done.
    public func stop() async {
        core.requestStop()
        await core.waitUntilFinished()
    }

    /// Suspends until the server has stopped; cancelling the calling task stops it.
    ///
    /// This lets the server run as a child task or a service alongside the pipeline: cancel the task, or call
    /// ``stop()`` from elsewhere, and `run()` returns once the thread is done and the port released.
    public func run() async {
        await withTaskCancellationHandler {
            await core.waitUntilFinished()
        } onCancel: {
            core.requestStop()
        }
    }

    /// A server dropped without ``stop()`` still stops its thread and releases its port, shortly after.
    deinit {
        core.requestStop()
    }
}
