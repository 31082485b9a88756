import DabbaEvents
import Foundation

/// An event of one payment's life on `upi.payments`: keyed by the payer's VPA, so everything that must be serial for
/// one payer (its balance, its velocity) is on one partition, in order.
public protocol PaymentEvent: Event {
    /// The UPI transaction id (the client's, unique per payment; also the bank's idempotency key).
    var transactionId: String { get }
    /// The payer's virtual payment address (`u00042@okdabba`).
    var payerVpa: String { get }
    /// The stage this event moves the payment to (nil: it does not move it).
    static var stage: PaymentStage? { get }
}

extension PaymentEvent {
    /// The payer's VPA.
    public var partitionKey: String? { payerVpa }
}

/// Where a payment is in its life, as the log shows it.
public enum PaymentStage: String, Sendable, CaseIterable, Codable {
    case initiated
    case validated
    case reserved
    case authorized
    case settled
    case rejected
    case failed
    case refunded

    /// Whether the payment's fate is decided: settled (refunded or not), rejected or failed.
    public var isTerminal: Bool { self == .settled || self == .rejected || self == .failed || self == .refunded }

    /// The terminal bucket of the summary: refunded payments were settled first.
    public var terminalBucket: String? {
        switch self {
        case .settled, .refunded: "settled"
        case .rejected: "rejected"
        case .failed: "failed"
        default: nil
        }
    }
}

/// What kind of payment: to a person or to a merchant.
public enum PaymentKind: String, Codable, Sendable, CaseIterable {
    /// Person to person.
    case p2p
    /// Person to merchant.
    case merchant
}

/// `upi.payment.initiated`: a payer's app asks to pay. Everything but the ids may be missing or wrong: the gateway
/// validates it.
public struct PaymentInitiated: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.payment.initiated"
    /// The stage.
    public static let stage: PaymentStage? = .initiated
    /// The transaction id.
    public var transactionId: String
    /// The payer.
    public var payerVpa: String
    /// The payee (a person's or a merchant's VPA).
    public var payeeVpa: String?
    /// The amount in paise (₹1 = 100 paise).
    public var amountPaise: Int?
    /// Person or merchant.
    public var kind: PaymentKind?
    /// The payer's note.
    public var note: String?
    /// When the payer's app sent it.
    public var initiatedAt: Date

    /// Creates the event.
    public init(
        transactionId: String, payerVpa: String, payeeVpa: String?, amountPaise: Int?, kind: PaymentKind?,
        note: String? = nil, initiatedAt: Date
    ) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.payeeVpa = payeeVpa
        self.amountPaise = amountPaise
        self.kind = kind
        self.note = note
        self.initiatedAt = initiatedAt
    }
}

/// Why the gateway rejected a payment (`reason` of ``PaymentRejected``).
public enum RejectionReason: String, Codable, Sendable, CaseIterable {
    /// A required field is missing (payee, amount or kind).
    case missingField = "missing_field"
    /// The amount is zero or negative.
    case invalidAmount = "invalid_amount"
    /// Over the per-transaction limit of its kind.
    case overLimit = "over_limit"
    /// The payer made too many payments in the velocity window.
    case velocityExceeded = "velocity_exceeded"
    /// Far larger than the payer's usual payment.
    case unusuallyLarge = "unusually_large"
    /// The payer or payee has no account.
    case unknownAccount = "unknown_account"
}

/// `upi.payment.rejected`: the gateway refused the payment; no money moved.
public struct PaymentRejected: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.payment.rejected"
    /// The stage.
    public static let stage: PaymentStage? = .rejected
    /// The transaction id.
    public var transactionId: String
    /// The payer.
    public var payerVpa: String
    /// Why.
    public var reason: RejectionReason
    /// A human-readable detail.
    public var detail: String
    /// When.
    public var rejectedAt: Date

    /// Creates the event.
    public init(transactionId: String, payerVpa: String, reason: RejectionReason, detail: String, rejectedAt: Date) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.reason = reason
        self.detail = detail
        self.rejectedAt = rejectedAt
    }
}

