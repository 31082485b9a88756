import Foundation

/// Representative events of each type, for `Pipeline.emits` contract declarations and tests.
public enum PaymentSamples {
    static let time = Date(timeIntervalSince1970: 1_773_491_400)  // 2026-03-14T12:30:00Z
    static let terms = PaymentTerms(payeeVpa: "m001@dabbapay", amountPaise: 45_000, kind: .merchant, initiatedAt: time)

    /// An initiated payment, and one with fields missing.
    public static let initiated = PaymentInitiated(
        transactionId: "UPI0000001", payerVpa: "u00042@okdabba", payeeVpa: "m001@dabbapay", amountPaise: 45_000,
        kind: .merchant, note: "chai and samosa", initiatedAt: time)
    /// An initiation without a payee or an amount.
    public static let initiatedIncomplete = PaymentInitiated(
        transactionId: "UPI0000002", payerVpa: "u00042@okdabba", payeeVpa: nil, amountPaise: nil, kind: nil,
        initiatedAt: time)
    /// A rejection.
    public static let rejected = PaymentRejected(
        transactionId: "UPI0000002", payerVpa: "u00042@okdabba", reason: .missingField, detail: "no payeeVpa",
        rejectedAt: time)
    /// A validated payment.
    public static let validated = PaymentValidated(
        transactionId: "UPI0000001", payerVpa: "u00042@okdabba", terms: terms, validatedAt: time)
    /// Funds reserved.
    public static let reserved = FundsReserved(
        transactionId: "UPI0000001", payerVpa: "u00042@okdabba", terms: terms, reservedAt: time)
    /// Authorized by the bank.
    public static let authorized = PaymentAuthorized(
        transactionId: "UPI0000001", payerVpa: "u00042@okdabba", terms: terms, bankReference: "DABBABANK-0000001",
        authorizedAt: time)
    /// Settled.
    public static let settled = PaymentSettled(
        transactionId: "UPI0000001", payerVpa: "u00042@okdabba", terms: terms, settledAt: time)
    /// Failed for want of balance.
    public static let failedBalance = PaymentFailed(
        transactionId: "UPI0000003", payerVpa: "u00042@okdabba", reason: .insufficientBalance, amountPaise: 9_000_000,
        failedAt: time)
    /// Declined by the bank.
    public static let failedBank = PaymentFailed(
        transactionId: "UPI0000004", payerVpa: "u00042@okdabba", reason: .bankDeclined, amountPaise: 45_000,
        failedAt: time)
    /// A risk score.
    public static let scored = PaymentRiskScored(
        transactionId: "UPI0000001", payerVpa: "u00042@okdabba", score: 65, flagged: true,
        signals: ["amount_10x_average", "new_payee"], scoredAt: time)
    /// A refund request.
    public static let refundRequested = RefundRequested(
        transactionId: "UPI0000001", payerVpa: "u00042@okdabba", requestedAt: time)
    /// A refund issued.
    public static let refundIssued = RefundIssued(
        transactionId: "UPI0000001", payerVpa: "u00042@okdabba", payeeVpa: "m001@dabbapay", amountPaise: 45_000,
        issuedAt: time)
    /// A refund declined.
    public static let refundDeclined = RefundDeclined(
        transactionId: "UPI0000003", payerVpa: "u00042@okdabba", reason: .notSettled, declinedAt: time)
}
