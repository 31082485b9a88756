import DabbaInbox
import DabbaInboxPostgres
import DabbaTestingPostgres
import Testing

extension PostgresInboxTests {
    /// Two instances of a group (two `PostgresInbox`es, two connections) given the same events at the same time, as
    /// happens around a rebalance: each event's effect happens exactly once.
    @Suite("Concurrent instances")
    struct Concurrency {
        static let group = "payments"

        /// Waits until the server process `pid` is blocked on a lock (the mark insert waiting for the other instance).
        static func waitUntilBlocked(_ pid: Int64, on server: TestPostgres) async throws -> Bool {
            try await eventually("backend \(pid) waits for a lock") {
                try await server.adminQuery(
                    "SELECT wait_event_type FROM pg_stat_activity WHERE pid = ?", [.integer(pid)]
                ) == [["Lock"]]
            }
        }

        @Test func theSecondInstanceWaitsForTheFirstThenSeesADuplicate() async throws {
            try await TestPostgres.withFixture { postgres in
                let first = try await postgres.open()
                let second = try await postgres.open()
                try await first.execute(InboxScenarios.createEffects)
                let secondPID = try await backendPID(second)
                let entered = Signal()
                let release = Signal()
                let firstBatch = Task {
                    try await first.processBatch(group: Self.group, eventIDs: ["e1"]) { _, db in
                        try db.execute(InboxScenarios.insertEffect, ["e1", 1])
                        entered.fire()
                        await release.wait()
                    }
                }
                await entered.wait()
                let secondHandlerRan = Signal()
                let secondBatch = Task {
                    try await second.processBatch(group: Self.group, eventIDs: ["e1"]) { _, db in
                        secondHandlerRan.fire()
                        try db.execute(InboxScenarios.insertEffect, ["e1", 2])
                    }
                }
                // The second instance's mark insert is blocked by the first's uncommitted mark.
                #expect(try await Self.waitUntilBlocked(secondPID, on: postgres.server))
                release.fire()
                #expect(try await firstBatch.value == [.processed])
                #expect(try await secondBatch.value == [.duplicate])
                #expect(try await InboxScenarios.effects(first) == [["e1", 1]])
                #expect(!secondHandlerRan.isFired)
            }
        }

        @Test func theSecondInstanceProcessesTheEventWhenTheFirstFailsIt() async throws {
            try await TestPostgres.withFixture { postgres in
                let first = try await postgres.open()
                let second = try await postgres.open()
                try await first.execute(InboxScenarios.createEffects)
                let secondPID = try await backendPID(second)
                let entered = Signal()
                let release = Signal()
                let firstBatch = Task {
                    try await first.processBatch(group: Self.group, eventIDs: ["e1"]) { _, db in
                        try db.execute(InboxScenarios.insertEffect, ["e1", 1])
                        entered.fire()
                        await release.wait()
                        throw HandlerFailure("first instance failed")
                    }
                }
                await entered.wait()
                let secondBatch = Task {
                    try await second.processBatch(group: Self.group, eventIDs: ["e1"]) { _, db in
                        try db.execute(InboxScenarios.insertEffect, ["e1", 2])
                    }
                }
                #expect(try await Self.waitUntilBlocked(secondPID, on: postgres.server))
                release.fire()
                #expect(try await firstBatch.value == [.failed("first instance failed")])
                #expect(try await secondBatch.value == [.processed])
                #expect(try await InboxScenarios.effects(first) == [["e1", 2]])
                #expect(try await first.contains(group: Self.group, eventID: "e1"))
            }
        }

        @Test func racingInstancesProcessEveryEventExactlyOnce() async throws {
            try await TestPostgres.withFixture { postgres in
                let instances = [try await postgres.open(), try await postgres.open()]
                try await instances[0].execute(
                    "CREATE TABLE effects (event_id TEXT NOT NULL, instance BIGINT NOT NULL)"
                )
                var processed = 0
                for round in 0..<10 {
                    let ids = (0..<5).map { "r\(round)-e\($0)" }
                    let outcomes = try await withThrowingTaskGroup(of: [InboxOutcome].self) { tasks in
                        for (number, instance) in instances.enumerated() {
                            tasks.addTask {
                                try await instance.processBatch(group: Self.group, eventIDs: ids) { index, db in
                                    let row: [SQLValue] = [.text(ids[index]), .integer(Int64(number))]
                                    try db.execute("INSERT INTO effects VALUES (?, ?)", row)
                                }
                            }
                        }
                        return try await tasks.reduce(into: []) { $0.append($1) }
                    }
                    for index in ids.indices {
                        let perEvent = outcomes.map { $0[index] }
                        #expect(perEvent.filter { $0 == .processed }.count == 1, "\(ids[index]): \(perEvent)")
                        #expect(perEvent.filter { $0 == .duplicate }.count == 1, "\(ids[index]): \(perEvent)")
                    }
                    processed += ids.count
                }
                let counts = try await instances[0].query(
                    "SELECT count(*), count(DISTINCT event_id) FROM effects"
                )
                #expect(counts == [[.integer(Int64(processed)), .integer(Int64(processed))]])
            }
        }

