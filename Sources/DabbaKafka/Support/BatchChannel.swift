import Foundation

/// A bounded single-consumer channel of batches (each `Element` is one batch) from a producing OS thread to an async consumer.
///
/// The producing side blocks (with periodic wake-ups) while the channel holds `capacity` batches, which is how a
/// slow application slows fetching instead of growing memory. Handing over whole batches keeps the per-message
/// cost of crossing threads near zero.
@usableFromInline
final class BatchChannel<Element: Sendable>: @unchecked Sendable {
    // `condition` guards every stored var below; @unchecked Sendable is sound because of that.
    private let condition = NSCondition()
    private var batches: [Element] = []
    private var head = 0
    private var waiter: CheckedContinuation<Element?, Never>?
    private var finished = false
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Number of batches waiting.
    var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return batches.count - head
    }

    /// Appends a batch, blocking while the channel is full. `whileWaiting` runs on each wake-up (every 50 ms at most)
    /// and returns true to give up. Returns false if the batch was not accepted (channel finished or gave up).
    @discardableResult
    func push(_ batch: Element, whileWaiting: () -> Bool = { false }) -> Bool {
        condition.lock()
        while !finished, waiter == nil, batches.count - head >= capacity {
            condition.unlock()
            if whileWaiting() { return false }
            condition.lock()
            if finished || waiter != nil || batches.count - head < capacity { break }
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.05))
        }
        if finished {
            condition.unlock()
            return false
        }
        if let waiter {
            self.waiter = nil
            condition.unlock()
            waiter.resume(returning: batch)
            return true
        }
        batches.append(batch)
        condition.unlock()
        return true
    }

    /// Wakes a producer blocked in ``push(_:whileWaiting:)`` so it runs `whileWaiting` now.
    func wakeProducer() {
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch, or nil once the channel is finished and drained.
    func next() async -> Element? {
        if let batch = popReady() { return batch }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Element?, Never>) in
                condition.lock()
                if head < batches.count {
                    let batch = takeFirstLocked()
                    condition.unlock()
                    continuation.resume(returning: batch)
                } else if finished || Task.isCancelled {
                    // A task cancelled before registering would otherwise wait forever: its onCancel already ran.
                    condition.unlock()
                    continuation.resume(returning: nil)
                } else {
                    waiter = continuation
                    condition.unlock()
                }
            }
        } onCancel: {
            cancelWaiter()
        }
    }

    /// Ends the channel: queued batches can still be read unless `discardingQueued` is true.
    func finish(discardingQueued: Bool = false) {
        condition.lock()
        finished = true
        if discardingQueued {
            batches = []
            head = 0
        }
        let waiter = self.waiter
        self.waiter = nil
        condition.broadcast()
        condition.unlock()
        waiter?.resume(returning: nil)
    }

    /// Removes queued batches for which `shouldDrop` is true (used when partitions are revoked or sought).
    func removeAll(where shouldDrop: (Element) -> Bool) {
        condition.lock()
        batches = Array(batches[head...]).filter { !shouldDrop($0) }
        head = 0
        condition.broadcast()
        condition.unlock()
    }

    /// The next batch if one is queued, without waiting.
    func nextIfReady() -> Element? { popReady() }

    private func popReady() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        guard head < batches.count else { return nil }
        return takeFirstLocked()
    }

    private func takeFirstLocked() -> Element {
        let batch = batches[head]
        head += 1
        if head > 64 || head == batches.count {
            batches.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return batch
    }

    private func cancelWaiter() {
        condition.lock()
        let waiter = self.waiter
        self.waiter = nil
        condition.unlock()
        waiter?.resume(returning: nil)
    }
}
