import Dispatch

/// Runs librdkafka calls that wait (flush, synchronous commit, close, transactions, admin) off Swift's cooperative
/// thread pool, so a slow broker never starves other tasks.
///
/// Each call gets a serial queue of its own. Serial queues run on libdispatch's overcommit threads, which are made
/// as needed; a concurrent queue (or `DispatchQueue.global()`) would not do: on Linux it is served by the same
/// width-limited threads (one per core) as Swift's cooperative pool, so two waiting calls would stop every task of
/// the process. A queue per call also keeps a long wait (a flush) from holding up an unrelated one (a commit).
enum Blocking {
    /// Runs `body` on a thread outside the cooperative pool and returns its result.
    static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "dabba.blocking").async { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    /// Schedules `body` without waiting for it (used from `deinit`, which cannot suspend).
    static func detach(_ body: @escaping @Sendable () -> Void) {
        DispatchQueue(label: "dabba.blocking").async(execute: body)
    }
}
