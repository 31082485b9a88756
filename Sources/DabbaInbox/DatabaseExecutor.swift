import Foundation

/// A dedicated thread for a store's blocking database work, as a task executor.
///
/// SQLite and libpq calls block their thread until the disk or the server answers, and a handler's statements
/// through ``InboxTransaction`` are synchronous. Run on Swift's cooperative pool (one thread per core), a few such
/// waits would stall every other task of the process: fetching, heartbeats, the metrics endpoint. A store runs each
/// operation inside ``run(_:)``, which prefers this executor for the whole operation, the handlers it calls
/// included (SE-0417 task executor preference): their synchronous statements block this thread only. Awaits inside
/// (emits, acknowledgements) suspend as usual and let the thread run other jobs.
///
/// `package` so the other stores of this package (DabbaInboxPostgres) use it; not public API.
package final class DatabaseExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: `jobs` and `stopping` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var jobs: [UnownedJob] = []
    private var stopping = false

    /// Starts the thread.
    /// - Parameter name: The thread's name, as shown by debuggers and `top -H`.
    package init(name: String) {
        let thread = Thread { [self] in runJobs() }
        thread.name = name
        thread.start()
    }

    /// Lets the thread finish once the jobs queued so far have run (call from the owning store's `deinit`).
    package func shutdown() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    /// Runs `operation` with this executor preferred: its synchronous work, and that of the nonisolated async
    /// functions it calls, runs on this thread rather than on the cooperative pool.
    /// - Parameter operation: The store operation.
    /// - Returns: What `operation` returns.
    package func run<Result>(_ operation: () async throws -> Result) async rethrows -> Result {
        try await withTaskExecutorPreference(self, operation: operation)
    }

    private func runJobs() {
        let executor = asUnownedTaskExecutor()
        while true {
            condition.lock()
            while jobs.isEmpty, !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let ready = jobs
            jobs.removeAll(keepingCapacity: true)
            condition.unlock()
            for job in ready { job.runSynchronously(on: executor) }
        }
    }
}
