// upi-risk (business layer): scores every settled payment after the fact — its size against the payer's usual
// amounts, a payee the payer never paid, a burst of payments, the hour — and flags the suspicious ones for review.
// It never blocks a payment; during a surge the operator pauses it and it catches up afterwards.
import ArgumentParser
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import PaymentsDomain
import PaymentsRuntime

@main
struct RiskService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upi-risk", abstract: "Scores settled UPI payments and flags suspicious ones (never blocking).")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: paymentsSystem)
        let scorer = RiskScorer()
        let reference = PaymentsReference.standard
        var pipeline = Pipeline(service: "upi-risk", groupID: "upi-risk")
        pipeline.emits(PaymentSamples.scored)
        pipeline.ignoreOtherPaymentEvents(handled: [PaymentSettled.self])
        pipeline.on(PaymentSettled.self) { payment, context in
            let database = try paymentsDatabase(context)
            let terms = payment.terms
            let at = terms.initiatedAt.unixMilliseconds
            let known = try database.query(
                "SELECT 1 FROM risk_payments WHERE payer = ? AND payee = ? LIMIT 1",
                [.text(payment.payerVpa), .text(terms.payeeVpa)]
            ).isEmpty == false
            let recent = try database.query(
                "SELECT COUNT(*) FROM risk_payments WHERE payer = ? AND initiated_ms > ? AND initiated_ms < ?",
                [.text(payment.payerVpa), .integer(at - 600_000), .integer(at)]
            ).first?[0].int ?? 0
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "Asia/Kolkata") ?? .gmt
            let facts = RiskScorer.Facts(
                amountPaise: terms.amountPaise,
                payerAveragePaise: reference.customer(payment.payerVpa)?.averagePaymentPaise ?? terms.amountPaise,
                knownPayee: known, recentPayments: recent, hour: calendar.component(.hour, from: terms.initiatedAt))
            let scored = scorer.score(facts)
            _ = try database.execute(
                "INSERT INTO risk_payments (transaction_id, payer, payee, initiated_ms, score, flagged) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .text(payment.transactionId), .text(payment.payerVpa), .text(terms.payeeVpa), .integer(at),
                    .integer(Int64(scored.score)), .integer(scored.flagged ? 1 : 0),
                ])
            try await context.emit(
                PaymentRiskScored(
                    transactionId: payment.transactionId, payerVpa: payment.payerVpa, score: scored.score,
                    flagged: scored.flagged, signals: scored.signals, scoredAt: Date()))
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ServiceEffects.migrations + [
                "CREATE TABLE IF NOT EXISTS risk_payments (transaction_id TEXT PRIMARY KEY, payer TEXT NOT NULL, payee TEXT NOT NULL, initiated_ms BIGINT NOT NULL, score INTEGER NOT NULL, flagged INTEGER NOT NULL)",
                "CREATE INDEX IF NOT EXISTS risk_payer ON risk_payments (payer, initiated_ms)",
            ],
            configure: { demo.apply(to: &$0) }
        )
    }
}
