import Testing

@testable import DabbaKafka

@Suite("Taking an embedded broker down keeps its port", .timeLimit(.minutes(2)))
struct BrokerPortGuardTests {
    @Test("the guard connection is answered while the broker is up, refused while it is down")
    func guardConnection() async throws {
        let broker = try EmbeddedBroker(brokers: 2)
        let port = try #require(BrokerPortGuard.port(of: 2, in: broker.bootstrapServers))
        #expect(broker.bootstrapServers.split(separator: ",").last?.hasSuffix(":\(port)") == true)
        #expect(BrokerPortGuard(port: port)?.answered == true)
        try await broker.setBrokerDown(2)
        #expect(BrokerPortGuard(port: port, timeoutMilliseconds: 500) == nil)
        try await broker.setBrokerUp(2)
        #expect(BrokerPortGuard(port: port)?.answered == true)
        #expect(BrokerPortGuard.port(of: 3, in: broker.bootstrapServers) == nil)
    }

    @Test("a broker with no client goes down and up again, on the same port, without aborting the process")
    func manyCycles() async throws {
        let broker = try EmbeddedBroker(brokers: 1)
        let port = try #require(BrokerPortGuard.port(of: 1, in: broker.bootstrapServers))
        for _ in 0..<5 {
            try await broker.setBrokerDown(1)
            try await broker.setBrokerUp(1)
        }
        #expect(BrokerPortGuard(port: port)?.answered == true)
    }
}
