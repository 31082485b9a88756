import DabbaInbox
import Testing

/// The behaviour every ``InboxStore`` must have, written once and run against each store by
/// `SQLiteInboxTests` and `PostgresInboxTests`.
///
/// Handlers write to an `effects` table in the same database; the scenarios check those rows (what the handler
/// committed, how many times) and the inbox marks, through a second connection where it matters.
enum InboxScenarios {
    static let createEffects = "CREATE TABLE effects (event_id TEXT PRIMARY KEY, amount BIGINT NOT NULL)"
    static let insertEffect = "INSERT INTO effects (event_id, amount) VALUES (?, ?)"

    /// The effects table, ordered by event id.
    static func effects(_ store: any InboxUnderTest) async throws -> [[SQLValue]] {
        try await store.query("SELECT event_id, amount FROM effects ORDER BY event_id")
    }

    /// A handler's writes and the marks commit together, are visible to another connection, and are per group.
    static func handlerWritesCommitWithMarks(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        try await store.execute(createEffects)
        let group = uniqueGroup()
        let ids = ["e1", "e2", "e3"]
        var calls: [Int] = []
        let outcomes = try await store.processBatch(group: group, eventIDs: ids) { index, db in
            calls.append(index)
            try db.execute(insertEffect, [.text(ids[index]), .integer(Int64(index + 1) * 10)])
        }
        #expect(outcomes == [.processed, .processed, .processed])
        #expect(calls == [0, 1, 2])

        let other = try await fixture.openStore()
        #expect(try await effects(other) == [["e1", 10], ["e2", 20], ["e3", 30]])
        for id in ids { #expect(try await other.contains(group: group, eventID: id)) }
        #expect(try await !other.contains(group: group, eventID: "e4"))
        #expect(try await !other.contains(group: uniqueGroup("other"), eventID: "e1"))
    }

    /// An event recorded by an earlier batch is a duplicate: its handler does not run, its effects stay as they were.
    static func duplicateAcrossBatches(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        try await store.execute(createEffects)
        let group = uniqueGroup()
        _ = try await store.processBatch(group: group, eventIDs: ["e1"]) { _, db in
            try db.execute(insertEffect, ["e1", 1])
        }
        var calls: [Int] = []
        let outcomes = try await store.processBatch(group: group, eventIDs: ["e1", "e2"]) { index, db in
            calls.append(index)
            try db.execute(insertEffect, [.text(["e1", "e2"][index]), 2])
        }
        #expect(outcomes == [.duplicate, .processed])
        #expect(calls == [1])
        #expect(try await effects(store) == [["e1", 1], ["e2", 2]])

        // The same event id under another group is another group's business.
        let otherOutcomes = try await store.processBatch(group: uniqueGroup("other"), eventIDs: ["e1"]) { _, _ in }
        #expect(otherOutcomes == [.processed])
    }

    /// The same event id twice in one batch: the second is a duplicate of the first.
    static func duplicateWithinBatch(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        try await store.execute(createEffects)
        let group = uniqueGroup()
        let ids = ["e1", "e1", "e2"]
        var calls: [Int] = []
        let outcomes = try await store.processBatch(group: group, eventIDs: ids) { index, db in
            calls.append(index)
            try db.execute(insertEffect, [.text(ids[index]), .integer(Int64(index))])
        }
        #expect(outcomes == [.processed, .duplicate, .processed])
        #expect(calls == [0, 2])
        #expect(try await effects(store) == [["e1", 0], ["e2", 2]])
    }

    /// `discardWrites()` undoes the event's writes so far (a retry in place starts clean), even after a failed
    /// statement, and the event is still recorded when the handler then succeeds.
    static func discardWritesUndoesTheAttempt(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        try await store.execute(createEffects)
        let group = uniqueGroup()
        let outcomes = try await store.processBatch(group: group, eventIDs: ["e1", "e2"]) { index, db in
            if index == 0 {
                try db.execute(insertEffect, ["e1", 1])
                try db.discardWrites()
                _ = try? db.execute("INSERT INTO no_such_table VALUES (1)")
                try db.discardWrites()
                try db.execute(insertEffect, ["e1", 2])
            } else {
                try db.execute(insertEffect, ["e2", 3])
            }
        }
        #expect(outcomes == [.processed, .processed])
        #expect(try await effects(store) == [["e1", 2], ["e2", 3]])
        #expect(try await store.contains(group: group, eventID: "e1"))
    }

    /// A handler that fails without touching the database leaves no mark, so the same id later in the batch (a
    /// redelivery) runs its handler; handlers that never use the database are recorded all the same.
    static func failureWithoutWritesLeavesNoMark(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        try await store.execute(createEffects)
        let group = uniqueGroup()
        let ids = ["e1", "e1", "e2"]
        var calls: [Int] = []
        let outcomes = try await store.processBatch(group: group, eventIDs: ids) { index, db in
            calls.append(index)
            if index == 0 { throw HandlerFailure("not yet") }
            if index == 1 { try db.execute(insertEffect, [.text(ids[index]), 1]) }
        }
        #expect(outcomes == [.failed("not yet"), .processed, .processed])
        #expect(calls == [0, 1, 2])
        #expect(try await effects(store) == [["e1", 1]])
        #expect(try await store.contains(group: group, eventID: "e1"))
        #expect(try await store.contains(group: group, eventID: "e2"))
    }

    /// Batches larger than one duplicate lookup: every earlier id is found wherever it sits in the batch.
    static func largeBatchFindsEveryDuplicate(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        let group = uniqueGroup()
        let first = (0..<700).filter { $0 % 3 == 0 }.map { "event-\($0)" }
        _ = try await store.processBatch(group: group, eventIDs: first) { _, _ in }
        let all = (0..<700).map { "event-\($0)" }
        var handled: [String] = []
        let outcomes = try await store.processBatch(group: group, eventIDs: all) { index, _ in handled.append(all[index]) }
        #expect(outcomes.filter { $0 == .duplicate }.count == first.count)
        #expect(Set(handled) == Set(all).subtracting(first))
        #expect(handled.count == all.count - first.count)
    }

    /// A handler that throws mid-batch: its writes are rolled back, the others' kept, and it is not recorded, so a
    /// redelivery processes it.
    static func failingHandlerRollsBackOnlyItsEvent(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        try await store.execute(createEffects)
        let group = uniqueGroup()
        let ids = ["e1", "e2", "e3"]
        let outcomes = try await store.processBatch(group: group, eventIDs: ids) { index, db in
            try db.execute(insertEffect, [.text(ids[index]), .integer(Int64(index))])
            if index == 1 { throw HandlerFailure("boom at e2") }
        }
        #expect(outcomes == [.processed, .failed("boom at e2"), .processed])

        let other = try await fixture.openStore()
        #expect(try await effects(other) == [["e1", 0], ["e3", 2]])
        #expect(try await other.contains(group: group, eventID: "e1"))
        #expect(try await !other.contains(group: group, eventID: "e2"))
        #expect(try await other.contains(group: group, eventID: "e3"))

        let redelivered = try await store.processBatch(group: group, eventIDs: ["e2"]) { _, db in
            try db.execute(insertEffect, ["e2", 1])
        }
        #expect(redelivered == [.processed])
        #expect(try await effects(other) == [["e1", 0], ["e2", 1], ["e3", 2]])
    }

    /// A handler statement that fails (a primary key violation) fails only its event, with the database's message
    /// and the SQL in the error.
    static func failingStatementFailsOnlyItsEvent(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        try await store.execute(createEffects)
        let group = uniqueGroup()
        let outcomes = try await store.processBatch(group: group, eventIDs: ["e1", "e2", "e3"]) { index, db in
            // e2 writes e1's row again.
            try db.execute(insertEffect, [.text(index == 1 ? "e1" : "e\(index + 1)"), .integer(Int64(index))])
        }
        #expect(outcomes.count == 3)
        #expect(outcomes[0] == .processed)
        #expect(outcomes[2] == .processed)
        guard case .failed(let message) = outcomes[1] else {
            Issue.record("e2 should have failed: \(outcomes[1])")
            return
        }
        #expect(message.lowercased().contains("unique") || message.contains("duplicate key"), "\(message)")
        #expect(message.contains(insertEffect), "the error names the SQL: \(message)")
        #expect(try await effects(store) == [["e1", 0], ["e3", 2]])
        #expect(try await !store.contains(group: group, eventID: "e2"))
    }

    /// `purge(olderThan:)` removes only records older than the age; a purged event is processed again.
    static func purgeRemovesOnlyOldRecords(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        let group = uniqueGroup()
        _ = try await store.processBatch(group: group, eventIDs: ["old1", "old2", "fresh"]) { _, _ in }
        for id in ["old1", "old2"] {
            #expect(try await store.execute(fixture.backdateSQL, [.integer(2 * 3600), .text(group), .text(id)]) == 1)
        }
        #expect(try await store.purge(olderThan: .seconds(3600)) == 2)
        #expect(try await !store.contains(group: group, eventID: "old1"))
        #expect(try await !store.contains(group: group, eventID: "old2"))
        #expect(try await store.contains(group: group, eventID: "fresh"))
        #expect(try await store.purge(olderThan: .seconds(3600)) == 0)

        let again = try await store.processBatch(group: group, eventIDs: ["old1", "fresh"]) { _, _ in }
        #expect(again == [.processed, .duplicate])
    }

    /// Purging a table larger than one purge step (SQLite walks its key in chunks of 4096) removes exactly the
    /// expired records of every group, in every chunk, and keeps the rest.
    static func purgeAcrossManyRecords(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        let groups = [uniqueGroup(), uniqueGroup(), uniqueGroup()]
        var expired: Set<String> = []
        for group in groups {
            let ids = (0..<4000).map { "evt-\($0)" }
            _ = try await store.processBatch(group: group, eventIDs: ids) { _, _ in }
            let backdated = ids.enumerated().filter { $0.offset % 3 == 0 }.map(\.element)
            try await store.execute(
                fixture.backdateManySQL(count: backdated.count),
                [.integer(2 * 3600), .text(group)] + backdated.map { .text($0) }
            )
            for id in backdated { expired.insert("\(group)/\(id)") }
        }
        #expect(try await store.purge(olderThan: .seconds(3600)) == expired.count)
        for group in groups {
            for index in [0, 1, 2, 3, 2997, 3998, 3999] {
                let id = "evt-\(index)"
                let kept = !expired.contains("\(group)/\(id)")
                #expect(try await store.contains(group: group, eventID: id) == kept, "\(group) \(id)")
            }
        }
        #expect(try await store.purge(olderThan: .seconds(3600)) == 0)
    }

    /// A `COMMIT` that fails (a deferred foreign key) throws `.commit` and keeps nothing of the batch: neither the
    /// effects nor the marks, so the whole batch is processed again on redelivery.
    static func commitFailureKeepsNothing(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        try await store.execute("CREATE TABLE accounts (id TEXT PRIMARY KEY)")
        try await store.execute(
            """
            CREATE TABLE transfers (
                event_id TEXT PRIMARY KEY,
                account TEXT NOT NULL REFERENCES accounts (id) DEFERRABLE INITIALLY DEFERRED
            )
            """
        )
        try await store.execute("INSERT INTO accounts (id) VALUES ('alice')")
        let group = uniqueGroup()
        let insertTransfer = "INSERT INTO transfers (event_id, account) VALUES (?, ?)"
        let error = await #expect(throws: InboxError.self) {
            try await store.processBatch(group: group, eventIDs: ["e1", "e2"]) { index, db in
                try db.execute(insertTransfer, [.text("e\(index + 1)"), .text(index == 0 ? "alice" : "nobody")])
            }
        }
        #expect(error?.code == .commit)
        #expect(error?.message.lowercased().contains("foreign key") == true, "\(String(describing: error))")
        #expect(try await store.query("SELECT event_id FROM transfers").isEmpty)
        #expect(try await !store.contains(group: group, eventID: "e1"))
        #expect(try await !store.contains(group: group, eventID: "e2"))

        // The store is usable afterwards and the batch goes through once fixed.
        let outcomes = try await store.processBatch(group: group, eventIDs: ["e1", "e2"]) { index, db in
            try db.execute(insertTransfer, [.text("e\(index + 1)"), "alice"])
        }
        #expect(outcomes == [.processed, .processed])
        #expect(try await store.query("SELECT event_id FROM transfers ORDER BY event_id") == [["e1"], ["e2"]])
    }

