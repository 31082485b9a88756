import Foundation
import NIOPosix
import Synchronization
import Testing

@testable import DabbaHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Misbehaving clients. Each scenario runs whole on a thread of its own (``RawHTTPClient/offPool(_:)``), so that the
/// times it measures are the server's, not those of a busy cooperative pool; the bounds are set by the request
/// timeout each test chooses.
@Suite("ServiceHTTPServer: misbehaving clients")
struct RobustnessTests {
    /// `count` bytes of text, made once outside the handlers: handlers run on the server's event loops, which a
    /// handler building megabytes a character at a time (`String(repeating:count:)` takes most of a second for 16 MiB
    /// in a debug build) would hold up for every other test's server.
    private func largeBody(_ count: Int) -> String {
        String(decoding: [UInt8](repeating: UInt8(ascii: "x"), count: count), as: UTF8.self)
    }

    /// What a stalled client saw.
    private struct Stalled: Sendable {
        /// What the server sent before closing (nothing is expected).
        var received: Int
        /// From before connecting until the server closed the connection.
        var closedAfter: Duration
    }

    // The bound is the request timeout the test sets: the connection must not end sooner, and must end long before
    // ten times as long (a server without the bound would hold it for the client's 30 s guard).
    @Test("a client that sends half a request head and stalls is disconnected after the request timeout")
    func stalledHalfRequest() async throws {
        let requestTimeout = Duration.seconds(1)
        try await ServiceHTTPServer.onLoopback(requestTimeout: requestTimeout).whileRunning { port in
            let (halfHead, silent, probe) = try await RawHTTPClient.offPool {
                let start = ContinuousClock.now
                let halfHead = try RawHTTPClient.connect(port: port)
                defer { close(halfHead) }
                try RawHTTPClient.writeAll(halfHead, "GET /metrics HTTP/1.1\r\nHost: x")
                let silent = try RawHTTPClient.connect(port: port)
                defer { close(silent) }

                // Meanwhile others are served.
                let probe = try RawHTTPClient.exchange(RawHTTPClient.getRequest("/health", port: port), port: port)

                let halfHeadReceived = RawHTTPClient.drain(halfHead)
                let halfHeadClosed = ContinuousClock.now - start
                let silentReceived = RawHTTPClient.drain(silent)
                return (
                    Stalled(received: halfHeadReceived, closedAfter: halfHeadClosed),
                    Stalled(received: silentReceived, closedAfter: ContinuousClock.now - start),
                    probe
                )
            }
            #expect(probe.status == 200)
            for stalled in [halfHead, silent] {
                #expect(stalled.received == 0)
                #expect(stalled.closedAfter >= requestTimeout)
                #expect(stalled.closedAfter < requestTimeout * 10)
            }
        }
    }

