import DabbaInbox
import Foundation
import Testing

/// ``InboxScenarios`` against the embedded SQLite store, each test on a fresh temporary database file.
@Suite("SQLiteInbox")
struct SQLiteInboxTests {
    @Test func handlerWritesCommitWithMarks() async throws {
        try await InboxFixture.sqlite(InboxScenarios.handlerWritesCommitWithMarks)
    }

    @Test func duplicateAcrossBatches() async throws {
        try await InboxFixture.sqlite(InboxScenarios.duplicateAcrossBatches)
    }

    @Test func duplicateWithinBatch() async throws {
        try await InboxFixture.sqlite(InboxScenarios.duplicateWithinBatch)
    }

    @Test func discardWritesUndoesTheAttempt() async throws {
        try await InboxFixture.sqlite(InboxScenarios.discardWritesUndoesTheAttempt)
    }

    @Test func failureWithoutWritesLeavesNoMark() async throws {
        try await InboxFixture.sqlite(InboxScenarios.failureWithoutWritesLeavesNoMark)
    }

    @Test func largeBatchFindsEveryDuplicate() async throws {
        try await InboxFixture.sqlite(InboxScenarios.largeBatchFindsEveryDuplicate)
    }

    @Test func failingHandlerRollsBackOnlyItsEvent() async throws {
        try await InboxFixture.sqlite(InboxScenarios.failingHandlerRollsBackOnlyItsEvent)
    }

    @Test func failingStatementFailsOnlyItsEvent() async throws {
        try await InboxFixture.sqlite(InboxScenarios.failingStatementFailsOnlyItsEvent)
    }

    @Test func purgeRemovesOnlyOldRecords() async throws {
        try await InboxFixture.sqlite(InboxScenarios.purgeRemovesOnlyOldRecords)
    }

    @Test func purgeAcrossManyRecords() async throws {
        try await InboxFixture.sqlite(InboxScenarios.purgeAcrossManyRecords)
    }

    /// A database made by an earlier version has an index on `processed_at`; opening it drops that index (every
    /// event paid an insert into it) and keeps the records.
    @Test func openingAnOlderDatabaseDropsTheTimeIndex() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-old-\(UUID()).sqlite").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        do {
            let old = try SQLiteInbox(path: path)
            try await old.execute("CREATE INDEX dabba_inbox_processed_at ON dabba_inbox (processed_at)")
            _ = try await old.processBatch(group: "g", eventIDs: ["e1", "e2"]) { _, _ in }
        }
        let reopened = try SQLiteInbox(path: path)
        let indexes = try await reopened.withDatabase { database in
            try database.query("SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'dabba_inbox_processed_at'", [])
        }
        #expect(indexes.isEmpty)
        #expect(try await reopened.contains(group: "g", eventID: "e1"))
        #expect(try await reopened.processBatch(group: "g", eventIDs: ["e2", "e3"]) { _, _ in } == [.duplicate, .processed])
    }

    @Test func commitFailureKeepsNothing() async throws {
        try await InboxFixture.sqlite(InboxScenarios.commitFailureKeepsNothing)
    }

    @Test func marksSurviveClosingAndReopeningTheFile() async throws {
        try await InboxFixture.sqlite(InboxScenarios.marksSurviveReopening)
    }

    @Test func valuesRoundTrip() async throws {
        try await InboxFixture.sqlite(InboxScenarios.valuesRoundTrip)
    }

    @Test func emptyBatch() async throws {
        try await InboxFixture.sqlite(InboxScenarios.emptyBatch)
    }

    /// The marks' texts are bound in place (no copy): short (inline), long, empty and non-ASCII ids and groups are
    /// stored byte for byte and found again.
    @Test func idsOfEveryShapeAreRecordedExactly() async throws {
        try await InboxFixture.sqlite { fixture in
            let store = try await fixture.openStore()
            let ids = ["", "e1", "an-event-id-longer-than-fifteen-bytes", "événement-✓", "0193a5c2-7f1e-7a3b-9c4d-5e6f70812345"]
            for group in ["", "g", uniqueGroup(), "groupe-é"] {
                let first = try await store.processBatch(group: group, eventIDs: ids) { _, _ in }
                #expect(first == Array(repeating: .processed, count: ids.count), "group '\(group)'")
                let again = try await store.processBatch(group: group, eventIDs: ids.reversed()) { _, _ in }
                #expect(again == Array(repeating: .duplicate, count: ids.count), "group '\(group)'")
                for id in ids { #expect(try await store.contains(group: group, eventID: id)) }
                let stored = try await store.query(
                    "SELECT event_id FROM dabba_inbox WHERE group_id = ? ORDER BY event_id", [.text(group)]
                )
                #expect(stored == ids.sorted().map { [.text($0)] })
            }
        }
    }
}
