// upi-gateway (real-time layer): validates initiated payments — fields, amount, accounts, the per-transaction limits,
// the payer's usual amounts (20× the average), and velocity (five validated payments a minute per payer, over a
// sliding window of initiation time) — and passes them on or rejects them. A transaction id submitted again (a
// client's retry) is recognized and ignored: one payment per transaction id.
import ArgumentParser
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import PaymentsDomain
import PaymentsRuntime

@main
struct GatewayService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upi-gateway", abstract: "Validates initiated UPI payments: limits, velocity, usual amounts.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: paymentsSystem)
        let rules = GatewayRules()
        let windowMilliseconds = rules.velocity.windowMilliseconds
        var pipeline = Pipeline(service: "upi-gateway", groupID: "upi-gateway")
        pipeline.emits(PaymentSamples.validated)
        pipeline.emits(PaymentSamples.rejected)
        pipeline.ignoreOtherPaymentEvents(handled: [PaymentInitiated.self])
        pipeline.on(PaymentInitiated.self) { payment, context in
            let database = try paymentsDatabase(context)
            let seen = try database.query(
                "SELECT decision FROM submissions WHERE transaction_id = ?", [.text(payment.transactionId)])
            if !seen.isEmpty {
                // A retry of a transaction already decided: one payment per transaction id.
                _ = try database.execute(
                    "INSERT INTO repeated_submissions (transaction_id, event_id) VALUES (?, ?)",
                    [.text(payment.transactionId), .text(context.envelope.id)])
                context.logger.info("ignored a repeated submission of \(payment.transactionId)")
                return
            }
            let at = payment.initiatedAt.unixMilliseconds
            let recent = try database.query(
                "SELECT initiated_ms FROM velocity WHERE payer = ? AND initiated_ms > ? AND initiated_ms <= ?",
                [.text(payment.payerVpa), .integer(at - windowMilliseconds), .integer(at)]
            ).map { Int64($0[0].int) }
            let decision = rules.decide(payment, recentValidated: recent)
            let now = Date()
            switch decision {
            case .pass(let terms):
                _ = try database.execute(
                    "INSERT INTO velocity (payer, initiated_ms) VALUES (?, ?)",
                    [.text(payment.payerVpa), .integer(at)])
                // Rows far older than the window can no longer count (initiation times are minutes apart at most).
                _ = try database.execute(
                    "DELETE FROM velocity WHERE payer = ? AND initiated_ms <= ?",
                    [.text(payment.payerVpa), .integer(at - 10 * windowMilliseconds)])
                try record(payment, decision: "validated", reason: nil, in: database)
                try await context.emit(
                    PaymentValidated(
                        transactionId: payment.transactionId, payerVpa: payment.payerVpa, terms: terms, validatedAt: now))
            case .reject(let reason, let detail):
                try record(payment, decision: "rejected", reason: reason.rawValue, in: database)
                try await context.emit(
                    PaymentRejected(
                        transactionId: payment.transactionId, payerVpa: payment.payerVpa, reason: reason,
                        detail: detail, rejectedAt: now))
            }
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ServiceEffects.migrations + [
                "CREATE TABLE IF NOT EXISTS submissions (transaction_id TEXT PRIMARY KEY, payer TEXT NOT NULL, decision TEXT NOT NULL, reason TEXT)",
                "CREATE TABLE IF NOT EXISTS repeated_submissions (transaction_id TEXT NOT NULL, event_id TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS velocity (payer TEXT NOT NULL, initiated_ms BIGINT NOT NULL)",
                "CREATE INDEX IF NOT EXISTS velocity_payer ON velocity (payer, initiated_ms)",
            ],
            configure: { demo.apply(to: &$0) }
        )
    }
}

/// Records the gateway's decision for a transaction (the submissions table is also its duplicate check).
private func record(
    _ payment: PaymentInitiated, decision: String, reason: String?, in database: any InboxTransaction
) throws {
    _ = try database.execute(
        "INSERT INTO submissions (transaction_id, payer, decision, reason) VALUES (?, ?, ?, ?)",
        [.text(payment.transactionId), .text(payment.payerVpa), .text(decision), reason.map { .text($0) } ?? .null])
}
