import DabbaTesting
import DemoKit
import Foundation
import PaymentsDomain
import PaymentsRuntime
import Testing

@Suite("UPI payments end to end: the five services as processes", .serialized, .timeLimit(.minutes(6)))
struct PaymentsEndToEndTests {
    @Test("a normal run: every payment ends once, as the rules say, and the money adds up")
    func normalRun() async throws {
        try await PaymentsSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            let requests = PaymentLoad(payments: 300, seed: 11, runID: "N").requests()
            let transactions = PaymentLoad.distinct(requests)
            try await system.sender.send(requests, rate: 150)
            // Refunds of settled payments, and one of a payment that was rejected.
            let settled = try await waitForSettled(system, transactions, count: 5)
            let rejected = try #require(
                system.observer.snapshot(of: transactions).stages.first { $0.value == .rejected }?.key)
            let payers = Dictionary(requests.map { ($0.transactionId, $0.payerVpa) }, uniquingKeysWith: { a, _ in a })
            let refunds = settled + [rejected]
            try await system.sender.requestRefunds(refunds.map { ($0, payers[$0] ?? "") })
            let run = try await system.waitUntilFinished(transactions, refunds: refunds)
            await system.stopAll()
            try await system.checkInvariants(run, transactions: transactions)
            for id in settled { #expect(run.refundAnswers[id] == "issued") }
            #expect(run.refundAnswers[rejected] == "declined:not_settled")
            // Every rejection is the rules' own answer (replayed over the log), and client retries changed nothing.
            #expect(run.repeatedSubmissions == requests.count - transactions.count)
            #expect(run.count("rejected") > 0 && run.count("settled") > 0)
            #expect(run.rejections.count >= 2, "the load's bad requests are refused for several reasons")
        }
    }

    @Test("the same transaction id submitted twice settles once")
    func sameTransactionTwice() async throws {
        try await PaymentsSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            let payer = PaymentsReference.standard.customerList[3]
            let request = PaymentRequest(
                transactionId: "TWICE1", payerVpa: payer.vpa, payeeVpa: "m002@dabbapay",
                amountPaise: payer.averagePaymentPaise, kind: .merchant, submission: 1)
            var retry = request
            retry.submission = 2
            try await system.sender.send([request, retry, request], rate: 0)
            let run = try await system.waitUntilFinished(["TWICE1"])
            await system.stopAll()
            try await system.checkInvariants(run, transactions: ["TWICE1"])
            #expect(run.stages["TWICE1"] == .settled)
            #expect(run.repeatedSubmissions == 1, "the retry is a new request the gateway ignores")
            #expect(run.duplicateDeliveries == 1, "the same request sent again is one event, seen twice")
            let audit = try await StoreReader(path: system.store("upi-ledger")).read { try LedgerBook.audit($0) }
            #expect(audit.settled == ["TWICE1": payer.averagePaymentPaise])
        }
    }

    @Test("SIGKILL of the ledger mid-run, then a restart: every payment ends once and the money adds up")
    func killLedger() async throws {
        try await PaymentsSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            let requests = PaymentLoad(payments: 400, seed: 12, runID: "K").requests()
            let transactions = PaymentLoad.distinct(requests)
            let sending = Task { try await system.sender.send(requests, rate: 80) }
            let ledger = try #require(system.services["upi-ledger"])
            try await TestHelpers.eventually("some payments settled", timeout: .seconds(60)) {
                system.observer.snapshot(of: transactions).count("settled") >= 20
            }
            ledger.send(SIGKILL)
            _ = await ledger.waitForExit(timeout: .seconds(10))
            let settledAtKill = system.observer.snapshot(of: transactions).count("settled")
            try ledger.restart()
            _ = try await sending.value
            let run = try await system.waitUntilFinished(transactions)
            #expect(settledAtKill < run.count("settled"), "the kill came after every payment had settled")
            await system.stopAll()
            try await system.checkInvariants(run, transactions: transactions)
        }
    }

    @Test("SIGKILL of the switch between the bank call and the commit: the repeated call moves money once")
    func killSwitchAfterBankCall() async throws {
        try await PaymentsSystem.with { system in
            for name in paymentServiceNames where name != "upi-switch" { try system.start(name) }
            let crashing = try system.start("upi-switch", extra: ["--crash-after-bank-calls", "15"])
            try await system.waitUntilJoined()
            let requests = PaymentLoad(payments: 150, seed: 13, runID: "S").requests()
            let transactions = PaymentLoad.distinct(requests)
            try await system.sender.send(requests, rate: 100)
            let status = await crashing.waitForExit(timeout: .seconds(120))
            #expect(status != 0, "the switch should have killed itself after its 15th bank call")
            #expect(crashing.log.contains("crash-after-bank-calls: killing myself after call 15"))
            // Restarted without the fault: the answers it had not committed are asked again with the same key.
            try system.start("upi-switch")
            let run = try await system.waitUntilFinished(transactions)
            await system.stopAll()
            try await system.checkInvariants(run, transactions: transactions)
            let repeated = try await StoreReader(path: system.bankStore).integer(
                "SELECT COUNT(*) FROM transfers WHERE calls > 1")
            #expect(repeated >= 1, "no transfer was asked again after the crash")
        }
    }

    @Test("a bank outage: the breaker opens and pauses the switch, nothing is dead-lettered, everything settles after")
    func bankOutage() async throws {
        try await PaymentsSystem.with { system in
            var degraded = BankConditions.healthy
            degraded.failureRate = 0.3
            try degraded.write(to: system.bankControl)
            try system.startAll()
            try await system.waitUntilJoined()
            let requests = PaymentLoad(payments: 300, seed: 14, runID: "O").requests()
            let transactions = PaymentLoad.distinct(requests)
            try await system.sender.send(requests[0..<100], rate: 50)
            var down = BankConditions.healthy
            down.down = true
            try down.write(to: system.bankControl)
            try await system.sender.send(requests[100...], rate: 50)
            let switchService = try #require(system.services["upi-switch"])
            try await TestHelpers.eventually("the bank breaker opened", timeout: .seconds(60)) {
                switchService.log.contains("circuit breaker bank opened")
            }
            // While the bank is down, no transfer reaches it: the switch's calls are held by the open breaker or
            // refused before the bank's store.
            let bank = try StoreReader(path: system.bankStore)
            let during = try await bank.integer("SELECT COUNT(*) FROM transfers")
            try await Task.sleep(for: .seconds(3))
            #expect(try await bank.integer("SELECT COUNT(*) FROM transfers") == during)
            try BankConditions.healthy.write(to: system.bankControl)
            let run = try await system.waitUntilFinished(transactions)
            await system.stopAll()
            try await system.checkInvariants(run, transactions: transactions)
            #expect(switchService.log.contains("circuit breaker bank closed"))
            #expect(run.failures["bank_declined", default: 0] + run.failures["bank_timeout", default: 0] > 0)
        }
    }
}

/// Waits until `count` payments settled and returns them.
private func waitForSettled(_ system: PaymentsSystem, _ transactions: [String], count: Int) async throws -> [String] {
    try await TestHelpers.eventually("\(count) payments settled", timeout: .seconds(120)) {
        system.observer.snapshot(of: transactions).count("settled") >= count
    }
    return Array(system.observer.snapshot(of: transactions).stages.filter { $0.value == .settled }.keys.sorted().prefix(count))
}
