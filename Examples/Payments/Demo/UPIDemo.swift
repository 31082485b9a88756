// upi-demo (`make demo DEMO=payments`): the UPI platform end to end on one machine. Starts the embedded broker with
// the catalog's topics, launches the five services as separate processes, and runs a base load, a surge of 50× the
// base rate (the operator pauses risk and analytics for it, then resumes them), and a bank outage (30 % failures,
// then down, then back); with --chaos it SIGKILLs the ledger and the switch mid-run and restarts them. Then refunds
// of some settled payments. With --rate 0 it sends --payments requests as fast as the broker acknowledges them
// instead, with the bank healthy and every service running, to measure the whole system's throughput. It prints
// progress and a summary and ends with one machine-readable line:
//   dabba-demo system=payments payments=… settled=… rejected=… failed=… stuck=… money_delta=… negative_balances=…
//   open_holds=… bank_mismatch=… duplicate_effects=… p99_realtime_ms=… p99_end_to_end_ms=… payments_per_s=…
// It exits 1 when an invariant fails (see Examples/README.md, "How it holds together").
import ArgumentParser
import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import PaymentsDomain
import PaymentsRuntime
import Synchronization

@main
struct UPIDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "upi-demo",
        abstract: "Runs the UPI payment services through a surge, a bank outage and crashes, and checks the money."
    )

    @Option(
        help: ArgumentHelp(
            "Payments per second at the base load.",
            discussion:
                "0 sends the whole load (--payments) as fast as the broker acknowledges it, in one phase with the bank healthy and every service running (the surge and the bank outage are timed, so they are left out), to measure the system's throughput."
        ))
    var rate: Double = 20

    @Option(help: "Payments to send at --rate 0 (default \(Self.flatOutPayments); at a positive rate the phases' rates and seconds size the load).")
    var payments: Int?

    @Option(name: .customLong("base-seconds"), help: "Seconds of base load before the surge.")
    var baseSeconds: Double = 15

    @Option(name: .customLong("surge-multiplier"), help: "The surge's rate as a multiple of the base rate.")
    var surgeMultiplier: Double = 50

    @Option(name: .customLong("surge-seconds"), help: "Seconds of surge.")
    var surgeSeconds: Double = 4

    @Option(name: .customLong("degraded-seconds"), help: "Seconds the bank fails 30 % of calls (then it is down).")
    var degradedSeconds: Double = 10

    @Option(name: .customLong("down-seconds"), help: "Seconds the bank is down.")
    var downSeconds: Double = 20

    @Option(name: .customLong("recovery-seconds"), help: "Seconds of base load after the bank is back.")
    var recoverySeconds: Double = 10

    @Option(help: "The random seed of the payments.")
    var seed: UInt64 = 42

    @Option(help: "Seconds to wait for every payment to finish before counting the rest as stuck.")
    var timeout: Int = 300

    @OptionGroup var workspace: DemoRunOptions

    @Flag(
        help: "SIGKILL the ledger (during the base load) and the switch (during the outage), then restart them (at --rate 0: once a third and two thirds of the payments finished).")
    var chaos = false

    /// The load at `--rate 0` without `--payments`.
    static let flatOutPayments = 2000

    func validate() throws {
        if rate < 0 { throw ValidationError("--rate must not be negative (0: as fast as acknowledged), not \(rate)") }
        if surgeMultiplier <= 0 { throw ValidationError("--surge-multiplier must be positive, not \(surgeMultiplier)") }
        if let payments {
            if rate > 0 { throw ValidationError("--payments sizes the load at --rate 0; at \(rate)/s the phases' seconds do") }
            if payments < 1 { throw ValidationError("--payments must be at least 1, not \(payments)") }
        }
        for (name, value) in [
            ("--base-seconds", baseSeconds), ("--surge-seconds", surgeSeconds), ("--degraded-seconds", degradedSeconds),
            ("--down-seconds", downSeconds), ("--recovery-seconds", recoverySeconds),
        ] where value < 0 {
            throw ValidationError("\(name) must not be negative, not \(value)")
        }
    }

    func run() async throws {
        var logger = Logger(label: "upi-demo")
        logger.logLevel = .critical
        let directory = try workspace.makeWorkDirectory(for: "upi-demo")
        let cluster = try await DemoCluster.start(
            workspace, prefix: "upi.", mainTopic: (paymentsTopic, "upi.asyncapi.yaml"), logger: logger)
        let (broker, loaded, catalog) = (cluster.broker, cluster.catalog, workspace.catalog)
        let deadLetterTopics = cluster.deadLetterTopics
        let controlTopic = "dabba.control"
        try await broker.createTopic(controlTopic, partitions: 1, replicationFactor: 1)

        let bankStore = "\(directory)/bank.sqlite"
        let bankControl = "\(directory)/bank-control.json"
        try BankConditions.healthy.write(to: bankControl)

        DemoConsole.step("Launching the five services as separate processes")
        let services = try DemoServices(names: paymentServiceNames, logDirectory: directory) { name in
            var arguments = demoServiceArguments(
                bootstrap: broker.bootstrapServers, catalog: catalog, store: "\(directory)/\(name).sqlite",
                instanceID: chaos ? "demo" : nil, fetchWait: upiFetchWait)
            if name == "upi-switch" { arguments += ["--bank-store", bankStore, "--bank-control", bankControl] }
            return arguments
        }
        services.announce()
        let interrupt = services.forwardInterrupts()
        defer { interrupt.cancel() }

        let observer = try PaymentObserver(
            bootstrap: broker.bootstrapServers, deadLetterTopics: deadLetterTopics, logger: logger)
        let observing = Task { try await observer.run() }
        try await services.waitUntilJoinedAnnounced(waiting: "payments")

        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: logger)
        let sender = PaymentSender(
            events: EventProducer(producer: producer, source: "/upi-loadgen", routes: EventRoutes(catalog: loaded)))
        let admin = try KafkaAdmin(configuration: ClientConfiguration(bootstrap: broker.bootstrapServers), logger: logger)
        let plan = PhasePlan(
            rate: rate, baseSeconds: baseSeconds, surgeRate: rate * surgeMultiplier, surgeSeconds: surgeSeconds,
            degradedSeconds: degradedSeconds, downSeconds: downSeconds, recoverySeconds: recoverySeconds)
        let flatOut = rate == 0
        let requests = PaymentLoad(payments: flatOut ? payments ?? Self.flatOutPayments : plan.total, seed: seed).requests()
        let transactionIDs = PaymentLoad.distinct(requests)

        let clock = ContinuousClock()
        let started = clock.now
        let monitor = DemoMonitor(
            observer: observer, admin: admin, switchLog: services["upi-switch"]?.logPath ?? "",
            transactionIDs: transactionIDs)
        let watching = Task { await monitor.run(started: started) }
        let operatorLog = "\(directory)/operator.log"
        func operatorCommand(_ arguments: [String]) async throws {
            let result = try await DabbaCommand.run(
                arguments + ["-b", broker.bootstrapServers, "--control-topic", controlTopic], outputPath: operatorLog)
            DemoConsole.note("$ dabba \(arguments.joined(separator: " "))  → \(result.output.split(separator: "\n").last ?? "")")
            if result.status != 0 { throw ValidationError("dabba \(arguments.joined(separator: " ")) failed: \(result.output)") }
        }
        var kills = 0
        var offset = 0
        func send(_ count: Int, rate: Double) async throws {
            let slice = requests[offset..<min(requests.count, offset + count)]
            offset += slice.count
            try await sender.send(slice, rate: rate)
        }

        var baseTransactions = transactionIDs
        var drainSeconds = 0.0
        if flatOut {
            DemoConsole.step(
                "Flat out: \(requests.count) payment requests (\(transactionIDs.count) transactions, seed \(seed)) as fast as the broker acknowledges them; the bank healthy, all five services running (the surge and the bank outage are timed phases, left out at --rate 0)\(chaos ? "; the ledger is SIGKILLed once a third of the payments finished, the switch at two thirds" : "")"
            )
            // Kills by progress, not by time: at full speed a timed kill could come after the load has drained.
            let killing =
                chaos
                ? Task { () throws -> Int in
                    var killed = 0
                    for (name, share) in [("upi-ledger", 1), ("upi-switch", 2)] {
                        let due = transactionIDs.count * share / 3
                        guard try await monitor.waitUntilFinished(count: due, of: transactionIDs, timeout: .seconds(timeout))
                        else { break }
                        killed += try await killAndRestart(services[name], after: 0) ? 1 : 0
                    }
                    return killed
                } : nil
            let sending = clock.now
            try await send(requests.count, rate: 0)
            let sendSeconds = DemoConsole.seconds(clock.now - sending)
            DemoConsole.note(
                "sent and acknowledged in \(String(format: "%.1f", sendSeconds)) s (\(Int(Double(requests.count) / max(sendSeconds, 0.001))) requests/s)")
            if let killing { kills += try await killing.value }
        } else {
            DemoConsole.step("Base load: \(Int(rate)) payments/s for \(Int(baseSeconds)) s (seed \(seed))")
            let baseCount = plan.baseCount
            let killLedger = chaos ? Task { try await killAndRestart(services["upi-ledger"], after: baseSeconds / 2) } : nil
            try await send(baseCount, rate: rate)
            if let killLedger { kills += try await killLedger.value ? 1 : 0 }
            baseTransactions = Array(Set(requests[0..<min(baseCount, requests.count)].map(\.transactionId)))

            DemoConsole.step(
                "Surge: \(Int(plan.surgeRate)) payments/s (\(Int(surgeMultiplier))× the base) for \(Int(surgeSeconds)) s; non-essential groups paused"
            )
            for group in ["upi-risk", "upi-analytics"] {
                try await operatorCommand(["group", "pause", group, "--reason", "surge: essential payments first"])
            }
            let surgeStart = clock.now
            try await send(plan.surgeCount, rate: plan.surgeRate)
            let surgeSent = clock.now
            let sentSoFar = Array(Set(requests[0..<offset].map(\.transactionId)))
            let drained = try await monitor.waitUntilFinished(sentSoFar, timeout: .seconds(timeout))
            drainSeconds = DemoConsole.seconds(clock.now - surgeSent)
            DemoConsole.note(
                drained
                    ? "the surge drained \(String(format: "%.1f", drainSeconds)) s after its last payment was sent (\(String(format: "%.1f", DemoConsole.seconds(surgeSent - surgeStart)))s sending)"
                    : "the surge had not drained after \(timeout) s")
            for group in ["upi-risk", "upi-analytics"] {
                try await operatorCommand(["group", "resume", group])
            }

            DemoConsole.step(
                "Bank outage: 30 % of calls fail for \(Int(degradedSeconds)) s, then the bank is down for \(Int(downSeconds)) s, then back (base load throughout)"
            )
            var degraded = BankConditions.healthy
            degraded.failureRate = 0.3
            try degraded.write(to: bankControl)
            try await send(plan.degradedCount, rate: rate)
            var down = BankConditions.healthy
            down.down = true
            try down.write(to: bankControl)
            let killSwitch = chaos ? Task { try await killAndRestart(services["upi-switch"], after: downSeconds / 2) } : nil
            try await send(plan.downCount, rate: rate)
            if let killSwitch { kills += try await killSwitch.value ? 1 : 0 }
            try BankConditions.healthy.write(to: bankControl)
            DemoConsole.note("the bank is back")
            // The rest of the load (client retries make it a little longer than the phases' counts).
            try await send(requests.count - offset, rate: rate)
        }

        DemoConsole.step("Waiting for every payment to finish")
        let finished = try await monitor.waitUntilFinished(transactionIDs, timeout: .seconds(timeout))
        if !finished { DemoConsole.note("not every payment finished within \(timeout) s") }

        // Refunds of one settled payment in fifty.
        let settledNow = observer.snapshot(of: transactionIDs).stages.filter { $0.value == .settled }.keys.sorted()
        let payers = Dictionary(requests.map { ($0.transactionId, $0.payerVpa) }, uniquingKeysWith: { first, _ in first })
        let refunds = stride(from: 0, to: settledNow.count, by: 50).map { settledNow[$0] }
        DemoConsole.step("Refunds: \(refunds.count) settled payments asked back")
        try await sender.requestRefunds(refunds.map { ($0, payers[$0] ?? "") })
        let answered = try await monitor.waitUntilRefundsAnswered(refunds, timeout: .seconds(60))
        if !answered { DemoConsole.note("not every refund was answered within 60 s") }
        let elapsed = clock.now - started

        // Every service's store has caught up with the log: risk scored every settled payment and analytics agrees.
        let ledgerStore = try StoreReader(path: "\(directory)/upi-ledger.sqlite")
        let analyticsStore = try StoreReader(path: "\(directory)/upi-analytics.sqlite")
        let riskStore = try StoreReader(path: "\(directory)/upi-risk.sqlite")
        let settling = clock.now
        let settled = try await settle(
            ledger: ledgerStore, analytics: analyticsStore, risk: riskStore, observer: observer, transactions: transactionIDs)
        DemoConsole.note(
            settled
                ? "every service's store caught up with the log (\(String(format: "%.1f", DemoConsole.seconds(clock.now - settling))) s)"
                : "the services' stores had not caught up with the log after 60 s")
        monitor.stop()
        await watching.value

        DemoConsole.step("Stopping the services (SIGTERM) and the broker")
        let exitCodes = await services.stopAll()
        await observer.stop()
        observing.cancel()
        try? await producer.flush()
        broker.stop()
        DemoConsole.note(paymentServiceNames.map { "\($0) exited \(exitCodes[$0] ?? -1)" }.joined(separator: ", "))

        // The checks, from the stores and the log.
        let run = observer.snapshot(of: transactionIDs)
        let baseRun = observer.snapshot(of: baseTransactions)
        let audit = try await ledgerStore.read { try LedgerBook.audit($0) }
        let analytics = try await analyticsStore.read { try AnalyticsReport.totals($0) }
        let bank = try await FakeBank(path: bankStore, controlPath: nil).audit()
        let (duplicates, storeDuplicates) = try await ServiceEffects.duplicates(of: paymentServiceNames, in: directory)
        let moneyDelta = audit.totalPaise - PaymentsReference.standard.seededTotalPaise
        let bankOnly = Set(bank.approved.keys).symmetricDifference(Set(audit.settled.keys)).count
        let amountMismatches = bank.approved.filter { entry in audit.settled[entry.key].map { $0 != entry.value } ?? false }.count
        let bankMismatch = bankOnly + amountMismatches + bank.repeatedApplications
        let gatewayDisagreements = observer.gatewayDisagreements()
        let logSettled = run.stages.filter { $0.value == .settled || $0.value == .refunded }.count
        let stats = monitor.statistics

        DemoConsole.step("Summary")
        let say = DemoConsole.say
        let stuck = run.unfinished.count
        say(
            "payments                 \(transactionIDs.count) (+ \(run.repeatedSubmissions) client retries of a transaction id, each ignored by the gateway)"
        )
        say("  settled                \(run.count("settled")) (\(run.refunded) refunded since)")
        say("  rejected               \(run.count("rejected"))  \(Self.reasons(run.rejections))")
        say("  failed                 \(run.count("failed"))  \(Self.reasons(run.failures))")
        say("  stuck                  \(stuck)\(stuck > 0 ? "  e.g. " + run.unfinished.prefix(5).joined(separator: ", ") : "")")
        say(
            "latency real-time        p50 \(Int(run.realtimeP50Milliseconds)) ms, p99 \(Int(run.realtimeP99Milliseconds)) ms over the run; p99 \(Int(baseRun.realtimeP99Milliseconds)) ms at the base load (\(flatOut ? "flat out: the whole run" : "\(Int(rate))/s"))"
        )
        say("latency end to end       p50 \(Int(run.endToEndP50Milliseconds)) ms, p99 \(Int(run.endToEndP99Milliseconds)) ms (initiated → settled)")
        // End to end: payments that reached a final state, over the log's span from the first initiation to the last
        // final state (or risk's score of a settled one), so the figure holds at any rate and without the demo's waits.
        let finishedPayments = transactionIDs.count - stuck
        let paymentsPerSecond = run.loadSpanSeconds > 0 ? Int(Double(finishedPayments) / run.loadSpanSeconds) : 0
        say(
            "payments end to end      \(paymentsPerSecond) payments/s through all five services (\(finishedPayments) payments in \(String(format: "%.1f", run.loadSpanSeconds)) s, first initiation to last final state or risk score)"
        )
        if flatOut {
            say("surge                    none at --rate 0 (the whole load is one burst); peak lag \(stats.peakLag) records (gateway, ledger, switch)")
        } else {
            say("surge                    peak lag \(stats.peakLag) records (gateway, ledger, switch), drained \(String(format: "%.1f", drainSeconds)) s after it ended")
        }
        say("bank breaker             open for \(String(format: "%.1f", stats.breakerOpenSeconds)) s in all (\(stats.breakerOpenings) openings)")
        say("risk                     \(run.scored) settled payments scored, \(run.flagged) flagged for review")
        say("refunds                  \(refunds.count) asked, \(run.refundAnswers.values.filter { $0 == "issued" }.count) issued")
        say(
            "money                    seeded \(Rupees(PaymentsReference.standard.seededTotalPaise)), now \(Rupees(audit.totalPaise)); debits \(Rupees(audit.debitsPaise)) = credits \(Rupees(audit.creditsPaise)); unbalanced entries \(audit.unbalancedEntries)"
        )
        say("bank                     \(bank.approved.count) transfers applied, \(bankMismatch) differing from the ledger's settled set")
        say("analytics                \(analytics.line)")
        say("gateway replayed         \(gatewayDisagreements.count) decisions differ from the rules replayed over the log (velocity included)")
        say("dead letters             \(run.deadLetters.count)")
        say("duplicate effects        \(duplicates) (\(storeDuplicates.joined(separator: ", ")))")
        say("redelivered records      \(run.duplicateDeliveries) (same event id seen again; skipped by the inboxes)")
        if chaos { say("chaos                    kills \(kills) (SIGKILL, then a restart)") }
        say("elapsed                  \(String(format: "%.1f", DemoConsole.seconds(elapsed))) s")

        var verdict = DemoVerdict(prefix: "dabba-demo")
        verdict.add("system", "payments")
        verdict.add("payments", transactionIDs.count)
        verdict.add("settled", run.count("settled"))
        verdict.add("rejected", run.count("rejected"))
        verdict.add("failed", run.count("failed"))
        verdict.require("stuck", stuck, equals: 0)
        verdict.require("money_delta", moneyDelta, equals: 0)
        verdict.require("negative_balances", audit.negativeBalances, equals: 0)
        verdict.require("open_holds", audit.openHolds, equals: 0)
        verdict.require("bank_mismatch", bankMismatch, equals: 0)
        verdict.require("duplicate_effects", duplicates, equals: 0)
        verdict.add("p99_realtime_ms", Int(baseRun.realtimeP99Milliseconds))
        verdict.add("p99_end_to_end_ms", Int(run.endToEndP99Milliseconds))
        verdict.add("payments_per_s", paymentsPerSecond)
        verdict.require(audit.debitsPaise == audit.creditsPaise, "total debits differ from total credits")
        verdict.require(audit.unbalancedEntries == 0, "\(audit.unbalancedEntries) journal entries are not one debit plus one equal credit")
        verdict.require(audit.settled.count == logSettled, "the ledger settled \(audit.settled.count), the log \(logSettled)")
        verdict.require(gatewayDisagreements.isEmpty, "gateway decisions differ from the replayed rules: \(gatewayDisagreements.prefix(5))")
        verdict.require(
            analytics.settled == audit.settled.count
                && analytics.settledPaise == audit.settled.values.reduce(0, +)
                && analytics.refundedPaise == audit.refunded.values.reduce(0, +),
            "analytics (\(analytics.line)) differs from the ledger (settled \(audit.settled.count))")
        verdict.require(run.deadLetters.isEmpty, "\(run.deadLetters.count) records were dead-lettered")
        verdict.require(answered, "not every refund request was answered")
        verdict.require(run.undecodable == 0, "\(run.undecodable) records on \(paymentsTopic) did not decode")
        verdict.require(!transactionIDs.isEmpty, "no payment was sent")
        for violation in verdict.violations { say("FAILED: \(violation)") }
        let kept = workspace.keep || !verdict.passed
        say("stores and logs          \(directory)\(kept ? "" : " (removed; --keep keeps them)")")
        say(verdict.line)
        if !kept { try? FileManager.default.removeItem(atPath: directory) }
        if !verdict.passed { throw ExitCode(verdict.exitStatus) }
    }

    /// `reason count, …`.
    private static func reasons(_ counts: [String: Int]) -> String {
        counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
    }

    /// SIGKILLs a service after a delay, restarts it a second later.
    /// - Returns: Whether it was killed.
    private func killAndRestart(_ service: ServiceProcess?, after seconds: Double) async throws -> Bool {
        guard let service else { return false }
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
        DemoConsole.note("chaos: SIGKILL \(service.name) (pid \(service.pid))")
        service.send(SIGKILL)
        _ = await service.waitForExit(timeout: .seconds(10))
        try await Task.sleep(for: .seconds(1))
        try service.restart()
        DemoConsole.note("chaos: restarted \(service.name) (pid \(service.pid))")
        return true
    }

    /// Waits until risk scored every settled payment and analytics agrees with the ledger (or 60 s passed).
    private func settle(
        ledger: StoreReader, analytics: StoreReader, risk: StoreReader, observer: PaymentObserver, transactions: [String]
    ) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(60))
        while clock.now < deadline {
            let run = observer.snapshot(of: transactions)
            let settledInLog = run.stages.values.filter { $0 == .settled || $0 == .refunded }.count
            let audit = try await ledger.read { try LedgerBook.audit($0) }
            let totals = try await analytics.read { try AnalyticsReport.totals($0) }
            let scored = try await risk.integer("SELECT COUNT(*) FROM risk_payments")
            let refundsAnswered = run.refundAnswers.count
            let analyticsRefunds =
                try await analytics.integer("SELECT COUNT(*) FROM analytics_payments WHERE refunded_paise > 0")
                + analytics.integer("SELECT COUNT(*) FROM analytics_refunds_declined")
            if audit.settled.count == settledInLog, totals.settled == settledInLog, scored == settledInLog,
                totals.payments == transactions.count, analyticsRefunds == refundsAnswered
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        return false
    }
}

/// How many payments each phase sends.
struct PhasePlan {
    let rate: Double
    let baseSeconds: Double
    let surgeRate: Double
    let surgeSeconds: Double
    let degradedSeconds: Double
    let downSeconds: Double
    let recoverySeconds: Double

    var baseCount: Int { Int(rate * baseSeconds) }
    var surgeCount: Int { Int(surgeRate * surgeSeconds) }
    var degradedCount: Int { Int(rate * degradedSeconds) }
    var downCount: Int { Int(rate * downSeconds) }
    var recoveryCount: Int { Int(rate * recoverySeconds) }
    var total: Int { baseCount + surgeCount + degradedCount + downCount + recoveryCount }
}