/// The fields of a payment that passed validation, carried by every later event.
public struct PaymentTerms: Codable, Sendable, Hashable {
    /// The payee.
    public var payeeVpa: String
    /// The amount in paise.
    public var amountPaise: Int
    /// Person or merchant.
    public var kind: PaymentKind
    /// When the payer's app sent it.
    public var initiatedAt: Date

    /// Creates terms.
    public init(payeeVpa: String, amountPaise: Int, kind: PaymentKind, initiatedAt: Date) {
        self.payeeVpa = payeeVpa
        self.amountPaise = amountPaise
        self.kind = kind
        self.initiatedAt = initiatedAt
    }
}

/// `upi.payment.validated`: the gateway passed the payment (limits, velocity, the payer's usual amounts).
public struct PaymentValidated: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.payment.validated"
    /// The stage.
    public static let stage: PaymentStage? = .validated
    /// The transaction id.
    public var transactionId: String
    /// The payer.
    public var payerVpa: String
    /// What is to be paid.
    public var terms: PaymentTerms
    /// When.
    public var validatedAt: Date

    /// Creates the event.
    public init(transactionId: String, payerVpa: String, terms: PaymentTerms, validatedAt: Date) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.terms = terms
        self.validatedAt = validatedAt
    }
}

/// `upi.payment.funds-reserved`: the ledger put a hold of the amount on the payer's account.
public struct FundsReserved: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.payment.funds-reserved"
    /// The stage.
    public static let stage: PaymentStage? = .reserved
    /// The transaction id.
    public var transactionId: String
    /// The payer.
    public var payerVpa: String
    /// What is to be paid.
    public var terms: PaymentTerms
    /// When.
    public var reservedAt: Date

    /// Creates the event.
    public init(transactionId: String, payerVpa: String, terms: PaymentTerms, reservedAt: Date) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.terms = terms
        self.reservedAt = reservedAt
    }
}

/// `upi.payment.authorized`: the bank applied the transfer (the switch called it with the transaction id as the
/// idempotency key).
public struct PaymentAuthorized: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.payment.authorized"
    /// The stage.
    public static let stage: PaymentStage? = .authorized
    /// The transaction id.
    public var transactionId: String
    /// The payer.
    public var payerVpa: String
    /// What is paid.
    public var terms: PaymentTerms
    /// The bank's reference of the transfer.
    public var bankReference: String
    /// When.
    public var authorizedAt: Date

    /// Creates the event.
    public init(
        transactionId: String, payerVpa: String, terms: PaymentTerms, bankReference: String, authorizedAt: Date
    ) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.terms = terms
        self.bankReference = bankReference
        self.authorizedAt = authorizedAt
    }
}

/// `upi.payment.settled`: the ledger debited the payer and credited the payee (one journal transaction).
public struct PaymentSettled: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.payment.settled"
    /// The stage.
    public static let stage: PaymentStage? = .settled
    /// The transaction id.
    public var transactionId: String
    /// The payer.
    public var payerVpa: String
    /// What was paid.
    public var terms: PaymentTerms
    /// When.
    public var settledAt: Date

    /// Creates the event.
    public init(transactionId: String, payerVpa: String, terms: PaymentTerms, settledAt: Date) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.terms = terms
        self.settledAt = settledAt
    }
}

/// Why a validated payment failed (`reason` of ``PaymentFailed``).
public enum FailureReason: String, Codable, Sendable, CaseIterable {
    /// The payer's available balance is below the amount.
    case insufficientBalance = "insufficient_balance"
    /// The bank declined the transfer.
    case bankDeclined = "bank_declined"
    /// The bank timed the transfer out on its side and reversed it (a definitive answer, not a lost response).
    case bankTimeout = "bank_timeout"
}

/// `upi.payment.failed`: a validated payment ended without moving money (its hold, if any, is released).
public struct PaymentFailed: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.payment.failed"
    /// The stage.
    public static let stage: PaymentStage? = .failed
    /// The transaction id.
    public var transactionId: String
    /// The payer.
    public var payerVpa: String
    /// Why.
    public var reason: FailureReason
    /// The amount in paise.
    public var amountPaise: Int
    /// When.
    public var failedAt: Date

    /// Creates the event.
    public init(transactionId: String, payerVpa: String, reason: FailureReason, amountPaise: Int, failedAt: Date) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.reason = reason
        self.amountPaise = amountPaise
        self.failedAt = failedAt
    }
}

