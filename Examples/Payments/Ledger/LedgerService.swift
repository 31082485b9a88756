// upi-ledger: the accounts, holds and double-entry journal. A validated payment reserves its amount (a hold) when
// the payer's available balance covers it, or fails; the bank's authorization settles it (one debit of the payer
// and one equal credit of the payee, with the hold closed, in the event's one database transaction); the bank's
// refusal releases the hold; a refund moves a settled amount back. Balances never go below zero.
import ArgumentParser
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import PaymentsDomain
import PaymentsRuntime

@main
struct LedgerService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upi-ledger", abstract: "Accounts, holds and the double-entry journal of UPI payments.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: paymentsSystem)
        var pipeline = Pipeline(service: "upi-ledger", groupID: "upi-ledger")
        pipeline.emits(PaymentSamples.reserved)
        pipeline.emits(PaymentSamples.failedBalance)
        pipeline.emits(PaymentSamples.settled)
        pipeline.emits(PaymentSamples.refundIssued)
        pipeline.emits(PaymentSamples.refundDeclined)
        pipeline.ignoreOtherPaymentEvents(handled: [
            PaymentValidated.self, PaymentAuthorized.self, PaymentFailed.self, RefundRequested.self,
        ])
        pipeline.on(PaymentValidated.self, reserve)
        pipeline.on(PaymentAuthorized.self, settle)
        pipeline.on(PaymentFailed.self, release)
        pipeline.on(RefundRequested.self, refund)
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ServiceEffects.migrations + LedgerBook.migrations(reference: .standard),
            configure: { configuration in
                demo.apply(to: &configuration)
                // A payer's available balance includes credits from other payers' settlements, committed by
                // other partitions' batches: a batch handled again after a crash may decide differently (reserved
                // the first time, insufficient the second), so what it emitted must commit with its state, or not
                // at all (Docs/pipelines.md, "Transactional outbox").
                configuration.outbox.enabled = true
            }
        )
    }
}

/// Holds the amount on the payer's account, or fails the payment when the available balance does not cover it.
@Sendable func reserve(_ payment: PaymentValidated, _ context: EventContext) async throws {
    let database = try paymentsDatabase(context)
    let terms = payment.terms
    let available = try LedgerBook.available(payment.payerVpa, in: database)
    guard available >= terms.amountPaise else {
        try LedgerBook.setState(
            "failed", transactionId: payment.transactionId, payer: payment.payerVpa, payee: terms.payeeVpa,
            amountPaise: terms.amountPaise, in: database)
        try await context.emit(
            PaymentFailed(
                transactionId: payment.transactionId, payerVpa: payment.payerVpa, reason: .insufficientBalance,
                amountPaise: terms.amountPaise, failedAt: Date()))
        return
    }
    try LedgerBook.hold(payment.transactionId, account: payment.payerVpa, amountPaise: terms.amountPaise, in: database)
    try LedgerBook.setState(
        "reserved", transactionId: payment.transactionId, payer: payment.payerVpa, payee: terms.payeeVpa,
        amountPaise: terms.amountPaise, in: database)
    try ServiceEffects.record("hold:\(payment.transactionId)", context: context, in: database)
    try await context.emit(
        FundsReserved(transactionId: payment.transactionId, payerVpa: payment.payerVpa, terms: terms, reservedAt: Date()))
}

/// Settles an authorized payment: debit the payer, credit the payee, close the hold — one transaction.
@Sendable func settle(_ payment: PaymentAuthorized, _ context: EventContext) async throws {
    let database = try paymentsDatabase(context)
    let terms = payment.terms
    guard try LedgerBook.closeHold(payment.transactionId, as: "settled", in: database) else {
        // The bank applied a transfer the ledger holds no money for: an operator must look (never settle blind).
        throw PermanentError(
            HandlerFailure("authorization of \(payment.transactionId) without an open hold: not settled"))
    }
    try LedgerBook.move(
        terms.amountPaise, from: payment.payerVpa, to: terms.payeeVpa, transactionId: payment.transactionId,
        entry: "settle", in: database)
    try LedgerBook.setState(
        "settled", transactionId: payment.transactionId, payer: payment.payerVpa, payee: terms.payeeVpa,
        amountPaise: terms.amountPaise, in: database)
    try ServiceEffects.record("settle:\(payment.transactionId)", context: context, in: database)
    try await context.emit(
        PaymentSettled(transactionId: payment.transactionId, payerVpa: payment.payerVpa, terms: terms, settledAt: Date()))
}

/// Releases the hold of a payment the bank refused (the ledger's own insufficient-balance failures hold nothing).
@Sendable func release(_ failure: PaymentFailed, _ context: EventContext) async throws {
    guard failure.reason != .insufficientBalance else { return }
    let database = try paymentsDatabase(context)
    guard let known = try LedgerBook.state(of: failure.transactionId, in: database) else {
        throw PermanentError(HandlerFailure("bank failure of \(failure.transactionId), unknown to the ledger"))
    }
    if try LedgerBook.closeHold(failure.transactionId, as: "released", in: database) {
        try ServiceEffects.record("release:\(failure.transactionId)", context: context, in: database)
    }
    try LedgerBook.setState(
        "failed", transactionId: failure.transactionId, payer: known.payer, payee: known.payee,
        amountPaise: known.amountPaise, in: database)
}

/// Moves a settled payment's amount back from the payee to the payer, once, if the payee's balance covers it.
@Sendable func refund(_ request: RefundRequested, _ context: EventContext) async throws {
    let database = try paymentsDatabase(context)
    let now = Date()
    func decline(_ reason: RefundDeclineReason) async throws {
        try await context.emit(
            RefundDeclined(transactionId: request.transactionId, payerVpa: request.payerVpa, reason: reason, declinedAt: now))
    }
    guard let payment = try LedgerBook.state(of: request.transactionId, in: database),
        payment.state == "settled" || payment.state == "refunded", payment.payer == request.payerVpa
    else { return try await decline(.notSettled) }
    guard payment.state == "settled" else { return try await decline(.alreadyRefunded) }
    guard try LedgerBook.available(payment.payee, in: database) >= payment.amountPaise else {
        return try await decline(.payeeInsufficientBalance)
    }
    try LedgerBook.move(
        payment.amountPaise, from: payment.payee, to: payment.payer, transactionId: request.transactionId,
        entry: "refund", in: database)
    try LedgerBook.setState(
        "refunded", transactionId: request.transactionId, payer: payment.payer, payee: payment.payee,
        amountPaise: payment.amountPaise, in: database)
    try ServiceEffects.record("refund:\(request.transactionId)", context: context, in: database)
    try await context.emit(
        RefundIssued(
            transactionId: request.transactionId, payerVpa: payment.payer, payeeVpa: payment.payee,
            amountPaise: payment.amountPaise, issuedAt: now))
}
