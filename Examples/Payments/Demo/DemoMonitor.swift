import DabbaKafka
import DemoKit
import Foundation
import PaymentsDomain
import PaymentsRuntime
import Synchronization

/// The demo's progress: a line a second with payments per stage, the essential groups' lag and the bank breaker's
/// state; it keeps the peak lag and how long the breaker was open.
final class DemoMonitor: Sendable {
    struct Statistics: Sendable {
        var peakLag: Int64 = 0
        var breakerOpenSeconds: Double = 0
        var breakerOpenings = 0
        var breaker = "closed"
        var lag: Int64 = 0
    }

    private let observer: PaymentObserver
    private let admin: KafkaAdmin
    private let switchLog: String
    private let transactionIDs: [String]
    private let state = Mutex(Statistics())
    private let stopped = Atomic<Bool>(false)

    init(observer: PaymentObserver, admin: KafkaAdmin, switchLog: String, transactionIDs: [String]) {
        self.observer = observer
        self.admin = admin
        self.switchLog = switchLog
        self.transactionIDs = transactionIDs
    }

    var statistics: Statistics { state.withLock { $0 } }

    func stop() { stopped.store(true, ordering: .relaxed) }

    /// Prints progress every second until ``stop()``.
    func run(started: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        var last = clock.now
        while !stopped.load(ordering: .relaxed) {
            try? await Task.sleep(for: .seconds(1))
            let now = clock.now
            let lag = await essentialLag()
            let breaker = breakerState()
            let statistics = state.withLock { statistics in
                statistics.lag = lag
                statistics.peakLag = max(statistics.peakLag, lag)
                if breaker != "closed" { statistics.breakerOpenSeconds += DemoConsole.seconds(now - last) }
                if breaker == "open", statistics.breaker == "closed" { statistics.breakerOpenings += 1 }
                statistics.breaker = breaker
                return statistics
            }
            last = now
            let run = observer.snapshot(of: transactionIDs)
            let order = ["not_sent_yet"] + PaymentStage.allCases.map(\.rawValue)
            DemoConsole.progress(
                elapsed: now - started, parts: order.map { ($0, run.byStage[$0] ?? 0) },
                suffix: "| lag \(statistics.lag) | bank breaker \(statistics.breaker)")
        }
    }

    /// Records not yet handled by the gateway, the ledger and the switch (committed offsets against the log end).
    private func essentialLag() async -> Int64 {
        var total: Int64 = 0
        for group in ["upi-gateway", "upi-ledger", "upi-switch"] {
            guard let lags = try? await admin.groupLag(group: group, topics: [paymentsTopic], timeout: .seconds(2))
            else { continue }
            total += lags.reduce(0) { $0 + $1.lag }
        }
        return total
    }

    /// The bank breaker's state, from the switch's last breaker line.
    private func breakerState() -> String {
        guard let log = try? String(contentsOfFile: switchLog, encoding: .utf8) else { return "closed" }
        guard let line = log.split(separator: "\n").last(where: { $0.contains("circuit breaker bank") }) else {
            return "closed"
        }
        if line.contains("opened") { return "open" }
        if line.contains("half-open") { return "half-open" }
        return "closed"
    }

    /// Waits until every payment of `transactions` is in a terminal state.
    /// - Returns: Whether they all finished in time.
    func waitUntilFinished(_ transactions: [String], timeout: Duration) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if observer.snapshot(of: transactions).unfinished.isEmpty { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// Waits until at least `count` payments of `transactions` are in a terminal state.
    /// - Returns: Whether they did in time.
    func waitUntilFinished(count: Int, of transactions: [String], timeout: Duration) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if transactions.count - observer.snapshot(of: transactions).unfinished.count >= count { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    /// Waits until every refund request got its answer (issued or declined).
    func waitUntilRefundsAnswered(_ transactions: [String], timeout: Duration) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if observer.snapshot(of: transactions).refundAnswers.count == transactions.count { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }
}
