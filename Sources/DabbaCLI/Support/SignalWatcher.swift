import Dispatch
import Foundation
import Synchronization

/// Turns SIGINT/SIGTERM into an awaitable event, so a command can stop cleanly instead of being killed.
///
/// Creating a watcher replaces the signals' default action (terminate) with a Dispatch signal source; keep the
/// watcher alive for as long as the command should handle them.
final class SignalWatcher: Sendable {
    private let delivery = Delivery()
    private let sources: [UnsafeSendableSource]

    /// Starts watching.
    /// - Parameter signals: The signals to handle (default: SIGINT and SIGTERM).
    init(_ signals: [Int32] = [SIGINT, SIGTERM]) {
        let queue = DispatchQueue(label: "dabba.signals")
        let delivery = self.delivery
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { delivery.received(number) }
            source.resume()
            return UnsafeSendableSource(source: source)
        }
    }

    deinit {
        for wrapper in sources { wrapper.source.cancel() }
    }

    /// Waits for the first watched signal (returning at once if one already arrived).
    /// - Returns: The signal number, or nil if the waiting task was cancelled.
    func wait() async -> Int32? {
        await delivery.wait()
    }

    /// The conventional name of a signal, for messages.
    static func name(of number: Int32) -> String {
        switch number {
        case SIGINT: "SIGINT"
        case SIGTERM: "SIGTERM"
        default: "signal \(number)"
        }
    }

    /// The first signal received, and the task waiting for it.
    private final class Delivery: Sendable {
        private struct State {
            var received: Int32?
            var waiter: CheckedContinuation<Int32?, Never>?
            var cancelled = false
        }

        private let state = Mutex(State())

        func received(_ number: Int32) {
            let waiter = state.withLock { state -> CheckedContinuation<Int32?, Never>? in
                if state.received == nil { state.received = number }
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: number)
        }

        func wait() async -> Int32? {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
                    let immediate: Int32?? = state.withLock { state in
                        if let received = state.received { return .some(received) }
                        if state.cancelled { return .some(nil) }
                        state.waiter = continuation
                        return .none
                    }
                    if let immediate { continuation.resume(returning: immediate) }
                }
            } onCancel: {
                let waiter = state.withLock { state -> CheckedContinuation<Int32?, Never>? in
                    state.cancelled = true
                    defer { state.waiter = nil }
                    return state.waiter
                }
                waiter?.resume(returning: nil)
            }
        }
    }
}

/// A Dispatch signal source; it is only resumed and cancelled, both thread-safe Dispatch operations.
private struct UnsafeSendableSource: @unchecked Sendable {
    let source: any DispatchSourceSignal
}
