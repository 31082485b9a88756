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
}
