import DabbaCatalog
import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import DabbaTesting
import Foundation
import PaymentsFixtureEvents
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

func request(_ order: String, method: String = "card") -> PaymentRequested {
    PaymentRequested(
        paymentId: "pay_01HV6Q3K8Z", orderId: order, customerId: "cus_1", amount: Money(amountMinor: 4250, currency: "EUR"),
        method: method, requestedAt: Date(timeIntervalSince1970: 1_742_000_000)
    )
}

/// The authorizer under test: authorizes card payments, records them, and fails on wallets (no provider yet).
func authorizer() -> Pipeline {
    var pipeline = Pipeline(service: "payments-authorizer", groupID: "payments-authorizer")
    pipeline.on(PaymentRequested.self) { event, context in
        guard event.method == "card" else { throw WalletUnsupported() }
        try context.database?.execute("INSERT INTO authorizations (order_id) VALUES (?)", [.text(event.orderId)])
        try await context.emit(
            PaymentAuthorized(
                paymentId: event.paymentId, orderId: event.orderId, amount: event.amount, provider: "acme-cards",
                authorizationCode: "A1B2C3", authorizedAt: Date(timeIntervalSince1970: 1_742_000_001)
            )
        )
    }
    return pipeline
}

struct WalletUnsupported: Error, CustomStringConvertible {
    var description: String { "no wallet provider" }
}

