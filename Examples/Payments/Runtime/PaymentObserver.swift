import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import PaymentsDomain
import Synchronization

/// Watches `upi.payments` (and the groups' dead-letter topics) from the outside: where each payment is, when it got
/// there, why it was refused, what happened to refunds, and every initiation in log order (to replay the gateway's
/// velocity decisions). The demo and the tests use it.
public final class PaymentObserver: Sendable {
    struct Tracked {
        var stage: PaymentStage?
        var initiatedMilliseconds: Int64?
        var realtimeMilliseconds: Int64?
        var terminalMilliseconds: Int64?
        var reason: String?
        var amountPaise: Int?
        var scored = false
        var scoredMilliseconds: Int64?
        var flagged = false
        var refund: String?
    }

    struct State {
        var payments: [String: Tracked] = [:]
        /// First submissions and retries, per payer in log order.
        var initiations: [String: [PaymentInitiated]] = [:]
        var decisions: [String: GatewayDecisionSeen] = [:]
        var repeatedSubmissions = 0
        var undecodable = 0
    }

    /// The tracked payments, shared with the watcher's callback.
    final class Tracker: Sendable {
        let state = Mutex(State())
    }

    private let tracker: Tracker
    private let watcher: EventLogWatcher

    /// Creates an observer (call ``run()`` to start reading).
    /// - Parameters:
    ///   - bootstrap: The brokers.
    ///   - deadLetterTopics: Dead-letter topics to watch.
    ///   - logger: The logger.
    /// - Throws: ``KafkaError`` if the consumer cannot be created.
    public init(bootstrap: String, deadLetterTopics: [String], logger: Logger) throws {
        let tracker = Tracker()
        self.tracker = tracker
        watcher = try EventLogWatcher(
            bootstrap: bootstrap, mainTopic: paymentsTopic, deadLetterTopics: deadLetterTopics,
            groupPrefix: "upi-observer", logger: logger
        ) { message, type, timestamp in
            tracker.state.withLock { state in Self.track(message, type: type, timestamp: timestamp, in: &state) }
        }
    }

    /// Whether the consumer has its partitions.
    public var isAssigned: Bool { watcher.isAssigned }

    /// Reads until ``stop()``.
    public func run() async throws { try await watcher.run() }

    /// Stops reading.
    public func stop() async { await watcher.stop() }

    private static func decode<E: Decodable>(_ type: E.Type, _ message: KafkaMessage) -> E? {
        EventLogWatcher.payload(type, of: message)
    }

