import DabbaInbox
import DabbaInboxPostgres
import DabbaTesting
import DabbaTestingPostgres
import DemoKit
import Foundation
import PaymentsDomain
import PaymentsRuntime
import Testing

@Suite("UPI payments: the ledger scaled out", .serialized, .timeLimit(.minutes(6)))
struct PaymentsScalingTests {
    @Test(
        "two ledger instances share the partitions and one PostgreSQL store: every payment ends once and the money adds up",
        .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason)
    )
    func twoLedgerInstances() async throws {
        let server = try await TestPostgres.start()
        let schema = "upi_scaling_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
        _ = try await server.adminQuery("CREATE SCHEMA \(schema)")
        let url = try server.url(searchPath: schema)
        try await PaymentsSystem.with { system in
            for name in paymentServiceNames where name != "upi-ledger" { try system.start(name) }
            let first = try system.start("upi-ledger", instance: "l1", inbox: url)
            try await system.waitUntilJoined()
            // The second instance joins once the first has created the tables (concurrent CREATE TABLE races).
            let second = try system.start("upi-ledger", instance: "l2", inbox: url)
            try await system.waitUntilJoined()
            try await TestHelpers.eventually("both ledger instances own partitions", timeout: .seconds(60)) {
                first.log.components(separatedBy: "partitions assigned").count >= 3
            }
            let requests = PaymentLoad(payments: 400, seed: 21, runID: "L").requests()
            let transactions = PaymentLoad.distinct(requests)
            try await system.sender.send(requests, rate: 150)
            let run = try await system.waitUntilFinished(transactions)
            #expect(first.isRunning && second.isRunning)
            await system.stopAll()
            let ledger = StoreReader(store: try await PostgresInbox.connect(connectionString: url))
            try await system.checkInvariants(run, transactions: transactions, ledger: ledger)
            // The hot merchant's credits are plain inserts from both instances' transactions.
            let hot = PaymentsReference.standard.merchantList[0].vpa
            let credits = try await ledger.integer(
                "SELECT COUNT(*) FROM journal WHERE account = '\(hot)' AND credit_paise > 0")
            #expect(credits > 10, "the hot merchant received \(credits) payments")
        }
    }
}
