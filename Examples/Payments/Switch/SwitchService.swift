// upi-switch: asks the (fake) remitter bank to apply each reserved payment, with the UPI transaction id as the
// idempotency key, through the `bank` circuit breaker. Approved → authorized; declined or timed out at the bank →
// failed. A call whose outcome is unknown (the bank unreachable, its answer lost) is retried with the same key, so a
// repeat after a crash or a lost answer applies the transfer once; while the bank is down the breaker opens and
// consumption pauses instead of dead-lettering payments.
import ArgumentParser
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import PaymentsDomain
import PaymentsRuntime
import Synchronization

@main
struct SwitchService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upi-switch", abstract: "Moves reserved UPI payments at the bank, behind a circuit breaker.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    @Option(name: .customLong("bank-store"), help: "The fake bank's SQLite file (its own store, apart from the switch's).")
    var bankStore = ".dabba/upi-bank.sqlite"

    @Option(
        name: .customLong("bank-control"),
        help: "A JSON file of the fake bank's conditions (failureRate, down, latencyMilliseconds), read on every call.")
    var bankControl: String?

    @Option(
        name: .customLong("crash-after-bank-calls"),
        help: "Fault injection for tests: SIGKILL this process right after its Nth bank call, before the answer is published.")
    var crashAfterBankCalls: Int?

    func run() async throws {
        try demo.check(options, system: paymentsSystem)
        let bank = try await FakeBank(path: bankStore, controlPath: bankControl)
        let crash = CrashAfterCalls(limit: crashAfterBankCalls)
        var pipeline = Pipeline(service: "upi-switch", groupID: "upi-switch")
        pipeline.emits(PaymentSamples.authorized)
        pipeline.emits(PaymentSamples.failedBank)
        pipeline.ignoreOtherPaymentEvents(handled: [FundsReserved.self])
        // The bank is one dependency for every partition: when it is down, the whole consumer pauses.
        pipeline.breaker(
            "bank",
            CircuitBreakerConfiguration(
                consecutiveFailures: 5, failureRate: 0.6, window: 20, minimumCalls: 10, openDuration: .seconds(2),
                maxOpenDuration: .seconds(8), scope: .consumer))
        pipeline.on(FundsReserved.self) { reserved, context in
            let database = try paymentsDatabase(context)
            let terms = reserved.terms
            let receipt = try await context.breaker("bank").run {
                do {
                    return try await bank.transfer(
                        transactionId: reserved.transactionId, payer: reserved.payerVpa, payee: terms.payeeVpa,
                        amountPaise: terms.amountPaise)
                } catch let error as BankError where error.code != .control {
                    // The outcome is unknown: ask again with the same key (in place, then the retry tiers).
                    throw TransientError(error)
                }
            }
            crash.count()
            try ServiceEffects.record("answer:\(reserved.transactionId)", context: context, in: database)
            let now = Date()
            switch receipt.answer {
            case .approved:
                try await context.emit(
                    PaymentAuthorized(
                        transactionId: reserved.transactionId, payerVpa: reserved.payerVpa, terms: terms,
                        bankReference: receipt.reference, authorizedAt: now))
            case .declined, .timedOut:
                try await context.emit(
                    PaymentFailed(
                        transactionId: reserved.transactionId, payerVpa: reserved.payerVpa,
                        reason: receipt.answer == .declined ? .bankDeclined : .bankTimeout,
                        amountPaise: terms.amountPaise, failedAt: now))
            }
        }
        try await PipelineService.run(
            pipeline, options: options, migrations: ServiceEffects.migrations,
            configure: { configuration in
                demo.apply(to: &configuration)
                // An unknown outcome is retried in place with the same key many times before a retry topic: at a
                // 30 % failure rate no payment should reach the dead-letter topic, and when the bank is down the
                // breaker opens within five calls and holds the rest.
                configuration.retry = RetryConfiguration(
                    inPlaceAttempts: 10, initialBackoff: .milliseconds(50), maxBackoff: .seconds(1))
            }
        )
    }
}

/// The `--crash-after-bank-calls` fault: kills the process between a bank call and the commit of its answer.
final class CrashAfterCalls: Sendable {
    private let limit: Int?
    private let calls = Mutex(0)

    init(limit: Int?) { self.limit = limit }

    func count() {
        guard let limit else { return }
        let reached = calls.withLock { calls in
            calls += 1
            return calls >= limit
        }
        if reached {
            FileHandle.standardError.write(Data("crash-after-bank-calls: killing myself after call \(limit)\n".utf8))
            kill(getpid(), SIGKILL)
        }
    }
}