    /// Marks and effects survive closing the store and opening the database again.
    static func marksSurviveReopening(_ fixture: InboxFixture) async throws {
        let group = uniqueGroup()
        do {
            let store = try await fixture.openStore()
            try await store.execute(createEffects)
            _ = try await store.processBatch(group: group, eventIDs: ["e1", "e2"]) { index, db in
                try db.execute(insertEffect, [.text("e\(index + 1)"), .integer(Int64(index))])
            }
        }  // The store is released here: its connection closes.
        let reopened = try await fixture.openStore()
        #expect(try await reopened.contains(group: group, eventID: "e1"))
        #expect(try await reopened.contains(group: group, eventID: "e2"))
        #expect(try await effects(reopened) == [["e1", 0], ["e2", 1]])
        var calls = 0
        let outcomes = try await reopened.processBatch(group: group, eventIDs: ["e1", "e2"]) { _, _ in calls += 1 }
        #expect(outcomes == [.duplicate, .duplicate])
        #expect(calls == 0)
    }

    /// Every kind of ``SQLValue`` goes in as a parameter and comes back as the same value.
    static func valuesRoundTrip(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        try await store.execute(
            "CREATE TABLE vals (id BIGINT PRIMARY KEY, i BIGINT, d DOUBLE PRECISION, t TEXT, b BYTEA, n TEXT)"
        )
        let rows: [[SQLValue]] = [
            [1, .integer(.max), .double(0.1), "plain", .blob([0, 1, 0xfe, 0xff]), .null],
            [2, .integer(.min), .double(-1e-300), "ünïcødé ✓ 'quoted' ? $1", .blob([]), .null],
            [3, 0, .double(12345.678), "", .blob(Array("\\x00".utf8)), .null],
        ]
        let outcomes = try await store.processBatch(group: uniqueGroup(), eventIDs: ["e1"]) { _, db in
            for row in rows { try db.execute("INSERT INTO vals VALUES (?, ?, ?, ?, ?, ?)", row) }
        }
        #expect(outcomes == [.processed])
        #expect(try await store.query("SELECT id, i, d, t, b, n FROM vals ORDER BY id") == rows)
        let matching = try await store.query("SELECT t FROM vals WHERE i = ? AND d = ?", [.integer(.max), .double(0.1)])
        #expect(matching == [["plain"]])
    }

    /// An empty batch does nothing and calls no handler.
    static func emptyBatch(_ fixture: InboxFixture) async throws {
        let store = try await fixture.openStore()
        var calls = 0
        let outcomes = try await store.processBatch(group: uniqueGroup(), eventIDs: []) { _, _ in calls += 1 }
        #expect(outcomes.isEmpty)
        #expect(calls == 0)
    }
}
