import DabbaInbox
import Foundation
import Synchronization
import Testing

/// A flag set from one task and polled from blocking code.
private final class Flag: Sendable {
    private let value = Atomic<Bool>(false)
    private let seen = Mutex<[Bool]>([])
    func set() { value.store(true, ordering: .releasing) }
    var isSet: Bool { value.load(ordering: .acquiring) }
    /// Records whether the flag was set when a waiter stopped waiting.
    func recordSeen() { seen.withLock { $0.append(isSet) } }
    var sightings: [Bool] { seen.withLock { $0 } }
}

@Suite("Inbox stores block no cooperative thread")
struct OffPoolTests {
    @Test("handlers blocking inside batches on more stores than cores leave the cooperative pool free")
    func blockingHandlersLeaveThePoolFree() async throws {
        // One more store than the pool has threads: were the batches on the pool, every pool thread would be
        // blocked in a handler and the task that releases them could never run.
        let width = ProcessInfo.processInfo.activeProcessorCount + 1
        let stores = try (0..<width).map { _ in try SQLiteInbox(path: ":memory:") }
        let released = Flag()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in stores {
                group.addTask {
                    let outcomes = try await store.processBatch(group: "g", eventIDs: ["e"]) { _, transaction in
                        // A synchronous wait, as a libpq round trip or a locked database file would be.
                        let deadline = Date().addingTimeInterval(30)
                        while !released.isSet, Date() < deadline { usleep(1000) }
                        _ = try transaction.query("SELECT 1")
                        released.recordSeen()
                    }
                    #expect(outcomes == [.processed])
                }
            }
            // This task runs on the cooperative pool.
            try await Task.sleep(for: .milliseconds(200))
            released.set()
            try await group.waitForAll()
        }
        #expect(released.sightings == Array(repeating: true, count: width))
    }
}
