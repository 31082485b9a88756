import DemoKit
import Foundation

/// One request of a load: a payment to initiate (or the same transaction submitted again), or a refund request.
public struct PaymentRequest: Sendable, Hashable {
    /// The transaction id.
    public var transactionId: String
    /// The payer.
    public var payerVpa: String
    /// The payee, if the request names one.
    public var payeeVpa: String?
    /// The amount, if the request has one.
    public var amountPaise: Int?
    /// The kind, if the request has one.
    public var kind: PaymentKind?
    /// 1 for the first submission, 2 for a client's retry of the same transaction.
    public var submission: Int

    /// The event id of this submission: a retry of a transaction is a new request (a new event), which the gateway
    /// recognizes by its transaction id.
    public var eventID: String { "\(transactionId)/initiated/\(submission)" }

    /// Creates a request.
    public init(
        transactionId: String, payerVpa: String, payeeVpa: String?, amountPaise: Int?, kind: PaymentKind?,
        submission: Int
    ) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.payeeVpa = payeeVpa
        self.amountPaise = amountPaise
        self.kind = kind
        self.submission = submission
    }

    /// The initiation event, stamped with the time it is sent.
    public func event(at time: Date) -> PaymentInitiated {
        PaymentInitiated(
            transactionId: transactionId, payerVpa: payerVpa, payeeVpa: payeeVpa, amountPaise: amountPaise, kind: kind,
            initiatedAt: time)
    }
}

/// A deterministic mix of payments for a demo or a test: mostly good ones (70 % to merchants, many of those to the
/// hot merchant `m001`), and the bad ones the gateway must refuse (missing fields, non-positive amounts, over the
/// limits, far above the payer's average, unknown payees), bursts of one payer that trip the velocity rule, and
/// client retries of a transaction already sent.
public struct PaymentLoad: Sendable {
    /// How many distinct transactions.
    public var payments: Int
    /// The seed.
    public var seed: UInt64
    /// The transaction ids' prefix (unique per run).
    public var runID: String
    /// The accounts.
    public var reference: PaymentsReference

    /// Creates a load.
    public init(payments: Int, seed: UInt64 = 42, runID: String = "UPI", reference: PaymentsReference = .standard) {
        self.payments = payments
        self.seed = seed
        self.runID = runID
        self.reference = reference
    }

    /// The requests, in the order they are sent.
    public func requests() -> [PaymentRequest] {
        var random = SeededGenerator(seed: seed)
        var requests: [PaymentRequest] = []
        var index = 0
        let customers = reference.customerList
        let merchants = reference.merchantList
        func nextID() -> String {
            index += 1
            return "\(runID)\(String(format: "%07d", index))"
        }
        while index < payments {
            let payer = customers[Int.random(in: 0..<customers.count, using: &random)]
            let roll = Int.random(in: 0..<1000, using: &random)
            // A burst: one payer sends seven payments back to back (the velocity rule allows five a minute).
            if roll < 5 {
                for _ in 0..<min(7, payments - index) {
                    let merchant = merchants[Int.random(in: 0..<merchants.count, using: &random)]
                    requests.append(
                        PaymentRequest(
                            transactionId: nextID(), payerVpa: payer.vpa, payeeVpa: merchant.vpa,
                            amountPaise: max(100, payer.averagePaymentPaise / 4), kind: .merchant, submission: 1))
                }
                continue
            }
            // A client's retry of a transaction it already sent (same id, new request).
            if roll < 15, let earlier = requests.last(where: { $0.submission == 1 }) {
                var again = earlier
                again.submission = 2
                requests.append(again)
                continue
            }
            var request = PaymentRequest(
                transactionId: nextID(), payerVpa: payer.vpa, payeeVpa: nil, amountPaise: nil, kind: nil, submission: 1)
            if Int.random(in: 0..<100, using: &random) < 70 {
                // Four in ten merchant payments go to the hot merchant.
                let merchant =
                    Int.random(in: 0..<10, using: &random) < 4
                    ? merchants[0] : merchants[Int.random(in: 0..<merchants.count, using: &random)]
                request.payeeVpa = merchant.vpa
                request.kind = .merchant
            } else {
                var payee = customers[Int.random(in: 0..<customers.count, using: &random)]
                if payee.vpa == payer.vpa { payee = customers[((customers.firstIndex(of: payee) ?? 0) + 1) % customers.count] }
                request.payeeVpa = payee.vpa
                request.kind = .p2p
            }
            // Usually a fifth to three times the payer's average.
            let factor = Double(Int.random(in: 20...300, using: &random)) / 100
            request.amountPaise = max(100, Int(Double(payer.averagePaymentPaise) * factor) / 100 * 100)
            switch roll {
            case 15..<20: request.payeeVpa = nil
            case 20..<25: request.amountPaise = 0
            case 25..<28:
                request.kind = .p2p
                request.payeeVpa = customers[(customers.firstIndex(of: payer).map { $0 + 1 } ?? 0) % customers.count].vpa
                request.amountPaise = 1_50_000_00
            case 28..<38: request.amountPaise = payer.averagePaymentPaise * 25
            case 38..<41: request.payeeVpa = "nobody\(index)@okdabba"
            default: break
            }
            requests.append(request)
        }
        return requests
    }

    /// The distinct transaction ids, in first-sent order.
    public func transactionIDs() -> [String] { Self.distinct(requests()) }

    /// The distinct transaction ids of requests, in first-sent order.
    public static func distinct(_ requests: some Sequence<PaymentRequest>) -> [String] {
        var seen = Set<String>()
        return requests.compactMap { seen.insert($0.transactionId).inserted ? $0.transactionId : nil }
    }
}
