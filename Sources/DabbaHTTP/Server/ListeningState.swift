import Synchronization

/// Whether a ``ServiceHTTPServer`` is running and on which port, and the tasks waiting in
/// ``ServiceHTTPServer/boundPort()``.
final class ListeningState: Sendable {
    private struct State {
        var running = false
        /// The port of the current run once listening.
        var port: Int?
        /// Why the last run failed before listening.
        var failure: ServiceHTTPServerError?
        /// Whether the last run ended before listening, without an error (it was cancelled).
        var endedBeforeListening = false
        var waiters: [UInt64: CheckedContinuation<Int, any Error>] = [:]
        var cancelledWaiters: Set<UInt64> = []
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    /// Marks the start of a run. Returns false if one is already in progress.
    func start() -> Bool {
        state.withLock { state in
            guard !state.running else { return false }
            state.running = true
            state.port = nil
            state.failure = nil
            state.endedBeforeListening = false
            return true
        }
    }

    /// Whether the current run has listened.
    var hasListened: Bool { state.withLock { $0.port != nil } }

    /// The server is listening on `port`.
    func listening(on port: Int) {
        let waiters = state.withLock { state in
            state.port = port
            defer { state.waiters = [:] }
            return state.waiters.values
        }
        for waiter in waiters { waiter.resume(returning: port) }
    }

    /// The run has ended, with `failure` if it failed.
    func finished(failure: ServiceHTTPServerError?) {
        let (waiters, result): ([CheckedContinuation<Int, any Error>], Result<Int, any Error>?) = state.withLock {
            state in
            state.running = false
            guard state.port == nil else {
                // It listened: waiters were answered then. Later ones wait for the next run.
                state.port = nil
                return ([], nil)
            }
            state.failure = failure
            state.endedBeforeListening = failure == nil
            defer { state.waiters = [:] }
            return (Array(state.waiters.values), .failure(failure ?? CancellationError()))
        }
        guard let result else { return }
        for waiter in waiters { waiter.resume(with: result) }
    }

    /// Suspends until the current or next run listens, and returns its port; throws at once the failure of the last
    /// run if it ended without listening (until the next run starts).
    func port() async throws -> Int {
        let id = state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        // A cancellation that comes after the answer leaves the id behind.
        defer { state.withLock { _ = $0.cancelledWaiters.remove(id) } }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                let immediate: Result<Int, any Error>? = state.withLock { state in
                    if let port = state.port { return .success(port) }
                    if let failure = state.failure { return .failure(failure) }
                    if state.endedBeforeListening || state.cancelledWaiters.remove(id) != nil {
                        return .failure(CancellationError())
                    }
                    state.waiters[id] = continuation
                    return nil
                }
                if let immediate { continuation.resume(with: immediate) }
            }
        } onCancel: {
            let waiter = state.withLock { state in
                guard let waiter = state.waiters.removeValue(forKey: id) else {
                    state.cancelledWaiters.insert(id)
                    return nil as CheckedContinuation<Int, any Error>?
                }
                return waiter
            }
            waiter?.resume(throwing: CancellationError())
        }
    }
}
