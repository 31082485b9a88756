import DemoKit
import Foundation

/// What the (fake) remitter bank answers for a transfer it received: decided once per transaction id, from the id
/// itself, so every process and every retry sees the same answer.
public enum BankAnswer: String, Sendable, Hashable, Codable {
    /// The transfer was applied.
    case approved
    /// The bank declined it (a frozen account, a mismatch): definitive.
    case declined
    /// The bank timed it out on its side and reversed it: definitive.
    case timedOut = "timed_out"

    /// The bank's answer for a transaction: about 2 % declined and 1 % timed out at the bank.
    public static func decide(transactionId: String) -> BankAnswer {
        switch stableHash("bank:" + transactionId) % 100 {
        case 0..<2: .declined
        case 2..<3: .timedOut
        default: .approved
        }
    }
}

/// The risk service's score of a settled payment: deterministic from the payment and what the service saw of the
/// payer before it. It never blocks a payment: it flags one for review after the fact.
public struct RiskScorer: Sendable {
    /// A score of at least this flags the payment.
    public var flagThreshold: Int

    /// Flags at 40: a new payee in a burst, or a payment five times the usual to a new payee.
    public init(flagThreshold: Int = 40) { self.flagThreshold = flagThreshold }

    /// What the scorer knows of a payment.
    public struct Facts: Sendable, Hashable {
        /// The amount in paise.
        public var amountPaise: Int
        /// The payer's average payment before the run, in paise.
        public var payerAveragePaise: Int
        /// Whether the payer paid this payee before (in what the service saw).
        public var knownPayee: Bool
        /// The payer's settled payments in the 10 minutes before this one.
        public var recentPayments: Int
        /// The payment's hour of day (0–23, IST).
        public var hour: Int

        /// Creates facts.
        public init(amountPaise: Int, payerAveragePaise: Int, knownPayee: Bool, recentPayments: Int, hour: Int) {
            self.amountPaise = amountPaise
            self.payerAveragePaise = payerAveragePaise
            self.knownPayee = knownPayee
            self.recentPayments = recentPayments
            self.hour = hour
        }
    }

    /// Scores a payment.
    /// - Returns: The score (0–100), whether it is flagged, and the signals that contributed.
    public func score(_ facts: Facts) -> (score: Int, flagged: Bool, signals: [String]) {
        var score = 0
        var signals: [String] = []
        let ratio = Double(facts.amountPaise) / Double(max(1, facts.payerAveragePaise))
        if ratio >= 10 {
            score += 40
            signals.append("amount_10x_average")
        } else if ratio >= 5 {
            score += 25
            signals.append("amount_5x_average")
        }
        if !facts.knownPayee {
            score += 15
            signals.append("new_payee")
        }
        if facts.recentPayments >= 4 {
            score += 25
            signals.append("burst")
        }
        if facts.hour < 5 {
            score += 15
            signals.append("night")
        }
        let capped = min(100, score)
        return (capped, capped >= flagThreshold, signals)
    }
}
