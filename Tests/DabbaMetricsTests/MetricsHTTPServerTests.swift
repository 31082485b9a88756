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

    /// What the slow-client scenario saw, in order.
    private struct SlowClientOutcome: Sendable {
        /// The probe sent while the slow clients were waiting.
        var probe: RawHTTPResponse
        /// Whether neither slow client had been answered when the probe's answer arrived.
        var probeAnsweredWhileTheyWaited: Bool
        var slow: RawHTTPResponse
        var silent: RawHTTPResponse
        /// From before the slow clients connected to the end of their responses.
        var slowAnsweredAfter: Duration
        var silentAnsweredAfter: Duration
    }

    // The request timeout is the bound the test controls: the server must answer the 408s no sooner, and must answer
    // another client meanwhile (a server stuck on the slow clients would answer it only after their 408s). The
    // scenario runs whole on one thread, so a cooperative pool busy with other suites cannot stretch it; an upper
    // bound on the wall-clock time would measure the machine's load, not the server.
    @Test("a slow client gets 408 after the request timeout and does not wedge the server")
    func slowClient() async throws {
        let requestTimeout = Duration.seconds(2)
        try await withServer(requestTimeout: requestTimeout) { server in
            let port = server.port
            let outcome = try await RawHTTPClient.offPool {
                let start = ContinuousClock.now
                // One client sends half a request head and waits; another connects and sends nothing.
                let slow = try RawHTTPClient.connect(port: port)
                defer { close(slow) }
                try RawHTTPClient.writeAll(slow, Array("GET /metrics HTTP/1.1\r\nHost: x".utf8))
                let silent = try RawHTTPClient.connect(port: port)
                defer { close(silent) }

                let probe = try RawHTTPClient.exchange(RawHTTPClient.getRequest("/health", port: port), port: port)
                let waiting = !RawHTTPClient.hasInput(slow) && !RawHTTPClient.hasInput(silent)

                let slowResponse = try RawHTTPClient.parse(RawHTTPClient.readToEnd(slow))
                let slowAnsweredAfter = ContinuousClock.now - start
                let silentResponse = try RawHTTPClient.parse(RawHTTPClient.readToEnd(silent))
                return SlowClientOutcome(
                    probe: probe,
                    probeAnsweredWhileTheyWaited: waiting,
                    slow: slowResponse,
                    silent: silentResponse,
                    slowAnsweredAfter: slowAnsweredAfter,
                    silentAnsweredAfter: ContinuousClock.now - start
                )
            }
            #expect(outcome.probe.status == 200)
            #expect(outcome.probeAnsweredWhileTheyWaited)
            #expect(outcome.slow.statusLine == "HTTP/1.1 408 Request Timeout")
            #expect(outcome.silent.status == 408)
            #expect(outcome.slowAnsweredAfter >= requestTimeout)
            #expect(outcome.silentAnsweredAfter >= requestTimeout)
            #expect(try await RawHTTPClient.get("/health", port: port).status == 200)
        }
    }

    /// What the idle-clients scenario saw, in order.
    private struct IdleClientsOutcome: Sendable {
        var probe: RawHTTPResponse
        /// How many of the idle clients had not been answered when the probe's answer arrived.
        var stillWaiting: Int
        var trickled: RawHTTPResponse
    }

    // As above, the bound is the request timeout, which the test sets: the probe must be answered while every idle
    // client is still held (a server serving them in turn would answer it only after their 408s, 10 s later).
    @Test("clients holding connections open do not delay other requests")
    func slowClientsDoNotBlockOthers() async throws {
        try await withServer(requestTimeout: .seconds(10)) { server in
            let port = server.port
            let outcome = try await RawHTTPClient.offPool {
                // Idle connections and one trickling half a request head.
                let idle = try (0..<10).map { _ in try RawHTTPClient.connect(port: port) }
                defer { idle.forEach { close($0) } }
                try RawHTTPClient.writeAll(idle[0], Array("GET /metr".utf8))

                let probe = try RawHTTPClient.exchange(RawHTTPClient.getRequest("/health", port: port), port: port)
                let stillWaiting = idle.filter { !RawHTTPClient.hasInput($0) }.count

                // The trickling client still gets its answer once it finishes.
                try RawHTTPClient.writeAll(idle[0], Array("ics HTTP/1.1\r\n\r\n".utf8))
                let trickled = try RawHTTPClient.parse(RawHTTPClient.readToEnd(idle[0]))
                return IdleClientsOutcome(probe: probe, stillWaiting: stillWaiting, trickled: trickled)
            }
            #expect(outcome.probe.status == 200)
            #expect(outcome.stillWaiting == 10)
            #expect(outcome.trickled.status == 200)
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

    // "Promptly" is bounded by what the test controls, the client's request timeout: stop() must abandon the
    // connection (closed without an answer) rather than wait for it to time out (a 408 after 30 s).
    @Test("stop() returns promptly while a client holds a connection open")
    func stopInterruptsSlowClient() async throws {
        let requestTimeout = Duration.seconds(30)
        let server = try MetricsHTTPServer(
            host: "127.0.0.1",
            port: 0,
            registry: MetricsRegistry(),
            requestTimeout: requestTimeout
        )
        let port = server.port
        // The server accepts in arrival order, so once the probe is answered it holds the idle connection.
        let idle = try await RawHTTPClient.offPool {
            let idle = try RawHTTPClient.connect(port: port)
            _ = try RawHTTPClient.exchange(RawHTTPClient.getRequest("/health", port: port), port: port)
            return idle
        }
        defer { close(idle) }
        let start = ContinuousClock.now
        await server.stop()
        let stopping = ContinuousClock.now - start
        let leftover = try await RawHTTPClient.offPool { try RawHTTPClient.readToEnd(idle) }
        #expect(leftover.isEmpty)
        #expect(stopping < requestTimeout)
    }

    // Waits for the server's thread itself rather than retrying the bind against a clock: on a busy cooperative pool
    // each retry can wait seconds for its turn. Dropping the server must make the thread finish (the time limit
    // reports one that never does), and once it has, the port is free at once.
    @Test("a server dropped without stop() releases its port", .timeLimit(.minutes(1)))
    func droppedServerReleasesPort() async throws {
        var server: MetricsHTTPServer? = try MetricsHTTPServer(host: "127.0.0.1", port: 0, registry: MetricsRegistry())
        let port = try #require(server?.port)
        let core = try #require(server?.core)
        server = nil
        await core.waitUntilFinished()
        let rebound = try MetricsHTTPServer(host: "127.0.0.1", port: port, registry: MetricsRegistry())
        await rebound.stop()
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
