import DabbaEvents
import DabbaKafka
import DabbaTesting
import DemoKit
import DemoServiceKit
import DemoTestKit
import Foundation
import MessagingDomain
import MessagingRuntime
import Testing

let quietLogger = TestHelpers.quietLogger("messaging.test")

/// The messaging system for one test (on the kit's ``ExampleSystem``): the catalog's chat.* topics, the services as
/// processes with timers ten times faster (presence expires 3 s after the last heartbeat), the clients (heartbeats
/// every second, reading half of what is delivered to them) and an observer.
final class MessagingSystem: ExampleSystemHarness {
    static let timeScale = 10.0

    let system: ExampleSystem
    let observer: ChatObserver
    let clients: ChatClients
    private let observing: Task<Void, any Error>
    private let keepingAlive: Task<Void, Never>

    var services: [String: ServiceProcess] { system.services }

    /// Waits until no other example system of this process runs, then starts one.
    static func start() async throws -> MessagingSystem {
        let system = try await ExampleSystem.start(prefix: "chat.", name: "chat-test", logger: quietLogger)
        do {
            return try MessagingSystem(system)
        } catch {
            await system.shutDown {}
            throw error
        }
    }

    private init(_ system: ExampleSystem) throws {
        self.system = system
        observer = try ChatObserver(
            bootstrap: system.broker.bootstrapServers, deadLetterTopics: system.deadLetterTopics, logger: quietLogger)
        let observer = self.observer
        observing = Task { try await observer.run() }
        let clients = ChatClients(events: system.events, timeScale: Self.timeScale)
        self.clients = clients
        keepingAlive = Task { await clients.keepAlive(reading: observer, readShare: 50) }
    }

    /// The store file of a service.
    func store(_ name: String) -> String { system.store(name) }

    /// Starts every service.
    func startAll() throws {
        for name in chatServiceNames {
            var arguments = demoServiceArguments(
                bootstrap: system.broker.bootstrapServers, catalog: ExampleSystem.topicsDirectory.path,
                store: store(name), instanceID: "test", fetchWait: chatFetchWait)
            arguments += ["--timer-time-scale", String(Self.timeScale)]
            try system.launch(name, arguments: arguments)
        }
    }

    /// Waits until every running service logged a partition assignment.
    func waitUntilJoined() async throws {
        let observer = self.observer
        try await system.waitUntilJoined { observer.isAssigned }
    }

    /// Creates groups and waits until the router applied them (a message sent next finds its group).
    func create(_ groups: [PlannedGroup]) async throws {
        try await clients.send(groups.map { .created($0.created(at: Date())) })
    }

    /// Waits until every message is decided and every online user has everything, stops the clients reading, waits
    /// until analytics caught up, and returns what was observed.
    func finish(_ keys: [MessageKey], timeout: Duration = .seconds(180)) async throws -> ChatRun {
        let observer = self.observer
        try await TestHelpers.eventually("delivered", timeout: timeout, pollInterval: .milliseconds(500)) {
            observer.snapshot(of: keys).isSettled(connected: clients.connected, analytics: nil)
        }
        try await clients.stopReading()
        let analytics = store("chat-analytics")
        try await TestHelpers.eventually("analytics caught up", timeout: .seconds(60), pollInterval: .milliseconds(500)) {
            let totals = try? await StoreReader(path: analytics).read { try ChatReport.totals($0) }
            return observer.snapshot(of: keys).isSettled(connected: clients.connected, analytics: totals)
        }
        return observer.snapshot(of: keys)
    }

    /// Stops every service with SIGTERM and checks they exit cleanly.
    func stopAll() async {
        keepingAlive.cancel()
        await keepingAlive.value
        for (name, result) in await system.stopAll() {
            #expect(result.status == 0, "\(name) exited with \(result.status): \(result.log)")
        }
    }

    /// Stops everything and removes the directory.
    func shutDown() async {
        let observer = self.observer
        let observing = self.observing
        keepingAlive.cancel()
        await system.shutDown {
            await observer.stop()
            observing.cancel()
        }
    }

    /// The demo's invariants, from the stores and the log.
    func checkInvariants(_ run: ChatRun) async throws {
        #expect(run.undecided.isEmpty, "undecided: \(run.undecided.prefix(5))")
        #expect(run.wrongDecisions.isEmpty, "decided against the rules: \(run.wrongDecisions.prefix(5))")
        #expect(run.missing == 0)
        #expect(run.leaked == 0)
        #expect(run.duplicateDeliveries == 0)
        #expect(run.orderViolations == 0)
        #expect(run.sequenceGaps == 0)
        #expect(run.countMismatches == 0)
        #expect(run.undeliveredOnline == 0)
        #expect(run.readsWithoutDelivery == 0)
        #expect(run.missingTicks == 0 && run.duplicateTicks == 0 && run.earlyTicks == 0)
        #expect(run.undecodable == 0)
        #expect(run.deadLetters.isEmpty, "dead-lettered: \(run.deadLetters.prefix(3))")
        let mailbox = try await StoreReader(path: store("chat-mailbox")).read { try MailboxBook.audit($0) }
        #expect(mailbox.byState["delivered", default: 0] == run.delivered)
        #expect(mailbox.byState["queued", default: 0] == run.waitingOffline)
        #expect(mailbox.queuedPerUser.keys.allSatisfy { !run.online.contains($0) }, "an online user has a queue")
        let totals = try await StoreReader(path: store("chat-analytics")).read { try ChatReport.totals($0) }
        #expect(run.isSettled(connected: [], analytics: totals), "analytics: \(totals.line)")
        for name in chatServiceNames {
            #expect(try await StoreReader(path: store(name)).duplicateEffects() == 0, "duplicate effects in \(name)")
        }
    }
}