/// Whether something accepts TCP connections at `host:port`.
func isListening(_ bootstrap: String) -> Bool {
    guard let address = bootstrap.split(separator: ",").first, let colon = address.lastIndex(of: ":"),
        let port = UInt16(address[address.index(after: colon)...])
    else { return false }
    let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard socketDescriptor >= 0 else { return false }
    defer { close(socketDescriptor) }
    var target = sockaddr_in()
    target.sin_family = sa_family_t(AF_INET)
    target.sin_port = port.bigEndian
    target.sin_addr.s_addr = inet_addr("127.0.0.1")
    let result = withUnsafePointer(to: &target) { pointer in
        pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    return result == 0
}

@Suite("Pipeline harness")
struct PipelineHarnessTests {
    @Test("an event goes through the real runner: emitted event, inbox record and the handler's own write")
    func handled() async throws {
        try await withEmbeddedKafka(catalog: try paymentsCatalog()) { kafka in
            try await kafka.withPipeline(
                authorizer(), migrations: ["CREATE TABLE authorizations (order_id TEXT NOT NULL)"]
            ) { harness in
                let sent = try await harness.send(request("ord_7731"), metadata: EventMetadata(id: "evt-1"))
                let authorized = try await harness.waitForEmitted(PaymentAuthorized.self)
                let emitted = try #require(authorized.first)
                #expect(authorized.count == 1)
                #expect(emitted.event.orderId == "ord_7731")
                #expect(emitted.event.amount == Money(amountMinor: 4250, currency: "EUR"))
                #expect(emitted.record.key == "ord_7731")
                #expect(emitted.record.partition == sent.partition)
                #expect(emitted.record.partition == Murmur2Partitioner.partition(forKey: "ord_7731", partitionCount: 6))
                #expect(emitted.record.header("ce_source") == "/payments-authorizer")
                #expect(emitted.record.header("ce_causationid") == "evt-1")
                try await harness.waitUntilProcessed(eventID: "evt-1")
                #expect(try await harness.query("SELECT order_id FROM authorizations") == [[.text("ord_7731")]])
            }
        }
    }

    @Test("a failing handler's event goes through the retry tiers to the dead-letter topic, not into the inbox")
    func deadLettered() async throws {
        try await withEmbeddedKafka(catalog: try paymentsCatalog()) { kafka in
            try await kafka.withPipeline(
                authorizer(), retryDelay: .milliseconds(50),
                migrations: ["CREATE TABLE authorizations (order_id TEXT NOT NULL)"]
            ) { harness in
                try await harness.send(request("ord_9", method: "wallet"), metadata: EventMetadata(id: "evt-wallet"))
                let retried = try await harness.waitForRetries(tier: 1)
                #expect(retried.map(\.key) == ["ord_9"])
                let secondTier = try await harness.waitForRetries(tier: 2)
                #expect(secondTier.map(\.eventID) == ["evt-wallet"])
                let dead = try await harness.waitForDeadLetters()
                let record = try #require(dead.first)
                #expect(dead.count == 1)
                #expect(record.topic == "payments.payments.payments-authorizer.dlq")
                #expect(record.eventType == "payments.payment.requested")
                #expect(record.header(RetryHeaders.originalTopic) == "payments.payments")
                #expect(record.header(RetryHeaders.errorMessage)?.contains("no wallet provider") == true)
                #expect(try record.decode(PaymentRequested.self).orderId == "ord_9")
                #expect(try await harness.inboxContains(eventID: "evt-wallet") == false)
                #expect(try await harness.query("SELECT count(*) FROM authorizations") == [[.integer(0)]])
            }
        }
    }
}

@Suite("Embedded Kafka fixture")
struct EmbeddedKafkaTests {
    struct Deliberate: Error {}

    @Test("a test that fails still tears down the pipeline, the readers and the cluster")
    func teardownAfterFailure() async throws {
        let seen = Box<(bootstrap: String, runner: PipelineRunner)?>(nil)
        await #expect(throws: Deliberate.self) {
            try await withEmbeddedKafka(catalog: try paymentsCatalog()) { kafka in
                try await kafka.withPipeline(authorizer(), inbox: .none) { harness in
                    try await harness.send(request("ord_1"))
                    _ = try await harness.waitForEmitted(PaymentAuthorized.self)
                    #expect(isListening(kafka.bootstrapServers))
                    seen.value = (kafka.bootstrapServers, harness.runner)
                    throw Deliberate()
                }
            }
        }
        let (bootstrap, runner) = try #require(seen.value)
        #expect(!runner.isReady)
        #expect(!isListening(bootstrap))
    }

    @Test("a runner that fails while the test waits is reported with the test's own failure")
    func runnerFailureReported() async throws {
        let error = await #expect(throws: PipelineRunnerFailure.self) {
            try await withEmbeddedKafka(catalog: try paymentsCatalog()) { kafka in
                try await kafka.withPipeline(
                    authorizer(), inbox: .custom(BrokenInbox())
                ) { harness in
                    try await harness.send(request("ord_1"))
                    try await TestHelpers.eventually("the runner stops on the broken inbox") {
                        !harness.runner.health.healthy
                    }
                    // The stopped runner never emits: this wait times out, as a test's would.
                    _ = try await harness.waitForEmitted(PaymentAuthorized.self, timeout: .seconds(1))
                }
            }
        }
        let failure = try #require(error)
        #expect(failure.runnerError is InboxUnavailable)
        #expect(failure.testError is WaitTimeout)
        #expect(failure.description.contains("the pipeline runner failed: the inbox database is unavailable"))
        #expect(failure.description.contains("waited"))
    }

    @Test("a runner failure is rethrown when the test body returns normally")
    func runnerFailureRethrown() async throws {
        await #expect(throws: InboxUnavailable.self) {
            try await withEmbeddedKafka(catalog: try paymentsCatalog()) { kafka in
                try await kafka.withPipeline(
                    authorizer(), inbox: .custom(BrokenInbox())
                ) { harness in
                    try await harness.send(request("ord_2"))
                    try await TestHelpers.eventually("the runner stops on the broken inbox") {
                        !harness.runner.health.healthy
                    }
                }
            }
        }
    }

    @Test("parallel fixtures are isolated: same catalog topic names, separate clusters")
    func parallelIsolation() async throws {
        let catalog = try paymentsCatalog()
        func run(_ order: String) async throws -> (bootstrap: String, keys: [String?]) {
            try await withEmbeddedKafka(catalog: catalog) { kafka in
                try await kafka.send(request(order))
                // This test's own record has arrived; the other test's would be on the same topic name.
                _ = try await kafka.waitFor(PaymentRequested.self)
                return (kafka.bootstrapServers, try kafka.records(on: "payments.payments").map(\.key))
            }
        }
        async let first = run("ord_first")
        async let second = run("ord_second")
        let (a, b) = try await (first, second)
        #expect(a.bootstrap != b.bootstrap)
        #expect(a.keys == ["ord_first"])
        #expect(b.keys == ["ord_second"])
    }

    @Test("waitFor fails with what was expected and what was seen")
    func readableTimeout() async throws {
        try await withEmbeddedKafka(catalog: try paymentsCatalog()) { kafka in
            try await kafka.send(request("ord_42"))
            _ = try await kafka.waitFor(topic: "payments.payments", count: 1)
            do {
                _ = try await kafka.waitFor(topic: "payments.payments", count: 2, description: "with key ord_42", timeout: .milliseconds(300)) {
                    $0.key == "ord_42"
                }
                Issue.record("waitFor returned although only one record exists")
            } catch let timeout as WaitTimeout {
                let lines = timeout.message.split(separator: "\n").map(String.init)
                #expect(lines.first == "waited 0.3 seconds for 2 records on payments.payments with key ord_42; saw 1 matching of 1 record:")
                #expect(lines.dropFirst().first?.hasPrefix("  payments.payments[") == true)
                #expect(lines.dropFirst().first?.hasSuffix(" key=ord_42 ce_type=payments.payment.requested") == true)
            }
        }
    }

    @Test("unique names are valid topic names and differ")
    func uniqueNames() {
        let first = TestHelpers.uniqueName("orders test/1")
        let second = TestHelpers.uniqueName("orders test/1")
        #expect(first != second)
        #expect(first.hasPrefix("orderstest1-"))
        #expect(first.allSatisfy { $0.isLetter || $0.isNumber || "._-".contains($0) })
    }
}

/// A value set inside a closure and read after it.
final class Box<Value: Sendable>: @unchecked Sendable {
    // Written once inside the test body before it throws, read after: no concurrent access.
    var value: Value
    init(_ value: Value) { self.value = value }
}

struct InboxUnavailable: Error, CustomStringConvertible {
    var description: String { "the inbox database is unavailable" }
}

/// An inbox whose batches always fail, which stops the runner.
struct BrokenInbox: InboxStore {
    func processBatch(
        group: String, eventIDs: [String], beforeCommit: (InboxBatchEnd) async throws -> Void,
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        throw InboxUnavailable()
    }

    func contains(group: String, eventID: String) async throws -> Bool { false }

    func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (any InboxTransaction) throws -> Result
    ) async throws -> Result {
        throw InboxUnavailable()
    }

    func purge(olderThan age: Duration) async throws -> Int { 0 }
}
