import Synchronization
import Testing

@testable import DabbaPipeline

@Suite("Due work between batches")
struct DueWorkPollTests {
    @Test("under a backlog (the next batch already fetched) due work still runs before each batch, once per interval")
    func dueWorkIsNotStarvedByReadyBatches() async throws {
        let poll = DueWorkPoll(interval: .seconds(3600))
        let fired = Atomic<Int>(0)
        let fire: @Sendable () async throws -> Bool = {
            fired.add(1, ordering: .relaxed)
            return false
        }
        let ready = Task<Int, any Error> { 1 }
        _ = await ready.result
        #expect(try await poll.value(of: ready, firing: fire) == 1)
        #expect(fired.load(ordering: .relaxed) == 1)
        // Within the interval: the ready batch is handed out without running it again.
        let next = Task<Int, any Error> { 2 }
        _ = await next.result
        #expect(try await poll.value(of: next, firing: fire) == 2)
        #expect(fired.load(ordering: .relaxed) == 1)
    }

    @Test("a full page of due work runs again before the next batch, one page per batch")
    func fullPagesAlternateWithBatches() async throws {
        let poll = DueWorkPoll(interval: .seconds(3600))
        let fired = Atomic<Int>(0)
        let fire: @Sendable () async throws -> Bool = {
            fired.add(1, ordering: .relaxed)
            return true
        }
        for batch in 1...3 {
            let ready = Task<Int, any Error> { batch }
            _ = await ready.result
            #expect(try await poll.value(of: ready, firing: fire) == batch)
        }
        #expect(fired.load(ordering: .relaxed) >= 3)
    }

    @Test("while a slow fetch is awaited, the loop sleeps between due-work looks instead of spinning")
    func slowFetchIsAwaitedWithoutSpinning() async throws {
        let poll = DueWorkPoll(interval: .milliseconds(100))
        let fired = Atomic<Int>(0)
        let fetch = Task<Int, any Error> {
            try await Task.sleep(for: .seconds(1))
            return 7
        }
        #expect(try await poll.value(of: fetch, firing: { fired.add(1, ordering: .relaxed); return false }) == 7)
        // About one wait per 100 ms interval over the second (each ends at the interval or at the fetch's arrival);
        // an idle service's loop once woke thousands of times here and burned a core.
        #expect(poll.waits <= 20, "\(poll.waits) waits for a one-second fetch")
        #expect(fired.load(ordering: .relaxed) >= 2 && fired.load(ordering: .relaxed) <= 12)
    }

    @Test("when due work fails the fetch is cancelled and the error thrown")
    func failingDueWorkCancelsTheFetch() async throws {
        struct Refused: Error {}
        let poll = DueWorkPoll(interval: .milliseconds(10))
        let fetch = Task<Int, any Error> {
            try await Task.sleep(for: .seconds(3600))
            return 1
        }
        await #expect(throws: Refused.self) { try await poll.value(of: fetch, firing: { throw Refused() }) }
        await #expect(throws: CancellationError.self) { try await fetch.value }
    }
}
