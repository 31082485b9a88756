import Foundation

/// The gateway's per-transaction limits, in paise.
public struct PaymentLimits: Sendable, Hashable {
    /// The most one person-to-person payment may be: ₹1,00,000.
    public var p2pMaxPaise: Int
    /// The most one merchant payment may be: ₹10,00,000 (10 lakh).
    public var merchantMaxPaise: Int
    /// A payment larger than this multiple of the payer's average payment is refused as unusually large.
    public var averageMultiple: Int

    /// The platform's limits.
    public static let standard = PaymentLimits(p2pMaxPaise: 1_00_000_00, merchantMaxPaise: 10_00_000_00, averageMultiple: 20)

    /// Creates limits.
    public init(p2pMaxPaise: Int, merchantMaxPaise: Int, averageMultiple: Int) {
        self.p2pMaxPaise = p2pMaxPaise
        self.merchantMaxPaise = merchantMaxPaise
        self.averageMultiple = averageMultiple
    }

    /// The limit of a kind of payment.
    public func maximum(for kind: PaymentKind) -> Int {
        kind == .p2p ? p2pMaxPaise : merchantMaxPaise
    }
}

/// The velocity rule: at most `maxPayments` validated payments per payer within any `window` of initiation time.
///
/// A payment initiated at `t` is refused when the payer already has `maxPayments` validated payments initiated in
/// `(t − window, t]`. Only validated payments count (a refused attempt does not lock the payer out longer), and time
/// is the payment's own `initiatedAt`, so the decision is a function of the log: replaying one payer's initiations
/// in log order gives the same answers (``VelocityReplay``).
public struct VelocityRule: Sendable, Hashable {
    /// The window's length.
    public var window: Duration
    /// Validated payments allowed within it.
    public var maxPayments: Int

    /// 5 payments a minute.
    public static let standard = VelocityRule(window: .seconds(60), maxPayments: 5)

    /// Creates the rule.
    public init(window: Duration, maxPayments: Int) {
        self.window = window
        self.maxPayments = maxPayments
    }

    /// The window in milliseconds.
    public var windowMilliseconds: Int64 { Int64(window.components.seconds) * 1000 + window.components.attoseconds / 1_000_000_000_000_000 }

    /// Whether a payment at `atMilliseconds` exceeds the rule, given the payer's validated payments' times.
    /// - Parameters:
    ///   - atMilliseconds: The new payment's initiation time.
    ///   - validated: Initiation times of the payer's validated payments (any order; older ones are ignored).
    /// - Returns: True when the payment is to be refused.
    public func exceeded(atMilliseconds: Int64, validated: some Sequence<Int64>) -> Bool {
        let from = atMilliseconds - windowMilliseconds
        return validated.lazy.filter { $0 > from && $0 <= atMilliseconds }.count >= maxPayments
    }
}

/// What the gateway decides for an initiated payment.
public enum GatewayDecision: Sendable, Hashable {
    /// It passes, with its terms.
    case pass(PaymentTerms)
    /// It is refused.
    case reject(RejectionReason, String)
}

/// The gateway's checks, in order: fields present, amount positive, accounts known, the kind's limit, the payer's
/// usual amounts, velocity. Pure: the service supplies the payer's recent validated payments from its store.
public struct GatewayRules: Sendable {
    /// The limits.
    public var limits: PaymentLimits
    /// The velocity rule.
    public var velocity: VelocityRule
    /// Accounts and customers' history.
    public var reference: PaymentsReference

    /// Creates the rules.
    public init(
        limits: PaymentLimits = .standard, velocity: VelocityRule = .standard,
        reference: PaymentsReference = .standard
    ) {
        self.limits = limits
        self.velocity = velocity
        self.reference = reference
    }

    /// Decides one payment.
    /// - Parameters:
    ///   - payment: The initiated payment.
    ///   - recentValidated: Initiation times (ms) of the payer's validated payments within the velocity window.
    /// - Returns: Pass or reject, with the reason.
    public func decide(_ payment: PaymentInitiated, recentValidated: [Int64]) -> GatewayDecision {
        guard let payee = payment.payeeVpa, !payee.isEmpty else { return .reject(.missingField, "no payeeVpa") }
        guard let amount = payment.amountPaise else { return .reject(.missingField, "no amountPaise") }
        guard let kind = payment.kind else { return .reject(.missingField, "no kind") }
        guard amount > 0 else { return .reject(.invalidAmount, "amount \(amount) paise is not positive") }
        guard let payer = reference.customer(payment.payerVpa) else {
            return .reject(.unknownAccount, "no account for payer \(payment.payerVpa)")
        }
        guard reference.hasAccount(payee), payee != payment.payerVpa else {
            return .reject(.unknownAccount, "no account for payee \(payee)")
        }
        if (kind == .merchant) != reference.isMerchant(payee) {
            return .reject(.unknownAccount, "\(payee) is not a \(kind == .merchant ? "merchant" : "person")")
        }
        let maximum = limits.maximum(for: kind)
        guard amount <= maximum else {
            return .reject(.overLimit, "\(Rupees(amount)) is over the \(kind.rawValue) limit of \(Rupees(maximum))")
        }
        let usual = payer.averagePaymentPaise * limits.averageMultiple
        guard amount <= usual else {
            return .reject(
                .unusuallyLarge,
                "\(Rupees(amount)) is over \(limits.averageMultiple)× the payer's average of \(Rupees(payer.averagePaymentPaise))"
            )
        }
        let at = payment.initiatedAt.unixMilliseconds
        if velocity.exceeded(atMilliseconds: at, validated: recentValidated) {
            return .reject(
                .velocityExceeded,
                "\(velocity.maxPayments) payments already within \(velocity.windowMilliseconds / 1000) s"
            )
        }
        return .pass(PaymentTerms(payeeVpa: payee, amountPaise: amount, kind: kind, initiatedAt: payment.initiatedAt))
    }
}

/// Replays the gateway's decisions from the log, per payer in log order: the demo's check that the velocity rule
/// held.
public struct VelocityReplay: Sendable {
    private let rules: GatewayRules
    private var validated: [String: [Int64]] = [:]

    /// Creates a replay.
    public init(rules: GatewayRules = GatewayRules()) { self.rules = rules }

    /// The decision for the next initiation of its payer in the log.
    public mutating func decide(_ payment: PaymentInitiated) -> GatewayDecision {
        let decision = rules.decide(payment, recentValidated: validated[payment.payerVpa] ?? [])
        if case .pass = decision { validated[payment.payerVpa, default: []].append(payment.initiatedAt.unixMilliseconds) }
        return decision
    }
}

/// An amount in rupees for messages (`₹1,250.50`).
public struct Rupees: CustomStringConvertible, Sendable {
    /// The amount in paise.
    public var paise: Int
    /// Creates it.
    public init(_ paise: Int) { self.paise = paise }
    /// `₹<rupees>.<paise>`.
    public var description: String {
        let sign = paise < 0 ? "-" : ""
        let value = abs(paise)
        return "\(sign)₹\(value / 100).\(String(format: "%02d", value % 100))"
    }
}

extension Date {
    /// Milliseconds since 1970.
    public var unixMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }
}
