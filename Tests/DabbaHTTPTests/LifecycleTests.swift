import Foundation
import ServiceLifecycle
import ServiceLifecycleTestKit
import Synchronization
import Testing

@testable import DabbaHTTP

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("ServiceHTTPServer: binding, stopping, errors")
struct LifecycleTests {
    @Test(
        "port 0 binds an ephemeral port, reported by boundPort(), which may be awaited before or after a run"
    )
    func ephemeralPort() async throws {
        let server = try ServiceHTTPServer.onLoopback()
        let early = Task { try await server.boundPort() }
        try await Task.sleep(for: .milliseconds(50))
        try await server.whileRunning { runningPort in
            let awaited = try await early.value
            let health = try await RawHTTPClient.get("/health", port: runningPort)
            #expect(runningPort > 0)
            #expect(awaited == runningPort)
            #expect(server.port == 0)
            #expect(health.status == 200)
        }
        // After the run, boundPort() waits for the next one.
        let later = Task { try await server.boundPort() }
        try await Task.sleep(for: .milliseconds(50))
        later.cancel()
        await #expect(throws: CancellationError.self) { try await later.value }
    }

    @Test("binding a port in use fails with addressInUse naming host:port, from run() and from boundPort()")
    func addressInUse() async throws {
        try await ServiceHTTPServer.onLoopback().whileRunning { port in
            let second = try ServiceHTTPServer(host: "127.0.0.1", port: port, metrics: nil, logger: quietLogger)
            let error = try await #require(throws: ServiceHTTPServerError.self) { try await second.run() }
            #expect(error.code == .addressInUse)
            #expect(error.message.contains("127.0.0.1:\(port)"))
            #expect("\(error)".hasPrefix("addressInUse: cannot listen on 127.0.0.1:\(port): "))
            await #expect(throws: error) { try await second.boundPort() }
            // The first server is unaffected.
            #expect(try await RawHTTPClient.get("/health", port: port).status == 200)
        }
    }

    @Test("an address this host does not have fails with bindFailed")
    func bindFailed() async throws {
        let server = try ServiceHTTPServer(host: "192.0.2.1", port: 0, metrics: nil, logger: quietLogger)
        let error = try await #require(throws: ServiceHTTPServerError.self) { try await server.run() }
        #expect(error.code == .bindFailed)
        #expect(error.message.contains("192.0.2.1:0"))
        let unresolvable = try ServiceHTTPServer(
            host: "no such host.invalid",
            port: 0,
            metrics: nil,
            logger: quietLogger
        )
        let resolution = try await #require(throws: ServiceHTTPServerError.self) { try await unresolvable.run() }
        #expect(resolution.code == .bindFailed)
        #expect(resolution.message.contains("no such host.invalid:0"))
    }

    @Test("invalid arguments are refused by init", arguments: [-1, 65_536, 70_000])
    func invalidPort(port: Int) throws {
        let error = try #require(throws: ServiceHTTPServerError.self) {
            try ServiceHTTPServer(port: port, metrics: nil)
        }
        #expect(error.code == .invalidArgument)
        #expect(error.message.contains("0.0.0.0:\(port)"))
    }

    @Test("a request timeout that is not positive, or a negative body limit, is refused")
    func invalidLimits() throws {
        for timeout in [Duration.zero, .seconds(-1)] {
            let error = try #require(throws: ServiceHTTPServerError.self) {
                try ServiceHTTPServer(host: "::1", port: 9090, metrics: nil, requestTimeout: timeout)
            }
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("[::1]:9090"))
        }
        let body = try #require(throws: ServiceHTTPServerError.self) {
            try ServiceHTTPServer(port: 9090, metrics: nil, maxRequestBodySize: -1)
        }
        #expect(body.code == .invalidArgument)
    }

    @Test("cancelling run() stops the server and releases the port, which can be bound again at once")
    func cancellationReleasesPort() async throws {
        let first = try ServiceHTTPServer.onLoopback()
        let firstPort = Mutex(0)
        try await first.whileRunning { running in
            firstPort.withLock { $0 = running }
            let health = try await RawHTTPClient.get("/health", port: running)
            #expect(health.status == 200)
        }
        let port = firstPort.withLock { $0 }
        await #expect(throws: (any Error).self) { try await RawHTTPClient.get("/health", port: port) }

        let second = try ServiceHTTPServer(host: "127.0.0.1", port: port, metrics: nil, logger: quietLogger)
        try await second.whileRunning { running in
            let health = try await RawHTTPClient.get("/health", port: port)
            #expect(running == port)
            #expect(health.status == 200)
        }
        // And the first one can run again.
        try await first.whileRunning { running in
            let health = try await RawHTTPClient.get("/health", port: running)
            #expect(health.status == 200)
        }
    }

    // A stalled client would hold a graceful shutdown that waited for every connection: the bound is its own request
    // timeout (60 s), which a server that let the shutdown close idle connections does not approach.
    @Test("a graceful shutdown stops run(), even with a stalled client connected, and releases the port")
    func gracefulShutdown() async throws {
        let server = try ServiceHTTPServer.onLoopback(requestTimeout: .seconds(60))
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try await server.boundPort()
                let stalled = try await RawHTTPClient.offPool {
                    let socket = try RawHTTPClient.connect(port: port)
                    try RawHTTPClient.writeAll(socket, "GET /hea")
                    // Served while the stalled client waits: the server has accepted it by now.
                    _ = try RawHTTPClient.exchange(RawHTTPClient.getRequest("/health", port: port), port: port)
                    return socket
                }
                defer { close(stalled) }
                let start = ContinuousClock.now
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
                // Not a speed bound: only that the shutdown did not wait for the stalled client's timeout.
                #expect(ContinuousClock.now - start < server.requestTimeout)
                #expect(try await RawHTTPClient.offPool { RawHTTPClient.drain(stalled) } == 0)

                let again = try ServiceHTTPServer(host: "127.0.0.1", port: port, metrics: nil, logger: quietLogger)
                try await again.whileRunning { #expect($0 == port) }
            }
        }
    }

    @Test("a graceful shutdown lets a request in progress finish")
    func gracefulShutdownFinishesRequests() async throws {
        let started = AsyncStream.makeStream(of: Void.self)
        let slow = ServiceRoute(path: "/slow", methods: ["GET"]) { _ in
            started.continuation.yield()
            try? await Task.sleep(for: .milliseconds(300))
            return .init(status: 200, body: "done\n")
        }
        let server = try ServiceHTTPServer.onLoopback(routes: [slow])
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await server.run() }
                let port = try await server.boundPort()
                async let response = RawHTTPClient.get("/slow", port: port)
                for await _ in started.stream { break }
                trigger.triggerGracefulShutdown()
                let answer = try await response
                #expect(answer.status == 200)
                #expect(answer.body == "done\n")
                try await group.waitForAll()
            }
        }
    }

    @Test("run() twice at once is refused; boundPort() of a run cancelled before listening throws")
    func misuse() async throws {
        let server = try ServiceHTTPServer.onLoopback()
        try await server.whileRunning { _ in
            let error = try await #require(throws: ServiceHTTPServerError.self) { try await server.run() }
            #expect(error.code == .invalidArgument)
        }

        let cancelled = try ServiceHTTPServer.onLoopback()
        let running = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await cancelled.run()
        }
        _ = await running.result
        await #expect(throws: CancellationError.self) { try await cancelled.boundPort() }

        // A caller that stops waiting.
        let idle = try ServiceHTTPServer.onLoopback()
        let waiting = Task { try await idle.boundPort() }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
    }
}
