import Synchronization

/// The runner's seam for work that falls due by time rather than arriving as a fetched record (durable timers): the
/// loop waits for its next batch through ``value(of:firing:)``, which runs the due work while the batch is being
/// fetched (at most once per interval while batches flow, and on an idle tick while none comes). The work runs
/// between batches, never beside one: the next batch is processed only after it finished. When the interval has
/// passed it runs before the next batch is handed out even if that batch is fetched already: under a backlog the
/// next batch is always ready, and due work that only ran while waiting for one would wait for the whole backlog.
final class DueWorkPoll: Sendable {
    private let interval: Duration
    private let clock = ContinuousClock()
    /// When due work was last looked for; nil: look at the next chance.
    private let lastPoll = Mutex<ContinuousClock.Instant?>(nil)
    private let waitCount = Atomic<Int>(0)

    /// How many times the loop has waited for a fetch or the next look (each wait ends at one or the other).
    var waits: Int { waitCount.load(ordering: .relaxed) }

    /// Creates a poll.
    /// - Parameter interval: How often due work is looked for.
    init(interval: Duration) { self.interval = interval }

    /// Waits for `fetch` to finish, running `fire` meanwhile whenever the interval has passed since the last time.
    /// - Parameters:
    ///   - fetch: The fetch of the next batch.
    ///   - fire: Runs the due work; returns whether more may be due now (then it runs again without waiting).
    /// - Returns: What `fetch` returns.
    /// - Throws: What `fetch` or `fire` throw (when `fire` throws, the fetch is cancelled).
    func value<Value: Sendable>(
        of fetch: Task<Value, any Error>, firing fire: @escaping @Sendable () async throws -> Bool
    ) async throws -> Value {
        if timeUntilNextPoll().map({ $0 <= .zero }) ?? true {
            do {
                try await runDueWork(fire)
            } catch {
                fetch.cancel()
                throw error
            }
        }
        let arrived = ArrivalFlag()
        let (arrivals, arrival) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        return try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask {
                let result = await withTaskCancellationHandler { await fetch.result } onCancel: { fetch.cancel() }
                arrived.set()
                arrival.yield()
                return try result.get()
            }
            group.addTask {
                while !arrived.isSet, !Task.isCancelled {
                    if let wait = self.timeUntilNextPoll(), wait > .zero {
                        self.waitCount.add(1, ordering: .relaxed)
                        await Self.wait(for: arrivals, wake: arrival, upTo: wait)
                        continue
                    }
                    try await self.runDueWork(fire)
                }
                return nil
            }
            var fetched: Value?
            for try await result in group where result != nil { fetched = result }
            guard let fetched else { throw CancellationError() }
            return fetched
        }
    }

    /// Runs the due work once; when it says more is due, the next look comes at once.
    private func runDueWork(_ fire: @Sendable () async throws -> Bool) async throws {
        let more = try await fire()
        lastPoll.withLock { $0 = more ? nil : clock.now }
    }

    /// How long until due work should be looked for again; nil or zero: now.
    private func timeUntilNextPoll() -> Duration? {
        lastPoll.withLock { last in last.map { $0 + interval - clock.now } }
    }

    /// Returns when the fetch arrived (or had arrived), after `timeout`, or on cancellation. The stream's reader is
    /// woken by the timeout, never cancelled: cancelling a task that awaits an `AsyncStream` finishes the stream,
    /// and every later wait of this fetch would then return at once (a busy loop that once took a third of a core
    /// per idle service).
    private static func wait(
        for arrivals: AsyncStream<Void>, wake: AsyncStream<Void>.Continuation, upTo timeout: Duration
    ) async {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask {
                var iterator = arrivals.makeAsyncIterator()
                _ = await iterator.next()
                return true
            }
            group.addTask {
                if (try? await Task.sleep(for: timeout)) != nil { wake.yield() }
                return false
            }
            // The reader always finishes (an arrival or the wake-up); then the sleep, if still running, is stopped.
            while let readerFinished = await group.next() {
                if readerFinished { group.cancelAll() }
            }
        }
    }
}

/// Whether the awaited fetch has finished (set once, read by the task firing due work).
private final class ArrivalFlag: Sendable {
    private let value = Atomic<Bool>(false)
    var isSet: Bool { value.load(ordering: .acquiring) }
    func set() { value.store(true, ordering: .releasing) }
}
