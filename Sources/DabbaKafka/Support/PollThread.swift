import Foundation
import Synchronization

/// A dedicated OS thread that runs a client's poll loop, so librdkafka's blocking poll never occupies a
/// cooperative-pool thread.
///
/// The loop body is called repeatedly until ``stop()``; it should block for a bounded time (e.g. poll with a 100 ms
/// timeout) so that a stop request is noticed promptly.
final class PollThread: Sendable {
    private let stopping = Atomic<Bool>(false)
    private let state = Mutex<State>(State())

    private struct State {
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Starts the thread. `body` is called in a loop and is given a function that tells whether to stop; `onExit`
    /// runs on the thread once the loop has ended, before ``stop()`` returns.
    init(
        name: String,
        body: @escaping @Sendable (_ isStopping: () -> Bool) -> Void,
        onExit: @escaping @Sendable () -> Void = {}
    ) {
        let thread = Thread { [self] in
            while !isStopping {
                body { self.isStopping }
            }
            onExit()
            let waiters = state.withLock { state in
                state.finished = true
                defer { state.waiters = [] }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
        thread.name = name
        thread.start()
    }

    /// Whether a stop was requested.
    var isStopping: Bool { stopping.load(ordering: .acquiring) }

    /// Asks the loop to stop and waits until the thread has left it.
    func stop() async {
        stopping.store(true, ordering: .releasing)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let alreadyFinished = state.withLock { state in
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if alreadyFinished { continuation.resume() }
        }
    }

    /// Asks the loop to stop without waiting.
    func requestStop() {
        stopping.store(true, ordering: .releasing)
    }
}