    @Test("a client trickling its request body is disconnected after the request timeout, trickling or not")
    func tricklingBody() async throws {
        let requestTimeout = Duration.seconds(1)
        try await ServiceHTTPServer.onLoopback(requestTimeout: requestTimeout).whileRunning { port in
            let (sentBytes, closedAfter) = try await RawHTTPClient.offPool {
                let start = ContinuousClock.now
                let socket = try RawHTTPClient.connect(port: port)
                defer { close(socket) }
                try RawHTTPClient.writeAll(socket, "POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
                // A byte every 100 ms: the server's idle timer alone would never fire.
                var sent = 0
                while !RawHTTPClient.waitForInput(socket, milliseconds: 100), sent < 1_000 {
                    try RawHTTPClient.writeAll(socket, "x")
                    sent += 1
                }
                _ = RawHTTPClient.drain(socket)
                return (sent, ContinuousClock.now - start)
            }
            #expect(sentBytes < 1_000)
            #expect(closedAfter >= requestTimeout)
            #expect(closedAfter < requestTimeout * 10)
        }
    }

    @Test("a client that does not take its response is disconnected after the request timeout")
    func clientNotReading() async throws {
        let requestTimeout = Duration.seconds(1)
        let bodySize = 16 << 20
        let body = largeBody(bodySize)
        let big = ServiceRoute(path: "/big", methods: ["GET"]) { _ in .init(status: 200, body: body) }
        try await ServiceHTTPServer.onLoopback(routes: [big], requestTimeout: requestTimeout).whileRunning { port in
            let received = try await RawHTTPClient.offPool {
                let socket = try RawHTTPClient.connect(port: port, receiveBuffer: 4096)
                defer { close(socket) }
                try RawHTTPClient.writeAll(socket, RawHTTPClient.getRequest("/big", port: port))
                // Once the response has begun, read nothing for three times the timeout, then see how much had been
                // sent before the server gave up.
                _ = RawHTTPClient.waitForInput(socket, milliseconds: 30_000)
                Thread.sleep(forTimeInterval: 3)
                return RawHTTPClient.drain(socket)
            }
            #expect(received < bodySize)
            #expect(try await RawHTTPClient.get("/health", port: port).status == 200)
        }
    }

    @Test("a client that half-closes after its request still gets the response")
    func halfClosedClient() async throws {
        try await ServiceHTTPServer.onLoopback().whileRunning { port in
            let (keepAlive, closing) = try await RawHTTPClient.offPool {
                // Without Connection: close, the end of its input is what tells the server to finish.
                let first = try RawHTTPClient.connect(port: port)
                defer { close(first) }
                try RawHTTPClient.writeAll(first, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                RawHTTPClient.halfClose(first)
                let keepAlive = try RawHTTPClient.parse(RawHTTPClient.readToEnd(first))

                let second = try RawHTTPClient.connect(port: port)
                defer { close(second) }
                try RawHTTPClient.writeAll(second, RawHTTPClient.getRequest("/ready", port: port))
                RawHTTPClient.halfClose(second)
                return (keepAlive, try RawHTTPClient.parse(RawHTTPClient.readToEnd(second)))
            }
            #expect(keepAlive.status == 200)
            #expect(keepAlive.body == "ok\n")
            #expect(closing.status == 200)
        }
    }

    @Test("clients that vanish mid-request or mid-response do not hurt the server")
    func vanishingClients() async throws {
        let body = largeBody(4 << 20)
        let big = ServiceRoute(path: "/big", methods: ["GET"]) { _ in .init(status: 200, body: body) }
        try await ServiceHTTPServer.onLoopback(routes: [big]).whileRunning { port in
            try await RawHTTPClient.offPool {
                for round in 0..<20 {
                    let socket = try RawHTTPClient.connect(port: port)
                    switch round % 4 {
                    case 0:
                        // Mid-response: read a little of a large answer and reset the connection.
                        try RawHTTPClient.writeAll(socket, RawHTTPClient.getRequest("/big", port: port))
                        _ = RawHTTPClient.waitForInput(socket, milliseconds: 1_000)
                        RawHTTPClient.abort(socket)
                    case 1:
                        // Right after the request, without reading: the server writes into a closed socket.
                        try RawHTTPClient.writeAll(socket, RawHTTPClient.getRequest("/big", port: port))
                        close(socket)
                    case 2:
                        // Mid-head.
                        try RawHTTPClient.writeAll(socket, "GET /hea")
                        RawHTTPClient.abort(socket)
                    default:
                        // Mid-body.
                        try RawHTTPClient.writeAll(socket, "POST /health HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc")
                        close(socket)
                    }
                }
            }
            // Still alive and serving (a SIGPIPE would have killed the test process).
            #expect(try await RawHTTPClient.get("/big", port: port).body.utf8.count == 4 << 20)
            #expect(try await RawHTTPClient.get("/health", port: port).status == 200)
        }
    }

    /// What the many-slow-clients scenario saw.
    private struct Crowd: Sendable {
        var probe: RawHTTPResponse
        /// How many of the slow clients had not been answered (nor disconnected) when the probe's answer arrived.
        var stillWaiting: Int
        var trickled: RawHTTPResponse
    }

    // A server that served the slow clients in turn would answer the probe only after their timeouts (30 s), when they
    // have been disconnected: the probe answered while all of them still wait is the proof, with no clock involved
    // (timings are not asserted: the machines running the tests are shared and noisy).
    @Test("many slow clients do not delay a health probe")
    func slowClientsDoNotBlockProbes() async throws {
        try await ServiceHTTPServer.onLoopback(requestTimeout: .seconds(30)).whileRunning { port in
            let crowd = try await RawHTTPClient.offPool {
                let slow = try (0..<100).map { _ in try RawHTTPClient.connect(port: port) }
                defer { slow.forEach { close($0) } }
                for (index, socket) in slow.enumerated() where index % 2 == 0 {
                    try RawHTTPClient.writeAll(socket, "GET /metr")
                }

                let probe = try RawHTTPClient.exchange(RawHTTPClient.getRequest("/health", port: port), port: port)
                let stillWaiting = slow.filter { !RawHTTPClient.hasInput($0) }.count

                // A slow client still gets its answer once it finishes.
                try RawHTTPClient.writeAll(slow[0], "ics HTTP/1.1\r\nConnection: close\r\n\r\n")
                let trickled = try RawHTTPClient.parse(RawHTTPClient.readToEnd(slow[0]))
                return Crowd(probe: probe, stillWaiting: stillWaiting, trickled: trickled)
            }
            #expect(crowd.probe.status == 200)
            #expect(crowd.stillWaiting == 100, "the probe was answered only after slow clients were let go")
            #expect(crowd.trickled.status == 404)
        }
    }

    // The old server ran on a thread of its own; this one runs on NIO's event loops. Either way a service whose
    // pipeline keeps the cooperative pool busy still answers its probes.
    @Test("checks and route handlers run on NIO's event loop threads, not on the cooperative pool")
    func offTheCooperativePool() async throws {
        let onEventLoop = Mutex<[String: Bool]>([:])
        let route = ServiceRoute(path: "/where", methods: ["GET"]) { _ in
            onEventLoop.withLock { $0["route"] = MultiThreadedEventLoopGroup.currentEventLoop != nil }
            try? await Task.sleep(for: .milliseconds(1))
            onEventLoop.withLock { $0["route after await"] = MultiThreadedEventLoopGroup.currentEventLoop != nil }
            return .init(status: 200, body: "here\n")
        }
        let server = try ServiceHTTPServer.onLoopback(
            health: {
                onEventLoop.withLock { $0["health"] = MultiThreadedEventLoopGroup.currentEventLoop != nil }
                return .ok
            },
            routes: [route]
        )
        try await server.whileRunning { port in
            let route = try await RawHTTPClient.get("/where", port: port)
            let health = try await RawHTTPClient.get("/health", port: port)
            #expect(route.status == 200)
            #expect(health.status == 200)
        }
        #expect(onEventLoop.withLock { $0 } == ["route": true, "route after await": true, "health": true])
    }

    @Test("many concurrent requests all get their full answers")
    func concurrentRequests() async throws {
        try await ServiceHTTPServer.onLoopback().whileRunning { port in
            try await withThrowingTaskGroup(of: RawHTTPResponse.self) { group in
                for index in 0..<40 {
                    let path = ["/health", "/ready", "/nope", "/health"][index % 4]
                    group.addTask { try await RawHTTPClient.get(path, port: port) }
                }
                var statuses: [Int: Int] = [:]
                for try await response in group { statuses[response.status, default: 0] += 1 }
                #expect(statuses == [200: 30, 404: 10])
            }
        }
    }
}
