import Foundation
import Prometheus
import Synchronization
import Testing

@testable import DabbaHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("ServiceHTTPServer: routes over the wire")
struct ServiceHTTPServerTests {
    @Test("GET /metrics serves the registry in the text format 0.0.4, rendered afresh for each scrape")
    func metrics() async throws {
        let registry = PrometheusCollectorRegistry()
        let counter = registry.makeCounter(
            descriptor: MetricNameDescriptor(metricName: "dabba_messages", unitName: "total", helpText: "Messages."),
            labels: [("topic", "payments")]
        )
        counter.increment(by: Int64(7))
        try await ServiceHTTPServer.onLoopback(metrics: registry).whileRunning { port in
            let response = try await RawHTTPClient.get("/metrics", port: port)
            #expect(response.statusLine == "HTTP/1.1 200 OK")
            #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(response.headers["content-length"] == String(response.body.utf8.count))
            #expect(
                response.body == """
                    # HELP dabba_messages_total Messages.
                    # TYPE dabba_messages_total counter
                    dabba_messages_total{topic="payments"} 7

                    """
            )

            counter.increment()
            let again = try await RawHTTPClient.get("/metrics?format=text", port: port)
            #expect(again.body.contains("dabba_messages_total{topic=\"payments\"} 8\n"))
        }
    }

    @Test("without a registry, /metrics answers 404 and says why")
    func metricsElsewhere() async throws {
        try await ServiceHTTPServer.onLoopback(metrics: nil).whileRunning { port in
            let response = try await RawHTTPClient.get("/metrics", port: port)
            #expect(response.status == 404)
            #expect(response.body == "metrics are exported by the application's own metrics backend\n")
        }
    }

    @Test("a large exposition is sent in full")
    func largeMetrics() async throws {
        let registry = PrometheusCollectorRegistry()
        for index in 0..<5_000 {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(metricName: "dabba_partition", unitName: "lag", helpText: "Lag."),
                labels: [("partition", String(index))]
            ).set(Double(index))
        }
        try await ServiceHTTPServer.onLoopback(metrics: registry).whileRunning { port in
            let response = try await RawHTTPClient.get("/metrics", port: port)
            #expect(response.status == 200)
            #expect(response.body == registry.emitToString())
            #expect(response.body.utf8.count > 100_000)
        }
    }

    @Test("GET /health and /ready answer 200 or 503 with the reason")
    func healthAndReadiness() async throws {
        let alive = Atomic<Bool>(true)
        let ready = Atomic<Bool>(false)
        let server = try ServiceHTTPServer.onLoopback(
            health: { alive.load(ordering: .relaxed) ? .ok : .unhealthy("poll thread stalled") },
            readiness: { ready.load(ordering: .relaxed) ? .ok : .unhealthy("no partitions assigned") }
        )
        try await server.whileRunning { port in
            let health = try await RawHTTPClient.get("/health", port: port)
            #expect(health.statusLine == "HTTP/1.1 200 OK")
            #expect(health.headers["content-type"] == "text/plain; charset=utf-8")
            #expect(health.body == "ok\n")

            let notReady = try await RawHTTPClient.get("/ready", port: port)
            #expect(notReady.statusLine == "HTTP/1.1 503 Service Unavailable")
            #expect(notReady.body == "no partitions assigned\n")

            ready.store(true, ordering: .relaxed)
            #expect(try await RawHTTPClient.get("/ready", port: port).body == "ok\n")

            alive.store(false, ordering: .relaxed)
            let dead = try await RawHTTPClient.get("/health", port: port)
            #expect(dead.status == 503)
            #expect(dead.body == "poll thread stalled\n")
        }
    }

    @Test("unknown paths are 404; other methods 405 with Allow; HEAD is GET without the body")
    func notFoundMethodNotAllowedAndHead() async throws {
        let pause = ServiceRoute(path: "/pause", methods: ["POST"]) { _ in .init(status: 202, body: "pausing\n") }
        try await ServiceHTTPServer.onLoopback(routes: [pause]).whileRunning { port in
            let notFound = try await RawHTTPClient.get("/metricsz", port: port)
            #expect(notFound.statusLine == "HTTP/1.1 404 Not Found")
            #expect(notFound.body == "not found\n")
            #expect(try await RawHTTPClient.get("/", port: port).status == 404)

            for method in ["POST", "PUT", "DELETE", "OPTIONS"] {
                let response = try await RawHTTPClient.send(
                    "\(method) /health HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                    port: port
                )
                #expect(response.statusLine == "HTTP/1.1 405 Method Not Allowed", "\(method)")
                #expect(response.headers["allow"] == "GET, HEAD")
            }
            let getPause = try await RawHTTPClient.get("/pause", port: port)
            #expect(getPause.status == 405)
            #expect(getPause.headers["allow"] == "POST")

            let head = try await RawHTTPClient.send(
                RawHTTPClient.getRequest("/health", port: port, method: "HEAD"),
                port: port
            )
            #expect(head.status == 200)
            #expect(head.headers["content-length"] == "3")
            #expect(head.body.isEmpty)
        }
    }

    @Test("an application route is served with its status, body, content type and query; handlers may await")
    func applicationRoute() async throws {
        let seen = Mutex<[ServiceRoute.Request]>([])
        let route = ServiceRoute(path: "/pause", methods: ["POST"]) { request in
            seen.withLock { $0.append(request) }
            try? await Task.sleep(for: .milliseconds(20))
            return .init(status: 202, body: "{\"paused\":true}\n", contentType: "application/json")
        }
        try await ServiceHTTPServer.onLoopback(routes: [route]).whileRunning { port in
            let response = try await RawHTTPClient.send(
                "POST /pause?reason=deploy+window&by=%40ops HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                    + "Connection: close\r\n\r\n{}",
                port: port
            )
            #expect(response.statusLine == "HTTP/1.1 202 Accepted")
            #expect(response.headers["content-type"] == "application/json")
            #expect(response.body == "{\"paused\":true}\n")
            #expect(
                seen.withLock { $0 }
                    == [.init(method: "POST", path: "/pause", query: ["reason": "deploy window", "by": "@ops"])]
            )
        }
    }

    @Test("connections are kept alive; Connection: close and HTTP/1.0 close after the response")
    // A server that did not close would leave the client waiting until the request timeout closed the idle
    // connection: each close must come sooner than that.
    func keepAliveAndClose() async throws {
        let requestTimeout = Duration.seconds(10)
        try await ServiceHTTPServer.onLoopback(requestTimeout: requestTimeout).whileRunning { port in
            let (first, second, secondClosedAfter) = try await RawHTTPClient.offPool {
                let socket = try RawHTTPClient.connect(port: port)
                defer { close(socket) }
                try RawHTTPClient.writeAll(socket, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                let first = try RawHTTPClient.readResponse(socket)
                try RawHTTPClient.writeAll(socket, "GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                let second = try RawHTTPClient.readResponse(socket)
                let answered = ContinuousClock.now
                let rest = try RawHTTPClient.readToEnd(socket)
                return (first, second, rest.isEmpty ? ContinuousClock.now - answered : nil)
            }
            #expect(first.status == 200)
            #expect(second.status == 200)
            let closedAfter = try #require(secondClosedAfter)
            #expect(closedAfter < requestTimeout)

            // HTTP/1.0 without keep-alive: the end of the response is the end of the stream.
            let (old, oldTook) = try await RawHTTPClient.offPool {
                let start = ContinuousClock.now
                let response = try RawHTTPClient.exchange("GET /health HTTP/1.0\r\n\r\n", port: port)
                return (response, ContinuousClock.now - start)
            }
            #expect(old.status == 200)
            #expect(old.body == "ok\n")
            #expect(oldTook < requestTimeout)

            let absolute = try await RawHTTPClient.send(
                "GET http://127.0.0.1:\(port)/ready HTTP/1.1\r\nConnection: close\r\n\r\n",
                port: port
            )
            #expect(absolute.status == 200)
        }
    }

    @Test("malformed requests get 400")
    func malformed() async throws {
        try await ServiceHTTPServer.onLoopback().whileRunning { port in
            let garbage = try await RawHTTPClient.send("hello\r\n\r\n", port: port)
            #expect(garbage.statusLine == "HTTP/1.1 400 Bad Request")
            #expect(try await RawHTTPClient.get("/health", port: port).status == 200)
        }
    }

    @Test("a request body over the limit gets 413, declared or chunked; one within it is read and dropped")
    func bodyTooLarge() async throws {
        try await ServiceHTTPServer.onLoopback(maxRequestBodySize: 1_000).whileRunning { port in
            let declared = try await RawHTTPClient.send(
                "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 20000\r\nConnection: close\r\n\r\n"
                    + String(repeating: "x", count: 20_000),
                port: port
            )
            #expect(declared.statusLine == "HTTP/1.1 413 Payload Too Large")
            #expect(declared.body == "request body larger than 1000 bytes\n")

            let chunk = String(repeating: "y", count: 600)
            let chunked = try await RawHTTPClient.send(
                "GET /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                    + "258\r\n\(chunk)\r\n258\r\n\(chunk)\r\n0\r\n\r\n",
                port: port
            )
            #expect(chunked.status == 413)

            let fits = try await RawHTTPClient.send(
                "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n"
                    + String(repeating: "z", count: 1_000),
                port: port
            )
            #expect(fits.status == 200)
            #expect(fits.body == "ok\n")
        }
    }

    @Test("a request head over 8 KiB is refused with 431 and the connection closed; just under is served")
    func headTooLarge() async throws {
        try await ServiceHTTPServer.onLoopback().whileRunning { port in
            let padding = String(repeating: "a", count: 9_000)
            let tooLarge = try await RawHTTPClient.send(
                "GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: \(padding)\r\n\r\n",
                port: port
            )
            #expect(tooLarge.statusLine == "HTTP/1.1 431 Request Header Fields Too Large")
            #expect(tooLarge.headers["connection"] == "close")

            // A long request target counts too.
            let longTarget = try await RawHTTPClient.send(
                "GET /health?\(padding) HTTP/1.1\r\nHost: x\r\n\r\n",
                port: port
            )
            #expect(longTarget.status == 431)

            // Many small headers add up.
            let many = (0..<90).map { "X-H\($0): \(String(repeating: "b", count: 100))\r\n" }.joined()
            let manyHeaders = try await RawHTTPClient.send("GET /health HTTP/1.1\r\n\(many)\r\n", port: port)
            #expect(manyHeaders.status == 431)

            let fits = try await RawHTTPClient.send(
                "GET /health HTTP/1.1\r\nHost: x\r\nX-Padding: \(String(repeating: "a", count: 8_000))\r\n"
                    + "Connection: close\r\n\r\n",
                port: port
            )
            #expect(fits.status == 200)
        }
    }
}
