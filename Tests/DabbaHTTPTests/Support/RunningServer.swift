import Logging
import Prometheus

@testable import DabbaHTTP

/// A logger that keeps the test output quiet (Hummingbird logs every start at `info`).
let quietLogger: Logger = {
    var logger = Logger(label: "dabba.http.tests")
    logger.logLevel = .warning
    return logger
}()

extension ServiceHTTPServer {
    /// A server on an ephemeral port of the loopback interface.
    static func onLoopback(
        metrics: PrometheusCollectorRegistry? = nil,
        health: @escaping @Sendable () -> HealthStatus = { .ok },
        readiness: @escaping @Sendable () -> HealthStatus = { .ok },
        routes: [ServiceRoute] = [],
        requestTimeout: Duration = .seconds(2),
        maxRequestBodySize: Int = 64 * 1024
    ) throws -> ServiceHTTPServer {
        try ServiceHTTPServer(
            host: "127.0.0.1",
            port: 0,
            metrics: metrics,
            health: health,
            readiness: readiness,
            routes: routes,
            requestTimeout: requestTimeout,
            maxRequestBodySize: maxRequestBodySize,
            logger: quietLogger
        )
    }

    /// Runs the server as a task, calls `body` with its port once it listens, then cancels the task and waits for
    /// `run()` to return (even if `body` throws).
    func whileRunning(_ body: (Int) async throws -> Void) async throws {
        let running = Task { try await self.run() }
        do {
            let port = try await boundPort()
            try await body(port)
        } catch {
            running.cancel()
            _ = await running.result
            throw error
        }
        running.cancel()
        try await running.value
    }
}
