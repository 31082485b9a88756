import DemoKit
import Foundation
import RidesRuntime
import Synchronization

/// The demo's progress: a line a second with rides per state and the surge results so far.
final class RidesMonitor: Sendable {
    private let observer: RidesObserver
    private let ids = Mutex<[String]>([])
    private let stopped = Atomic<Bool>(false)

    init(observer: RidesObserver) { self.observer = observer }

    /// Follows more rides.
    func add(_ more: [String]) { ids.withLock { $0 += more } }

    func stop() { stopped.store(true, ordering: .relaxed) }

    func run(started: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        while !stopped.load(ordering: .relaxed) {
            try? await Task.sleep(for: .seconds(1))
            let run = observer.snapshot(of: ids.withLock { $0 })
            let order = ["not_sent_yet", "requested", "matched", "started", "completed", "expired", "rejected", "cancelled"]
            DemoConsole.progress(
                elapsed: clock.now - started, parts: order.map { ($0, run.byState[$0] ?? 0) },
                suffix: "| surge results \(run.surgeResults), max ×\(run.maxMultiplier)")
        }
    }

    /// Waits until `condition` holds for the rides' snapshot.
    func waitUntil(timeout: Duration, _ condition: (RidesRun) async -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if await condition(observer.snapshot(of: ids.withLock { $0 })) { return true }
            try await Task.sleep(for: .milliseconds(500))
        }
        return false
    }
}
