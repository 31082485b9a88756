import DemoKit
import Foundation
import MessagingDomain
import MessagingRuntime
import Synchronization

/// The demo's progress: a line a second with messages undecided, deliveries queued and delivered, what waits for
/// offline users, users online, pushes and reads.
final class ChatMonitor: Sendable {
    private let observer: ChatObserver
    private let keys: Mutex<[MessageKey]>
    private let stopped = Atomic<Bool>(false)

    init(observer: ChatObserver, keys: [MessageKey]) {
        self.observer = observer
        self.keys = Mutex(keys)
    }

    /// Follows more messages.
    func add(_ more: [MessageKey]) { keys.withLock { $0 += more } }

    func stop() { stopped.store(true, ordering: .relaxed) }

    func run(started: ContinuousClock.Instant) async {
        let clock = ContinuousClock()
        while !stopped.load(ordering: .relaxed) {
            try? await Task.sleep(for: .seconds(1))
            let run = observer.snapshot(of: keys.withLock { $0 })
            let now = clock.now
            DemoConsole.progress(
                elapsed: now - started,
                parts: [
                    ("undecided", run.undecided.count), ("accepted", run.accepted), ("rejected", run.rejected),
                    ("queued", run.queued), ("delivered", run.delivered), ("waiting_offline", run.waitingOffline),
                    ("online", run.online.count), ("pushes", run.pushes), ("reads", run.reads),
                ])
        }
    }

    /// Waits until `condition` holds for the messages' snapshot.
    func waitUntil(timeout: Duration, _ condition: (ChatRun) async -> Bool) async throws -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if await condition(observer.snapshot(of: keys.withLock { $0 })) { return true }
            try await Task.sleep(for: .milliseconds(500))
        }
        return false
    }
}
