import DemoKit
import Foundation
import Synchronization
import TatkalDomain
import TatkalRuntime

/// The demo's progress: a line a second with requests per state (`requested`: the gate's backlog) and seats left
/// per inventory, and the burst's figures: how fast the gate decided, when it had decided everything.
final class TatkalMonitor: Sendable {
    struct Statistics: Sendable {
        var firstDecision: ContinuousClock.Instant?
        var allDecided: ContinuousClock.Instant?
        var decided = 0
        /// The most requests waiting for the gate at once.
        var peakBacklog = 0

        /// Requests the gate decided per second, from its first decision to its last.
        var admissionRate: Double {
            guard let first = firstDecision, let last = allDecided, last > first else { return 0 }
            return Double(decided) / DemoConsole.seconds(last - first)
        }

        /// Seconds from `sent` until the gate had decided every request.
        func drainSeconds(after sent: ContinuousClock.Instant) -> Double {
            guard let last = allDecided else { return -1 }
            return max(0, DemoConsole.seconds(last - sent))
        }
    }

    private let observer: TatkalObserver
    private let ids: Mutex<[String]>
    private let burstIDs: [String]
    private let reference: TatkalReference
    private let state = Mutex(Statistics())
    private let stopped = Atomic<Bool>(false)

    /// - Parameter burstIDs: The burst's requests, whose decisions measure the gate's rate.
    init(observer: TatkalObserver, requestIDs: [String], burstIDs: [String], reference: TatkalReference) {
        self.observer = observer
        ids = Mutex(requestIDs)
        self.burstIDs = burstIDs
        self.reference = reference
    }

    var statistics: Statistics { state.withLock { $0 } }

    /// The requests followed.
    var requestIDs: [String] { ids.withLock { $0 } }

    /// Follows more requests (retries sent later).
    func add(_ more: [String]) { ids.withLock { $0 += more } }

    func stop() { stopped.store(true, ordering: .relaxed) }

    func run(started: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        while !stopped.load(ordering: .relaxed) {
            // A snapshot of 50,000 requests costs tens of milliseconds of the demo's share of two busy cores.
            try? await Task.sleep(for: .seconds(1))
            let run = observer.snapshot(of: requestIDs)
            let undecided = burstIDs.filter { id in
                let state = run.states[id]
                return state == nil || state == "requested" || state == "not_sent_yet"
            }.count
            let decided = burstIDs.count - undecided
            let now = clock.now
            state.withLock { statistics in
                if decided > 0, statistics.firstDecision == nil { statistics.firstDecision = now }
                if undecided == 0, statistics.allDecided == nil { statistics.allDecided = now }
                statistics.decided = decided
                statistics.peakBacklog = max(statistics.peakBacklog, run.byState["requested"] ?? 0)
            }
            let order = ["not_sent_yet", "requested", "admitted", "held", "waitlisted", "confirmed", "expired",
                "payment_failed", "rejected", "not_confirmed"]
            let seats = reference.inventories.map { "\($0.travelClass.code) \(run.freeSeats[$0.key] ?? 0)" }
            DemoConsole.progress(
                elapsed: now - started, parts: order.map { ($0, run.byState[$0] ?? 0) },
                suffix: "| seats free \(seats.joined(separator: " "))")
        }
    }

    /// Waits until `condition` holds for the requests' snapshot.
    func waitUntil(timeout: Duration, _ condition: (TatkalRun) -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if condition(observer.snapshot(of: requestIDs)) { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return false
    }
}