/// `upi.payment.risk-scored`: the risk service scored a settled payment after the fact (it never blocks one).
public struct PaymentRiskScored: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.payment.risk-scored"
    /// Scoring does not move the payment.
    public static let stage: PaymentStage? = nil
    /// The transaction id.
    public var transactionId: String
    /// The payer.
    public var payerVpa: String
    /// 0 (nothing unusual) to 100.
    public var score: Int
    /// Whether the score crossed the review threshold.
    public var flagged: Bool
    /// What contributed to the score.
    public var signals: [String]
    /// When.
    public var scoredAt: Date

    /// Creates the event.
    public init(
        transactionId: String, payerVpa: String, score: Int, flagged: Bool, signals: [String], scoredAt: Date
    ) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.score = score
        self.flagged = flagged
        self.signals = signals
        self.scoredAt = scoredAt
    }
}

/// `upi.refund.requested`: the payer asks for a settled payment back (a merchant's refund on the payer's behalf).
public struct RefundRequested: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.refund.requested"
    /// A request does not move the payment.
    public static let stage: PaymentStage? = nil
    /// The payment to refund.
    public var transactionId: String
    /// The payer of that payment (who gets the money back).
    public var payerVpa: String
    /// When.
    public var requestedAt: Date

    /// Creates the event.
    public init(transactionId: String, payerVpa: String, requestedAt: Date) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.requestedAt = requestedAt
    }
}

/// `upi.refund.issued`: the ledger moved a settled payment's amount back (one debit of the payee, one equal credit
/// of the payer).
public struct RefundIssued: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.refund.issued"
    /// The stage.
    public static let stage: PaymentStage? = .refunded
    /// The refunded payment.
    public var transactionId: String
    /// Its payer.
    public var payerVpa: String
    /// Its payee.
    public var payeeVpa: String
    /// The amount in paise.
    public var amountPaise: Int
    /// When.
    public var issuedAt: Date

    /// Creates the event.
    public init(transactionId: String, payerVpa: String, payeeVpa: String, amountPaise: Int, issuedAt: Date) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.payeeVpa = payeeVpa
        self.amountPaise = amountPaise
        self.issuedAt = issuedAt
    }
}

/// Why a refund was declined (`reason` of ``RefundDeclined``).
public enum RefundDeclineReason: String, Codable, Sendable, CaseIterable {
    /// The payment is not settled (rejected, failed, or unknown to the ledger).
    case notSettled = "not_settled"
    /// It was refunded already.
    case alreadyRefunded = "already_refunded"
    /// The payee's balance no longer covers it.
    case payeeInsufficientBalance = "payee_insufficient_balance"
}

/// `upi.refund.declined`: the ledger refused a refund request; no money moved.
public struct RefundDeclined: PaymentEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "upi.refund.declined"
    /// A declined refund leaves the payment as it was.
    public static let stage: PaymentStage? = nil
    /// The payment.
    public var transactionId: String
    /// Its payer.
    public var payerVpa: String
    /// Why.
    public var reason: RefundDeclineReason
    /// When.
    public var declinedAt: Date

    /// Creates the event.
    public init(transactionId: String, payerVpa: String, reason: RefundDeclineReason, declinedAt: Date) {
        self.transactionId = transactionId
        self.payerVpa = payerVpa
        self.reason = reason
        self.declinedAt = declinedAt
    }
}

/// Every payment event type on `upi.payments`.
public let allPaymentEventTypes: [any PaymentEvent.Type] = [
    PaymentInitiated.self, PaymentRejected.self, PaymentValidated.self, FundsReserved.self, PaymentAuthorized.self,
    PaymentSettled.self, PaymentFailed.self, PaymentRiskScored.self, RefundRequested.self, RefundIssued.self,
    RefundDeclined.self,
]