    private static func track(_ message: KafkaMessage, type: String, timestamp: Int64, in state: inout State) {
        func advance(_ id: String, to stage: PaymentStage, reason: String? = nil, amount: Int? = nil) {
            var tracked = state.payments[id] ?? Tracked()
            let order: [PaymentStage] = [.initiated, .validated, .reserved, .authorized, .settled, .refunded]
            let isLater = tracked.stage.map { current in
                !current.isTerminal || (current == .settled && stage == .refunded)
                    ? (order.firstIndex(of: stage) ?? 99) > (order.firstIndex(of: current) ?? -1) : false
            } ?? true
            if isLater {
                tracked.stage = stage
                if stage.isTerminal, stage != .refunded { tracked.terminalMilliseconds = timestamp }
            }
            if stage == .reserved || stage == .rejected || (stage == .failed && reason == FailureReason.insufficientBalance.rawValue) {
                tracked.realtimeMilliseconds = tracked.realtimeMilliseconds ?? timestamp
            }
            if let reason { tracked.reason = reason }
            if let amount { tracked.amountPaise = amount }
            state.payments[id] = tracked
        }
        switch type {
        case PaymentInitiated.eventType:
            guard let payment = decode(PaymentInitiated.self, message) else { state.undecodable += 1; return }
            if state.payments[payment.transactionId]?.initiatedMilliseconds != nil {
                state.repeatedSubmissions += 1
                return
            }
            state.initiations[payment.payerVpa, default: []].append(payment)
            var tracked = state.payments[payment.transactionId] ?? Tracked()
            tracked.initiatedMilliseconds = timestamp
            tracked.stage = tracked.stage ?? .initiated
            state.payments[payment.transactionId] = tracked
        case PaymentRejected.eventType:
            guard let payment = decode(PaymentRejected.self, message) else { state.undecodable += 1; return }
            state.decisions[payment.transactionId] = .rejected(payment.reason)
            advance(payment.transactionId, to: .rejected, reason: payment.reason.rawValue)
        case PaymentValidated.eventType:
            guard let payment = decode(PaymentValidated.self, message) else { state.undecodable += 1; return }
            state.decisions[payment.transactionId] = .validated
            advance(payment.transactionId, to: .validated, amount: payment.terms.amountPaise)
        case FundsReserved.eventType:
            guard let payment = decode(FundsReserved.self, message) else { state.undecodable += 1; return }
            advance(payment.transactionId, to: .reserved)
        case PaymentAuthorized.eventType:
            guard let payment = decode(PaymentAuthorized.self, message) else { state.undecodable += 1; return }
            advance(payment.transactionId, to: .authorized)
        case PaymentSettled.eventType:
            guard let payment = decode(PaymentSettled.self, message) else { state.undecodable += 1; return }
            advance(payment.transactionId, to: .settled, amount: payment.terms.amountPaise)
        case PaymentFailed.eventType:
            guard let payment = decode(PaymentFailed.self, message) else { state.undecodable += 1; return }
            advance(payment.transactionId, to: .failed, reason: payment.reason.rawValue)
        case PaymentRiskScored.eventType:
            guard let payment = decode(PaymentRiskScored.self, message) else { state.undecodable += 1; return }
            state.payments[payment.transactionId, default: Tracked()].scored = true
            state.payments[payment.transactionId, default: Tracked()].scoredMilliseconds = timestamp
            state.payments[payment.transactionId, default: Tracked()].flagged = payment.flagged
        case RefundIssued.eventType:
            guard let refund = decode(RefundIssued.self, message) else { state.undecodable += 1; return }
            state.payments[refund.transactionId, default: Tracked()].refund = "issued"
            advance(refund.transactionId, to: .refunded)
        case RefundDeclined.eventType:
            guard let refund = decode(RefundDeclined.self, message) else { state.undecodable += 1; return }
            state.payments[refund.transactionId, default: Tracked()].refund = "declined:\(refund.reason.rawValue)"
        default:
            return
        }
    }

    /// A snapshot of what was observed for a set of transactions.
    /// - Parameter transactionIDs: The transactions of interest (the load's).
    /// - Returns: Counts, latencies, reasons and dead letters.
    public func snapshot(of transactionIDs: [String]) -> PaymentRun {
        let counts = watcher.counts
        return tracker.state.withLock { state in
            var run = PaymentRun()
            var realtime: [Double] = []
            var endToEnd: [Double] = []
            var firstInitiated: Int64?
            var lastFinished: Int64?
            for id in transactionIDs {
                let tracked = state.payments[id]
                let stage = tracked?.stage
                run.byStage[stage?.rawValue ?? "not_sent_yet", default: 0] += 1
                if let bucket = stage?.terminalBucket {
                    run.terminal[bucket, default: 0] += 1
                } else {
                    run.unfinished.append(id)
                }
                if stage == .refunded { run.refunded += 1 }
                if let initiated = tracked?.initiatedMilliseconds {
                    firstInitiated = min(firstInitiated ?? initiated, initiated)
                    // A settled payment's last hop is risk's score (analytics records it in its store only).
                    for done in [tracked?.terminalMilliseconds, tracked?.scoredMilliseconds].compactMap({ $0 })
                    where stage?.terminalBucket != nil {
                        lastFinished = max(lastFinished ?? done, done)
                    }
                    if let done = tracked?.realtimeMilliseconds { realtime.append(Double(done - initiated)) }
                    if stage == .settled || stage == .refunded, let done = tracked?.terminalMilliseconds {
                        endToEnd.append(Double(done - initiated))
                    }
                }
                if let reason = tracked?.reason, let stage {
                    if stage == .rejected { run.rejections[reason, default: 0] += 1 }
                    if stage == .failed { run.failures[reason, default: 0] += 1 }
                }
                if tracked?.scored == true { run.scored += 1 }
                if tracked?.flagged == true { run.flagged += 1 }
                if let refund = tracked?.refund { run.refundAnswers[id] = refund }
                if let stage { run.stages[id] = stage }
                if let amount = tracked?.amountPaise { run.amounts[id] = amount }
            }
            run.realtimeP50Milliseconds = Percentile.of(50, realtime)
            run.realtimeP99Milliseconds = Percentile.of(99, realtime)
            run.endToEndP50Milliseconds = Percentile.of(50, endToEnd)
            run.endToEndP99Milliseconds = Percentile.of(99, endToEnd)
            if let firstInitiated, let lastFinished {
                run.loadSpanSeconds = Double(max(0, lastFinished - firstInitiated)) / 1000
            }
            run.events = counts.events
            run.duplicateDeliveries = counts.duplicateDeliveries
            run.deadLetters = counts.deadLetters
            run.repeatedSubmissions = state.repeatedSubmissions
            run.undecodable = state.undecodable
            return run
        }
    }

