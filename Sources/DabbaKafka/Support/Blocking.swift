import Dispatch

/// Runs librdkafka calls that wait (flush, synchronous commit, close, transactions, admin) off Swift's cooperative
/// thread pool, so a slow broker never starves other tasks.
enum Blocking {
    private static let queue = DispatchQueue(label: "dabba.blocking", attributes: .concurrent)

    /// Runs `body` on a thread outside the cooperative pool and returns its result.
    static func run<Result: Sendable>(_ body: @escaping @Sendable () throws -> Result) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Swift.Result { try body() }) }
        }
    }

    /// Schedules `body` without waiting for it (used from `deinit`, which cannot suspend).
    static func detach(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }
}
