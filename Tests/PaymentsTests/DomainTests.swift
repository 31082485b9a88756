import DabbaInbox
import Foundation
import PaymentsDomain
import PaymentsRuntime
import Testing

@Suite("UPI payments: the domain's rules, without Kafka")
struct PaymentsDomainTests {
    let reference = PaymentsReference.standard
    let time = Date(timeIntervalSince1970: 1_800_000_000)

    func payment(
        _ id: String = "T1", payer: String? = nil, payee: String? = "m001@dabbapay", amount: Int? = 10_000,
        kind: PaymentKind? = .merchant, at offset: Double = 0
    ) -> PaymentInitiated {
        PaymentInitiated(
            transactionId: id, payerVpa: payer ?? reference.customerList[0].vpa, payeeVpa: payee, amountPaise: amount,
            kind: kind, initiatedAt: time.addingTimeInterval(offset))
    }

    func reason(_ decision: GatewayDecision) -> RejectionReason? {
        if case .reject(let reason, _) = decision { return reason }
        return nil
    }

    @Test("missing fields, non-positive amounts and unknown accounts are rejected with their reason")
    func validation() {
        let rules = GatewayRules()
        #expect(reason(rules.decide(payment(payee: nil), recentValidated: [])) == .missingField)
        #expect(reason(rules.decide(payment(amount: nil), recentValidated: [])) == .missingField)
        #expect(reason(rules.decide(payment(kind: nil), recentValidated: [])) == .missingField)
        #expect(reason(rules.decide(payment(amount: 0), recentValidated: [])) == .invalidAmount)
        #expect(reason(rules.decide(payment(amount: -5), recentValidated: [])) == .invalidAmount)
        #expect(reason(rules.decide(payment(payee: "ghost@okdabba"), recentValidated: [])) == .unknownAccount)
        #expect(reason(rules.decide(payment(payer: "ghost@okdabba"), recentValidated: [])) == .unknownAccount)
        // A person paid as a merchant, and the payer paying itself.
        let person = reference.customerList[1].vpa
        #expect(reason(rules.decide(payment(payee: person, kind: .merchant), recentValidated: [])) == .unknownAccount)
        #expect(
            reason(rules.decide(payment(payee: reference.customerList[0].vpa, kind: .p2p), recentValidated: []))
                == .unknownAccount)
        guard case .pass(let terms) = rules.decide(payment(), recentValidated: []) else {
            Issue.record("a good payment was refused")
            return
        }
        #expect(terms == PaymentTerms(payeeVpa: "m001@dabbapay", amountPaise: 10_000, kind: .merchant, initiatedAt: time))
    }

    @Test("the per-transaction limits: ₹1,00,000 person to person, ₹10 lakh to a merchant")
    func limits() {
        var rules = GatewayRules()
        rules.limits.averageMultiple = 1_000_000  // only the limits decide here
        let person = reference.customerList[1].vpa
        #expect(reason(rules.decide(payment(payee: person, amount: 1_00_000_00, kind: .p2p), recentValidated: [])) == nil)
        #expect(
            reason(rules.decide(payment(payee: person, amount: 1_00_000_01, kind: .p2p), recentValidated: []))
                == .overLimit)
        #expect(reason(rules.decide(payment(amount: 10_00_000_00), recentValidated: [])) == nil)
        #expect(reason(rules.decide(payment(amount: 10_00_000_01), recentValidated: [])) == .overLimit)
    }

    @Test("a payment over 20× the payer's average is unusually large")
    func averageRule() {
        let rules = GatewayRules()
        let average = reference.customerList[0].averagePaymentPaise
        #expect(reason(rules.decide(payment(amount: average * 20), recentValidated: [])) == nil)
        #expect(reason(rules.decide(payment(amount: average * 20 + 1), recentValidated: [])) == .unusuallyLarge)
    }

    @Test("velocity: five validated payments within any 60 s, by initiation time; refused ones do not count")
    func velocity() {
        var replay = VelocityReplay()
        var decisions: [RejectionReason?] = []
        for second in [0.0, 1, 2, 3, 4, 5, 6] {
            decisions.append(reason(replay.decide(payment("T\(Int(second))", amount: 1000, at: second))))
        }
        #expect(decisions == [nil, nil, nil, nil, nil, .velocityExceeded, .velocityExceeded])
        // 60 s after the first, the window has room for one more; the refused ones never took a place.
        #expect(reason(replay.decide(payment("T60", amount: 1000, at: 60))) == nil)
        #expect(reason(replay.decide(payment("T60b", amount: 1000, at: 60.5))) == .velocityExceeded)
        #expect(reason(replay.decide(payment("T61", amount: 1000, at: 61))) == nil)
        // Another payer is not affected.
        let other = reference.customerList[5].vpa
        #expect(reason(replay.decide(payment("O1", payer: other, amount: 1000, at: 6))) == nil)
        let rule = VelocityRule.standard
        // The window is (t − 60 s, t]: a payment exactly 60 s older no longer counts, nor does a later one.
        #expect(rule.exceeded(atMilliseconds: 59_999, validated: [0, 1, 2, 3, 4]) == true)
        #expect(rule.exceeded(atMilliseconds: 60_000, validated: [0, 1, 2, 3, 4]) == false)
        #expect(rule.exceeded(atMilliseconds: 10, validated: [0, 1, 2, 3, 50]) == false)
    }

    @Test("risk scoring: size against the average, a new payee, bursts and night add up; 40 flags")
    func riskScoring() {
        let scorer = RiskScorer()
        let usual = RiskScorer.Facts(amountPaise: 500, payerAveragePaise: 500, knownPayee: true, recentPayments: 0, hour: 14)
        #expect(scorer.score(usual).score == 0 && !scorer.score(usual).flagged)
        var odd = usual
        odd.amountPaise = 5_000
        odd.knownPayee = false
        odd.hour = 2
        let scored = scorer.score(odd)
        #expect(scored.score == 70 && scored.flagged)
        #expect(scored.signals == ["amount_10x_average", "new_payee", "night"])
        odd.recentPayments = 6
        #expect(scorer.score(odd).score == 95)
        let newPayee = RiskScorer.Facts(amountPaise: 500, payerAveragePaise: 500, knownPayee: false, recentPayments: 0, hour: 14)
        #expect(scorer.score(newPayee).score == 15 && !scorer.score(newPayee).flagged)
    }

    @Test("the bank's answers are fixed per transaction id and mostly approvals")
    func bankAnswers() {
        let answers = (1...10_000).map { BankAnswer.decide(transactionId: "UPI\($0)") }
        #expect(answers == (1...10_000).map { BankAnswer.decide(transactionId: "UPI\($0)") })
        let declined = answers.filter { $0 == .declined }.count
        let timedOut = answers.filter { $0 == .timedOut }.count
        #expect((100...300).contains(declined) && (50...150).contains(timedOut))
    }

    @Test("the load is deterministic and has every kind of request")
    func load() {
        let load = PaymentLoad(payments: 2000, seed: 3)
        let requests = load.requests()
        #expect(requests == PaymentLoad(payments: 2000, seed: 3).requests())
        #expect(load.transactionIDs().count == 2000)
        #expect(requests.contains { $0.submission == 2 })
        #expect(requests.contains { $0.payeeVpa == nil })
        #expect(requests.contains { $0.amountPaise == 0 })
        let hot = requests.filter { $0.payeeVpa == reference.merchantList[0].vpa }.count
        let merchants = requests.filter { $0.kind == .merchant }.count
        #expect(hot * 4 > merchants, "the hot merchant gets a large share of merchant payments")
    }

    @Test("double entry: a settlement and a refund are one debit and one equal credit; money is conserved")
    func doubleEntry() async throws {
        let path = NSTemporaryDirectory() + "ledger-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteInbox(path: path)
        let small = PaymentsReference(customers: 3, merchants: 1, seed: 1)
        try await store.migrate(LedgerBook.migrations(reference: small))
        let payer = small.customerList[0]
        let audit = try await store.withConnection { database -> LedgerBook.Audit in
            #expect(try LedgerBook.available(payer.vpa, in: database) == payer.openingBalancePaise)
            try LedgerBook.hold("T1", account: payer.vpa, amountPaise: 1_000, in: database)
            #expect(try LedgerBook.available(payer.vpa, in: database) == payer.openingBalancePaise - 1_000)
            #expect(try LedgerBook.balance(payer.vpa, in: database) == payer.openingBalancePaise)
            #expect(try LedgerBook.closeHold("T1", as: "settled", in: database))
            #expect(try LedgerBook.closeHold("T1", as: "settled", in: database) == false)
            try LedgerBook.move(1_000, from: payer.vpa, to: "m001@dabbapay", transactionId: "T1", entry: "settle", in: database)
            // A second settlement of the same transaction is refused by the journal itself.
            #expect(throws: InboxError.self) {
                try LedgerBook.move(1_000, from: payer.vpa, to: "m001@dabbapay", transactionId: "T1", entry: "settle", in: database)
            }
            try LedgerBook.move(1_000, from: "m001@dabbapay", to: payer.vpa, transactionId: "T1", entry: "refund", in: database)
            return try LedgerBook.audit(database)
        }
        #expect(audit.totalPaise == small.seededTotalPaise)
        #expect(audit.debitsPaise == 2_000 && audit.creditsPaise == 2_000)
        #expect(audit.unbalancedEntries == 0 && audit.negativeBalances == 0 && audit.openHolds == 0)
        #expect(audit.settled == ["T1": 1_000] && audit.refunded == ["T1": 1_000])
    }
}
