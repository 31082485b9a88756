// upi-analytics (analytics and compliance layer): every payment's timeline from the log — payments per minute,
// outcomes, rejections and failures by reason, latency per layer (real-time: initiated → reserved or decided;
// end to end: initiated → settled; business: settled → risk-scored), refunds and flags — and the regulatory report
// (`--report`). Non-essential: the operator pauses it during a surge and it catches up afterwards.
import ArgumentParser
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoKit
import DemoServiceKit
import Foundation
import PaymentsDomain
import PaymentsRuntime

@main
struct AnalyticsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upi-analytics", abstract: "UPI payment analytics and the regulatory report (--report).")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    @Flag(help: "Print the regulatory report from the store (--inbox sqlite:PATH) and exit, without consuming.")
    var report = false

    static let migrations = ServiceEffects.migrations + [
        "CREATE TABLE IF NOT EXISTS analytics_payments (transaction_id TEXT PRIMARY KEY, payer TEXT NOT NULL, initiated_ms BIGINT, realtime_ms BIGINT, outcome TEXT, reason TEXT, amount_paise BIGINT, terminal_ms BIGINT, scored_ms BIGINT, flagged INTEGER NOT NULL DEFAULT 0, refunded_paise BIGINT NOT NULL DEFAULT 0)",
        "CREATE TABLE IF NOT EXISTS analytics_minutes (minute BIGINT PRIMARY KEY, initiated BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS analytics_refunds_declined (transaction_id TEXT NOT NULL, reason TEXT NOT NULL)",
    ]

    func run() async throws {
        try demo.check(options, system: paymentsSystem)
        if report {
            let path = try sqliteStorePath(inbox: options.inbox, group: "upi-analytics", instanceID: options.instanceID)
            let store = try SQLiteInbox(path: path)
            try await store.migrate(Self.migrations)
            let lines = try await store.withConnection { try AnalyticsReport.lines($0) }
            for line in lines { print(line) }
            return
        }
        var pipeline = Pipeline(service: "upi-analytics", groupID: "upi-analytics")
        pipeline.ignoreOtherPaymentEvents(handled: [
            PaymentInitiated.self, PaymentRejected.self, FundsReserved.self, PaymentFailed.self, PaymentSettled.self,
            PaymentRiskScored.self, RefundIssued.self, RefundDeclined.self,
        ])
        pipeline.on(PaymentInitiated.self) { payment, context in
            let database = try paymentsDatabase(context)
            let at = payment.initiatedAt.unixMilliseconds
            let inserted = try database.execute(
                "INSERT INTO analytics_payments (transaction_id, payer, initiated_ms) VALUES (?, ?, ?) ON CONFLICT (transaction_id) DO NOTHING",
                [.text(payment.transactionId), .text(payment.payerVpa), .integer(at)])
            guard inserted == 1 else { return }
            _ = try database.execute(
                "INSERT INTO analytics_minutes (minute, initiated) VALUES (?, 1) ON CONFLICT (minute) DO UPDATE SET initiated = analytics_minutes.initiated + 1",
                [.integer(at / 60_000)])
        }
        pipeline.on(PaymentRejected.self) { payment, context in
            let at = payment.rejectedAt.unixMilliseconds
            try update(
                payment.transactionId,
                "realtime_ms = ?, outcome = 'rejected', reason = ?, terminal_ms = ?",
                [.integer(at), .text(payment.reason.rawValue), .integer(at)], context)
        }
        pipeline.on(FundsReserved.self) { payment, context in
            try update(
                payment.transactionId, "realtime_ms = ?", [.integer(payment.reservedAt.unixMilliseconds)], context)
        }
        pipeline.on(PaymentFailed.self) { payment, context in
            let at = payment.failedAt.unixMilliseconds
            // A failure for want of balance is the real-time layer's answer; a bank's failure comes later.
            try update(
                payment.transactionId,
                "realtime_ms = COALESCE(realtime_ms, ?), outcome = 'failed', reason = ?, amount_paise = ?, terminal_ms = ?",
                [.integer(at), .text(payment.reason.rawValue), .integer(Int64(payment.amountPaise)), .integer(at)],
                context)
        }
        pipeline.on(PaymentSettled.self) { payment, context in
            try update(
                payment.transactionId, "outcome = 'settled', amount_paise = ?, terminal_ms = ?",
                [.integer(Int64(payment.terms.amountPaise)), .integer(payment.settledAt.unixMilliseconds)], context)
        }
        pipeline.on(PaymentRiskScored.self) { payment, context in
            try update(
                payment.transactionId, "scored_ms = ?, flagged = ?",
                [.integer(payment.scoredAt.unixMilliseconds), .integer(payment.flagged ? 1 : 0)], context)
        }
        pipeline.on(RefundIssued.self) { refund, context in
            try update(refund.transactionId, "refunded_paise = ?", [.integer(Int64(refund.amountPaise))], context)
        }
        pipeline.on(RefundDeclined.self) { refund, context in
            _ = try paymentsDatabase(context).execute(
                "INSERT INTO analytics_refunds_declined (transaction_id, reason) VALUES (?, ?)",
                [.text(refund.transactionId), .text(refund.reason.rawValue)])
        }
        try await PipelineService.run(
            pipeline, options: options, migrations: Self.migrations, configure: { demo.apply(to: &$0) })
    }
}

/// Updates a payment's row (created by its initiation, earlier in the same partition).
private func update(_ transactionId: String, _ assignments: String, _ values: [SQLValue], _ context: EventContext) throws {
    let changed = try paymentsDatabase(context).execute(
        "UPDATE analytics_payments SET \(assignments) WHERE transaction_id = ?", values + [.text(transactionId)])
    if changed != 1 {
        throw PermanentError(HandlerFailure("no initiation of \(transactionId) before \(context.envelope.type)"))
    }
}