        @Test func batchesTakingEventsInOppositeOrdersDeadlockAndOneIsRolledBack() async throws {
            try await TestPostgres.withFixture { postgres in
                let first = try await postgres.open()
                let second = try await postgres.open()
                try await first.execute(InboxScenarios.createEffects)
                let firstHolds = Signal()
                let secondHolds = Signal()
                let bothHold = Signal()
                // Each takes its first event's mark, waits until the other holds one too, then wants the other's.
                func batch(_ store: PostgresInbox, _ ids: [String], holds: Signal) -> Task<[InboxOutcome], any Error> {
                    Task {
                        try await store.processBatch(group: Self.group, eventIDs: ids) { index, db in
                            try db.execute(InboxScenarios.insertEffect, [.text(ids[index]), .integer(Int64(index))])
                            if index == 0 {
                                holds.fire()
                                await bothHold.wait()
                            }
                        }
                    }
                }
                let firstBatch = batch(first, ["e1", "e2"], holds: firstHolds)
                let secondBatch = batch(second, ["e2", "e1"], holds: secondHolds)
                await firstHolds.wait()
                await secondHolds.wait()
                bothHold.fire()
                // PostgreSQL's deadlock detector aborts one of them (after deadlock_timeout); that batch throws and
                // keeps nothing, the other commits both events.
                let results = [await firstBatch.result, await secondBatch.result]
                let failures = results.compactMap { result -> InboxError? in
                    if case .failure(let error) = result { return error as? InboxError }
                    return nil
                }
                #expect(failures.count == 1)
                #expect(failures.first?.code == .commit)
                #expect(failures.first?.message.contains("deadlock detected") == true, "\(failures)")
                let succeeded = results.compactMap { try? $0.get() }
                #expect(succeeded == [[.processed, .processed]])
                #expect(try await InboxScenarios.effects(first).map { $0[0] } == ["e1", "e2"])
                // Redelivered, the rolled-back batch finds both events done.
                let again = try await second.processBatch(group: Self.group, eventIDs: ["e2", "e1"]) { _, _ in }
                #expect(again == [.duplicate, .duplicate])
            }
        }

        @Test func cancellingABatchThatWaitsForAnotherInstanceEndsTheWait() async throws {
            try await TestPostgres.withFixture { postgres in
                let first = try await postgres.open()
                let second = try await postgres.open()
                let secondPID = try await backendPID(second)
                let entered = Signal()
                let release = Signal()
                let firstBatch = Task {
                    try await first.processBatch(group: Self.group, eventIDs: ["e1"]) { _, _ in
                        entered.fire()
                        await release.wait()
                    }
                }
                await entered.wait()
                let secondBatch = Task {
                    try await second.processBatch(group: Self.group, eventIDs: ["e1"]) { _, _ in }
                }
                #expect(try await Self.waitUntilBlocked(secondPID, on: postgres.server))
                // The first batch holds its row until `release`, which fires only after this returns: the second
                // batch returning at all proves the cancel ended its wait (no wall-clock bound on a loaded machine).
                secondBatch.cancel()
                let result = await secondBatch.result
                guard case .failure(let error) = result else {
                    Issue.record("the cancelled batch should have thrown: \(result)")
                    release.fire()
                    return
                }
                #expect((error as? InboxError)?.code == .commit)
                #expect("\(error)".contains("canceling statement due to user request"), "\(error)")
                release.fire()
                #expect(try await firstBatch.value == [.processed])
                // The cancelled instance's connection is still usable.
                #expect(try await second.contains(group: Self.group, eventID: "e1"))
            }
        }
    }
}