    /// Replays the gateway's rules over every payer's initiations in log order and counts the transactions whose
    /// logged decision differs (0 when the velocity rule, and every other gateway rule, held).
    public func gatewayDisagreements(rules: GatewayRules = GatewayRules()) -> [String] {
        tracker.state.withLock { state in
            var replay = VelocityReplay(rules: rules)
            var disagreeing: [String] = []
            for (_, initiations) in state.initiations {
                for payment in initiations {
                    let expected: GatewayDecisionSeen
                    switch replay.decide(payment) {
                    case .pass: expected = .validated
                    case .reject(let reason, _): expected = .rejected(reason)
                    }
                    if state.decisions[payment.transactionId] != expected { disagreeing.append(payment.transactionId) }
                }
            }
            return disagreeing.sorted()
        }
    }
}

/// The gateway's decision as the log shows it.
enum GatewayDecisionSeen: Hashable, Sendable {
    case validated
    case rejected(RejectionReason)
}

/// What the observer saw for a run.
public struct PaymentRun: Sendable {
    /// Payments per current stage (`not_sent_yet` for payments not observed yet).
    public var byStage: [String: Int] = [:]
    /// Payments per terminal bucket (`settled`, `rejected`, `failed`).
    public var terminal: [String: Int] = [:]
    /// Payments not (yet) in a terminal state.
    public var unfinished: [String] = []
    /// Each observed payment's stage.
    public var stages: [String: PaymentStage] = [:]
    /// Each validated payment's amount.
    public var amounts: [String: Int] = [:]
    /// Rejections by reason.
    public var rejections: [String: Int] = [:]
    /// Failures by reason.
    public var failures: [String: Int] = [:]
    /// Refunds issued.
    public var refunded = 0
    /// The answer to each refund request (`issued`, `declined:<reason>`).
    public var refundAnswers: [String: String] = [:]
    /// Settled payments the risk service scored.
    public var scored = 0
    /// Of which flagged.
    public var flagged = 0
    /// Initiated → reserved, rejected or failed for want of balance (the real-time layer), by record timestamps.
    public var realtimeP50Milliseconds: Double = 0
    /// 99th percentile of the same.
    public var realtimeP99Milliseconds: Double = 0
    /// Initiated → settled.
    public var endToEndP50Milliseconds: Double = 0
    /// 99th percentile of the same.
    public var endToEndP99Milliseconds: Double = 0
    /// From the first payment's initiation to the last final state (settled, rejected or failed) or risk score of
    /// the payments asked about, by record timestamps: the span the load took through the services.
    public var loadSpanSeconds: Double = 0
    /// Distinct events on the topic.
    public var events = 0
    /// Records seen again with an id already seen.
    public var duplicateDeliveries = 0
    /// Dead-lettered records.
    public var deadLetters: [DeadLetter] = []
    /// Initiations of a transaction id seen before (client retries).
    public var repeatedSubmissions = 0
    /// Records the observer could not decode.
    public var undecodable = 0

    /// Payments in a terminal bucket.
    public func count(_ bucket: String) -> Int { terminal[bucket] ?? 0 }
}
