import DabbaInbox
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
