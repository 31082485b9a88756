import Foundation
import Synchronization
import Testing

@testable import DabbaMetrics

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("MetricsHTTPServer")
struct MetricsHTTPServerTests {
    /// A server on an ephemeral port of the loopback interface, stopped after `body` even if it throws.
    private func withServer(
        registry: MetricsRegistry = MetricsRegistry(),
        health: @escaping @Sendable () -> HealthStatus = { .ok },
        readiness: @escaping @Sendable () -> HealthStatus = { .ok },
        requestTimeout: Duration = .seconds(2),
        _ body: (MetricsHTTPServer) async throws -> Void
    ) async throws {
        let server = try MetricsHTTPServer(
            host: "127.0.0.1",
            port: 0,
            registry: registry,
            health: health,
            readiness: readiness,
            requestTimeout: requestTimeout
        )
        do {
            try await body(server)
        } catch {
            await server.stop()
            throw error
        }
        await server.stop()
    }

    @Test("GET /metrics serves the registry in the text format 0.0.4")
    func metrics() async throws {
        let registry = MetricsRegistry()
        registry.counter("dabba_messages_total", help: "Messages.", labels: ["topic": "payments"]).increment(by: 7)
        try await withServer(registry: registry) { server in
            #expect(server.port > 0)
            let response = try await RawHTTPClient.get("/metrics", port: server.port)
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(response.headers["connection"] == "close")
            #expect(response.headers["content-length"] == String(response.body.utf8.count))
            #expect(
                response.body == """
                    # HELP dabba_messages_total Messages.
                    # TYPE dabba_messages_total counter
                    dabba_messages_total{topic="payments"} 7

                    """
            )

            // Each scrape renders afresh; the query string is ignored.
            registry.counter("dabba_messages_total", help: "Messages.", labels: ["topic": "payments"]).increment()
            let again = try await RawHTTPClient.get("/metrics?format=text", port: server.port)
            #expect(again.body.contains("dabba_messages_total{topic=\"payments\"} 8\n"))
        }
    }

    @Test("a large exposition is sent in full")
    func largeMetrics() async throws {
        let registry = MetricsRegistry()
        for index in 0..<5_000 {
            registry.gauge("dabba_partition_lag", help: "Lag.", labels: ["partition": String(index)]).set(index)
        }
        try await withServer(registry: registry) { server in
            let response = try await RawHTTPClient.get("/metrics", port: server.port)
            #expect(response.status == 200)
            #expect(response.body == registry.prometheusText())
            #expect(response.body.utf8.count > 100_000)
        }
    }

    @Test("GET /health and /ready answer 200 or 503 with the reason")
    func healthAndReadiness() async throws {
        let alive = Atomic<Bool>(true)
        let ready = Atomic<Bool>(false)
        try await withServer(
            health: { alive.load(ordering: .relaxed) ? .ok : .unhealthy("poll thread stalled") },
            readiness: { ready.load(ordering: .relaxed) ? .ok : .unhealthy("no partitions assigned") }
        ) { server in
            let health = try await RawHTTPClient.get("/health", port: server.port)
            #expect(health.statusLine == "HTTP/1.1 200 OK")
            #expect(health.headers["content-type"] == "text/plain; charset=utf-8")
            #expect(health.body == "ok\n")

            let notReady = try await RawHTTPClient.get("/ready", port: server.port)
            #expect(notReady.statusLine == "HTTP/1.1 503 Service Unavailable")
            #expect(notReady.body == "no partitions assigned\n")

            ready.store(true, ordering: .relaxed)
            let nowReady = try await RawHTTPClient.get("/ready", port: server.port)
            #expect(nowReady.status == 200)
            #expect(nowReady.body == "ok\n")

            alive.store(false, ordering: .relaxed)
            let dead = try await RawHTTPClient.get("/health", port: server.port)
            #expect(dead.status == 503)
            #expect(dead.body == "poll thread stalled\n")
        }
    }

    @Test("unknown paths are 404, other methods 405 with Allow: GET")
    func notFoundAndMethodNotAllowed() async throws {
        try await withServer { server in
            let notFound = try await RawHTTPClient.get("/metricsz", port: server.port)
            #expect(notFound.statusLine == "HTTP/1.1 404 Not Found")
            #expect(notFound.body == "not found\n")
            #expect(try await RawHTTPClient.get("/", port: server.port).status == 404)

            for method in ["POST", "PUT", "DELETE", "HEAD", "OPTIONS"] {
                let response = try await RawHTTPClient.send(
                    "\(method) /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n",
                    port: server.port
                )
                #expect(response.statusLine == "HTTP/1.1 405 Method Not Allowed", "\(method)")
                #expect(response.headers["allow"] == "GET")
            }

            // A request body the server never reads must not reset the connection before the response is read.
            let withBody = try await RawHTTPClient.send(
                "POST /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 20000\r\n\r\n"
                    + String(repeating: "x", count: 20_000),
                port: server.port
            )
            #expect(withBody.status == 405)
        }
    }

    @Test("malformed requests get 400, other HTTP versions 505; HTTP/1.0 and absolute targets work")
    func requestParsing() async throws {
        try await withServer { server in
            let garbage = try await RawHTTPClient.send("hello\r\n\r\n", port: server.port)
            #expect(garbage.statusLine == "HTTP/1.1 400 Bad Request")
            let http2 = try await RawHTTPClient.send("GET /metrics HTTP/2.0\r\n\r\n", port: server.port)
            #expect(http2.status == 505)
            let http10 = try await RawHTTPClient.send("GET /health HTTP/1.0\n\n", port: server.port)
            #expect(http10.status == 200)
            let absolute = try await RawHTTPClient.send(
                "GET http://127.0.0.1:\(server.port)/ready HTTP/1.1\r\n\r\n",
                port: server.port
            )
            #expect(absolute.status == 200)
        }
    }

    @Test("a request head over 8 KiB is refused with 431")
    func headTooLarge() async throws {
        try await withServer { server in
            let request = "GET /metrics HTTP/1.1\r\nX-Padding: \(String(repeating: "a", count: 9_000))\r\n\r\n"
            let response = try await RawHTTPClient.send(request, port: server.port)
            #expect(response.statusLine == "HTTP/1.1 431 Request Header Fields Too Large")

            // Just under the limit is fine.
            let padding = String(repeating: "a", count: 8_000)
            let fits = try await RawHTTPClient.send(
                "GET /health HTTP/1.1\r\nX-Padding: \(padding)\r\n\r\n",
                port: server.port
            )
            #expect(fits.status == 200)
        }
    }

    @Test("a slow client gets 408 after the request timeout and does not wedge the server")
    func slowClient() async throws {
        try await withServer(requestTimeout: .milliseconds(300)) { server in
            let port = server.port
            let start = ContinuousClock.now
            // Sends half a request head and waits; the server must give up on it.
            let slow = try await RawHTTPClient.offPool {
                let socket = try RawHTTPClient.connect(port: port)
                defer { close(socket) }
                try RawHTTPClient.writeAll(socket, Array("GET /metrics HTTP/1.1\r\nHost: x".utf8))
                return try RawHTTPClient.parse(RawHTTPClient.readToEnd(socket))
            }
            #expect(slow.statusLine == "HTTP/1.1 408 Request Timeout")
            #expect(ContinuousClock.now - start < .seconds(2))

            // A client that connects and sends nothing gets the same answer.
            let silent = try await RawHTTPClient.offPool {
                let socket = try RawHTTPClient.connect(port: port)
                defer { close(socket) }
                return try RawHTTPClient.parse(RawHTTPClient.readToEnd(socket))
            }
            #expect(silent.status == 408)
            #expect(try await RawHTTPClient.get("/health", port: port).status == 200)
        }
    }

    @Test("clients holding connections open do not delay other requests")
    func slowClientsDoNotBlockOthers() async throws {
        try await withServer(requestTimeout: .seconds(10)) { server in
            let port = server.port
            // Idle connections and one trickling half a request head.
            let idle = try await RawHTTPClient.offPool {
                try (0..<10).map { _ in try RawHTTPClient.connect(port: port) }
            }
            defer { idle.forEach { close($0) } }
            try await RawHTTPClient.offPool {
                try RawHTTPClient.writeAll(idle[0], Array("GET /metr".utf8))
            }

            let start = ContinuousClock.now
            let health = try await RawHTTPClient.get("/health", port: port)
            #expect(health.status == 200)
            #expect(ContinuousClock.now - start < .seconds(2))

            // The trickling client still gets its answer once it finishes.
            let trickled = try await RawHTTPClient.offPool {
                try RawHTTPClient.writeAll(idle[0], Array("ics HTTP/1.1\r\n\r\n".utf8))
                return try RawHTTPClient.parse(RawHTTPClient.readToEnd(idle[0]))
            }
            #expect(trickled.status == 200)
        }
    }

    @Test("many concurrent scrapes all get the full exposition")
    func concurrentScrapes() async throws {
        let registry = MetricsRegistry()
        for partition in 0..<200 {
            registry.counter("dabba_total", help: "T.", labels: ["partition": String(partition)]).increment(
                by: partition
            )
        }
        let expected = registry.prometheusText()
        try await withServer(registry: registry) { server in
            try await withThrowingTaskGroup(of: RawHTTPResponse.self) { group in
                for index in 0..<40 {
                    let path = ["/metrics", "/health", "/ready", "/nope"][index % 4]
                    group.addTask { try await RawHTTPClient.get(path, port: server.port) }
                }
                var statuses: [Int: Int] = [:]
                for try await response in group {
                    statuses[response.status, default: 0] += 1
                    if response.headers["content-type"] == MetricsRoutes.metricsContentType {
                        #expect(response.body == expected)
                    }
                }
                #expect(statuses == [200: 30, 404: 10])
            }
        }
    }

    @Test("binding a port in use fails with a clear error naming host:port")
    func addressInUse() async throws {
        try await withServer { server in
            let error = try #require(throws: MetricsServerError.self) {
                try MetricsHTTPServer(host: "127.0.0.1", port: server.port, registry: MetricsRegistry())
            }
            #expect(error.code == .addressInUse)
            #expect(error.systemErrno == EADDRINUSE)
            #expect(error.message.contains("127.0.0.1:\(server.port)"))
            #expect("\(error)".hasPrefix("addressInUse: cannot listen on 127.0.0.1:\(server.port): "))
        }
    }

    @Test("invalid ports and unresolvable hosts are reported")
    func invalidArguments() throws {
        let outOfRange = try #require(throws: MetricsServerError.self) {
            try MetricsHTTPServer(port: 70_000, registry: MetricsRegistry())
        }
        #expect(outOfRange.code == .invalidArgument)
        let badHost = try #require(throws: MetricsServerError.self) {
            try MetricsHTTPServer(host: "not an address", port: 0, registry: MetricsRegistry())
        }
        #expect(badHost.code == .addressResolution)
        #expect(badHost.message.contains("not an address:0"))
        let badTimeout = try #require(throws: MetricsServerError.self) {
            try MetricsHTTPServer(port: 0, registry: MetricsRegistry(), requestTimeout: .zero)
        }
        #expect(badTimeout.code == .invalidArgument)
    }

    @Test("stop() releases the port, so it can be bound again; stopping twice is harmless")
    func stopReleasesPort() async throws {
        let registry = MetricsRegistry()
        let first = try MetricsHTTPServer(host: "127.0.0.1", port: 0, registry: registry)
        let port = first.port
        #expect(try await RawHTTPClient.get("/health", port: port).status == 200)
        await first.stop()
        await first.stop()

        await #expect(throws: (any Error).self) { try await RawHTTPClient.get("/health", port: port) }

        let second = try MetricsHTTPServer(host: "127.0.0.1", port: port, registry: registry)
        #expect(second.port == port)
        #expect(try await RawHTTPClient.get("/health", port: port).status == 200)
        await second.stop()
    }

    @Test("stop() returns promptly while a client holds a connection open")
    func stopInterruptsSlowClient() async throws {
        let server = try MetricsHTTPServer(
            host: "127.0.0.1",
            port: 0,
            registry: MetricsRegistry(),
            requestTimeout: .seconds(30)
        )
        let port = server.port
        let idle = try await RawHTTPClient.offPool { try RawHTTPClient.connect(port: port) }
        defer { close(idle) }
        try await Task.sleep(for: .milliseconds(100))  // Let the server pick the connection up and wait on it.
        let start = ContinuousClock.now
        await server.stop()
        #expect(ContinuousClock.now - start < .seconds(2))
    }

    @Test("a server dropped without stop() releases its port")
    func droppedServerReleasesPort() async throws {
        var server: MetricsHTTPServer? = try MetricsHTTPServer(host: "127.0.0.1", port: 0, registry: MetricsRegistry())
        let port = try #require(server?.port)
        server = nil
        let deadline = ContinuousClock.now + .seconds(5)
        var rebound: MetricsHTTPServer?
        while rebound == nil, ContinuousClock.now < deadline {
            rebound = try? MetricsHTTPServer(host: "127.0.0.1", port: port, registry: MetricsRegistry())
            if rebound == nil { try await Task.sleep(for: .milliseconds(10)) }
        }
        let again = try #require(rebound)
        await again.stop()
    }

    @Test("run() returns when its task is cancelled, having stopped the server")
    func runUntilCancelled() async throws {
        let server = try MetricsHTTPServer(host: "127.0.0.1", port: 0, registry: MetricsRegistry())
        let port = server.port
        let running = Task { await server.run() }
        #expect(try await RawHTTPClient.get("/health", port: port).status == 200)
        running.cancel()
        await running.value
        let rebound = try MetricsHTTPServer(host: "127.0.0.1", port: port, registry: MetricsRegistry())
        await rebound.stop()
    }

    @Test("run() returns when stop() is called elsewhere")
    func runUntilStopped() async throws {
        let server = try MetricsHTTPServer(host: "127.0.0.1", port: 0, registry: MetricsRegistry())
        async let ran: Void = server.run()
        await server.stop()
        await ran
    }

    @Test("concurrent stop() calls all return")
    func concurrentStops() async throws {
        let server = try MetricsHTTPServer(host: "127.0.0.1", port: 0, registry: MetricsRegistry())
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<8 { group.addTask { await server.stop() } }
        }
    }

    @Test("an IPv6 loopback address works when available")
    func ipv6() async throws {
        guard let server = try? MetricsHTTPServer(host: "::1", port: 0, registry: MetricsRegistry()) else { return }
        #expect(server.port > 0)
        await server.stop()
    }
}
