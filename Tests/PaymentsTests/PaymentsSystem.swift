import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaTesting
import DemoKit
import DemoServiceKit
import DemoTestKit
import Foundation
import Logging
import PaymentsDomain
import PaymentsRuntime
import Testing

let quietLogger = TestHelpers.quietLogger("upi.test")

/// The UPI payments system for one test (on the kit's ``ExampleSystem``): the catalog's upi.* topics, the fake bank's
/// store and control file, services as real processes, and an observer on the topics.
final class PaymentsSystem: ExampleSystemHarness {
    let system: ExampleSystem
    let observer: PaymentObserver
    private let observing: Task<Void, any Error>
    let sender: PaymentSender

    var broker: EmbeddedBroker { system.broker }
    var directory: String { system.directory }
    var services: [String: ServiceProcess] { system.services }
    var bankStore: String { "\(directory)/bank.sqlite" }
    var bankControl: String { "\(directory)/bank-control.json" }

    /// Waits until no other example system of this process runs, then starts one.
    static func start() async throws -> PaymentsSystem {
        let system = try await ExampleSystem.start(prefix: "upi.", name: "upi-test", logger: quietLogger)
        do {
            return try PaymentsSystem(system)
        } catch {
            await system.shutDown {}
            throw error
        }
    }

    private init(_ system: ExampleSystem) throws {
        self.system = system
        observer = try PaymentObserver(
            bootstrap: system.broker.bootstrapServers, deadLetterTopics: system.deadLetterTopics, logger: quietLogger)
        let observer = self.observer
        observing = Task { try await observer.run() }
        sender = PaymentSender(events: system.events)
    }

    /// The store file of a service.
    func store(_ name: String) -> String { system.store(name) }

    /// Starts a service instance (the switch with the system's bank, and `extra` arguments).
    /// - Parameters:
    ///   - instance: Its static member id (also names its log).
    ///   - inbox: Another store than its SQLite file (a shared PostgreSQL one).
    @discardableResult
    func start(_ name: String, instance: String = "test", inbox: String? = nil, extra: [String] = []) throws
        -> ServiceProcess
    {
        var arguments = demoServiceArguments(
            bootstrap: broker.bootstrapServers, catalog: ExampleSystem.topicsDirectory.path, store: store(name),
            instanceID: instance, fetchWait: upiFetchWait)
        if let inbox, let index = arguments.firstIndex(of: "--inbox") { arguments[index + 1] = inbox }
        if name == "upi-switch" { arguments += ["--bank-store", bankStore, "--bank-control", bankControl] }
        return try system.launch(name, instance: instance == "test" ? nil : instance, arguments: arguments + extra)
    }

    /// Starts every service.
    func startAll() throws {
        for name in paymentServiceNames { try start(name) }
    }

    /// Waits until every running service logged a partition assignment.
    func waitUntilJoined() async throws {
        let observer = self.observer
        try await system.waitUntilJoined { observer.isAssigned }
    }

    /// Waits until every payment is terminal, every refund answered, risk scored every settled payment and
    /// analytics has every payment, then returns what was observed.
    func waitUntilFinished(_ transactions: [String], refunds: [String] = [], timeout: Duration = .seconds(180))
        async throws -> PaymentRun
    {
        let observer = self.observer
        let risk = store("upi-risk")
        let analytics = store("upi-analytics")
        try await TestHelpers.eventually(
            "every payment finished and every store caught up", timeout: timeout, pollInterval: .milliseconds(300)
        ) {
            let run = observer.snapshot(of: transactions)
            guard run.unfinished.isEmpty, refunds.allSatisfy({ run.refundAnswers[$0] != nil }) else { return false }
            let settled = run.stages.values.filter { $0 == .settled || $0 == .refunded }.count
            let scored = try await StoreReader(path: risk).integer("SELECT COUNT(*) FROM risk_payments")
            let totals = try await StoreReader(path: analytics).read { try AnalyticsReport.totals($0) }
            return scored == settled && totals.payments == transactions.count && totals.settled == settled
                && totals.refunded == run.refunded
        }
        return observer.snapshot(of: transactions)
    }

    /// Stops every service with SIGTERM and checks they exit cleanly.
    func stopAll() async {
        for (name, result) in await system.stopAll() {
            #expect(result.status == 0, "\(name) exited with \(result.status): \(result.log)")
        }
    }

    /// Stops everything and removes the directory.
    func shutDown() async {
        let observer = self.observer
        let observing = self.observing
        await system.shutDown {
            await observer.stop()
            observing.cancel()
        }
    }

    /// The invariants of the demo, from the stores and the log: money conserved, every settlement one debit and one
    /// equal credit, no negative balance, no open hold, the bank's applied transfers equal the ledger's settled set
    /// (each applied once), no effect twice, the gateway's decisions equal the rules replayed over the log, analytics
    /// equal to the ledger, nothing dead-lettered.
    /// - Parameter ledger: The ledger's store (default: its SQLite file).
    func checkInvariants(_ run: PaymentRun, transactions: [String], ledger: StoreReader? = nil) async throws {
        #expect(run.unfinished.isEmpty, "unfinished: \(run.unfinished.prefix(10))")
        let ledger = try ledger ?? StoreReader(path: store("upi-ledger"))
        let audit = try await ledger.read { try LedgerBook.audit($0) }
        #expect(audit.totalPaise == PaymentsReference.standard.seededTotalPaise, "money was created or destroyed")
        #expect(audit.debitsPaise == audit.creditsPaise)
        #expect(audit.unbalancedEntries == 0)
        #expect(audit.negativeBalances == 0)
        #expect(audit.openHolds == 0)
        let settledInLog = Set(run.stages.filter { $0.value == .settled || $0.value == .refunded }.keys)
        #expect(Set(audit.settled.keys) == settledInLog)
        let bank = try await FakeBank(path: bankStore, controlPath: nil).audit()
        #expect(bank.approved == audit.settled, "the bank's applied transfers differ from the ledger's settlements")
        #expect(bank.repeatedApplications == 0)
        for name in paymentServiceNames {
            let reader = try name == "upi-ledger" ? ledger : StoreReader(path: store(name))
            #expect(try await reader.duplicateEffects() == 0, "duplicate effects in \(name)")
        }
        #expect(observer.gatewayDisagreements().isEmpty)
        let totals = try await StoreReader(path: store("upi-analytics")).read { try AnalyticsReport.totals($0) }
        #expect(totals.settled == audit.settled.count)
        #expect(totals.settledPaise == audit.settled.values.reduce(0, +))
        #expect(totals.refundedPaise == audit.refunded.values.reduce(0, +))
        #expect(totals.payments == transactions.count)
        #expect(run.deadLetters.isEmpty, "dead-lettered: \(run.deadLetters.prefix(3))")
        #expect(run.undecodable == 0)
    }
}
