import DabbaInbox
import DabbaInboxPostgres
import DabbaTestingPostgres
import Testing

/// ``InboxScenarios`` and PostgreSQL specifics against one server for the whole suite (see ``TestPostgres``), each
/// test in a schema of its own.
@Suite(
    "PostgresInbox",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .postgresServer
)
struct PostgresInboxTests {
    // MARK: The behaviour shared with SQLiteInbox

    @Test func handlerWritesCommitWithMarks() async throws {
        try await InboxFixture.postgres(InboxScenarios.handlerWritesCommitWithMarks)
    }

    @Test func duplicateAcrossBatches() async throws {
        try await InboxFixture.postgres(InboxScenarios.duplicateAcrossBatches)
    }

    @Test func duplicateWithinBatch() async throws {
        try await InboxFixture.postgres(InboxScenarios.duplicateWithinBatch)
    }

    @Test func discardWritesUndoesTheAttempt() async throws {
        try await InboxFixture.postgres(InboxScenarios.discardWritesUndoesTheAttempt)
    }

    @Test func failureWithoutWritesLeavesNoMark() async throws {
        try await InboxFixture.postgres(InboxScenarios.failureWithoutWritesLeavesNoMark)
    }

    @Test func largeBatchFindsEveryDuplicate() async throws {
        try await InboxFixture.postgres(InboxScenarios.largeBatchFindsEveryDuplicate)
    }

    @Test func failingHandlerRollsBackOnlyItsEvent() async throws {
        try await InboxFixture.postgres(InboxScenarios.failingHandlerRollsBackOnlyItsEvent)
    }

    @Test func failingStatementFailsOnlyItsEvent() async throws {
        try await InboxFixture.postgres(InboxScenarios.failingStatementFailsOnlyItsEvent)
    }

    @Test func purgeRemovesOnlyOldRecords() async throws {
        try await InboxFixture.postgres(InboxScenarios.purgeRemovesOnlyOldRecords)
    }

    @Test func purgeAcrossManyRecords() async throws {
        try await InboxFixture.postgres(InboxScenarios.purgeAcrossManyRecords)
    }

    @Test func commitFailureKeepsNothing() async throws {
        try await InboxFixture.postgres(InboxScenarios.commitFailureKeepsNothing)
    }

    @Test func marksSurviveReconnecting() async throws {
        try await InboxFixture.postgres(InboxScenarios.marksSurviveReopening)
    }

    @Test func valuesRoundTrip() async throws {
        try await InboxFixture.postgres(InboxScenarios.valuesRoundTrip)
    }

    @Test func emptyBatch() async throws {
        try await InboxFixture.postgres(InboxScenarios.emptyBatch)
    }

    // MARK: PostgreSQL specifics

    @Test func createsTheInboxTableWithItsColumns() async throws {
        try await TestPostgres.withFixture { postgres in
            let store = try await postgres.open()
            let columns = try await store.query(
                """
                SELECT column_name, data_type, column_default FROM information_schema.columns
                WHERE table_schema = ? AND table_name = 'dabba_inbox' ORDER BY ordinal_position
                """,
                [.text(postgres.schema)]
            )
            #expect(
                columns == [
                    ["group_id", "text", .null],
                    ["event_id", "text", .null],
                    ["processed_at", "timestamp with time zone", "now()"],
                ]
            )
            let key = try await store.query(
                """
                SELECT a.attname FROM pg_index i
                JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                WHERE i.indrelid = 'dabba_inbox'::regclass AND i.indisprimary ORDER BY a.attnum
                """
            )
            #expect(key == [["group_id"], ["event_id"]])
        }
    }

    @Test func instancesStartingTogetherOnAFreshDatabaseAllCreateTheTable() async throws {
        try await TestPostgres.withFixture { postgres in
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let store = try await postgres.open()
                        return try await !store.contains(group: "g", eventID: "e")
                    }
                }
                for try await opened in group { #expect(opened) }
            }
        }
    }

    @Test func resultColumnsAreConvertedByType() async throws {
        try await TestPostgres.withFixture { postgres in
            let store = try await postgres.open()
            let rows = try await store.query(
                """
                SELECT 1::int2, 2::int4, 3::int8, 1.5::float4, 2.25::float8, 3.125::numeric, '\\x01ff'::bytea,
                       'hi'::text, NULL::int4, true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid, 'NaN'::numeric
                """
            )
            #expect(rows.count == 1)
            let row = try #require(rows.first)
            #expect(
                Array(row.prefix(11)) == [
                    1, 2, 3, .double(1.5), .double(2.25), .double(3.125), .blob([1, 0xff]), "hi", .null, "t",
                    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
                ]
            )
            guard case .double(let nan) = row[11] else {
                Issue.record("numeric NaN should be a double: \(row[11])")
                return
            }
            #expect(nan.isNaN)
        }
    }

    @Test func parameterTypesAreInferredFromTheirUse() async throws {
        try await TestPostgres.withFixture { postgres in
            let store = try await postgres.open()
            try await store.execute("CREATE TABLE typed (small int2, amount numeric(10, 2), label text, seen bool)")
            // Integers into int2 and numeric, a double into numeric, an integer into text, text into bool.
            try await store.execute("INSERT INTO typed VALUES (?, ?, ?, ?)", [7, .double(12.5), 42, "true"])
            try await store.execute("INSERT INTO typed VALUES (?, ?, ?, ?)", [8, 3, "x", .null])
            #expect(
                try await store.query("SELECT small, amount, label, seen FROM typed ORDER BY small")
                    == [[7, .double(12.5), "42", "t"], [8, .double(3), "x", .null]]
            )
            let matching = try await store.query(
                "SELECT label FROM typed WHERE small = ? AND amount > ?", [7, .double(12)]
            )
            #expect(matching == [["42"]])
        }
    }

    @Test func placeholdersCanBeNumberedByTheStatement() async throws {
        try await TestPostgres.withFixture { postgres in
            let store = try await postgres.open()
            #expect(try await store.query("SELECT $2::int - $1::int", [1, 10]) == [[9]])
            // With `$n`, a `?` is the jsonb key-exists operator, not a placeholder.
            #expect(try await store.query(#"SELECT '{"a": 1}'::jsonb ? $1"#, ["a"]) == [["t"]])
            // `?` in literals, quoted identifiers, comments and dollar quotes is not a placeholder.
            let rows = try await store.query(
                """
                SELECT '?' AS "?", $$?$$, ? -- ?
                /* ? /* ? */ ? */
                """,
                ["value"]
            )
            #expect(rows == [["?", "?", "value"]])
        }
    }

    @Test func errorsNameTheSQLAndPostgreSQLsMessage() async throws {
        try await TestPostgres.withFixture { postgres in
            let store = try await postgres.open()
            let syntax = await #expect(throws: InboxError.self) { try await store.query("SELEC 1") }
            #expect(syntax?.code == .statement)
            let syntaxMessage = syntax?.message ?? ""
            #expect(syntaxMessage.contains(#"syntax error at or near "SELEC""#), "\(syntaxMessage)")
            #expect(syntaxMessage.contains("SQLSTATE 42601"))
            #expect(syntaxMessage.contains("in: SELEC 1"))

            let count = await #expect(throws: InboxError.self) { try await store.query("SELECT ?, ?", [1]) }
            #expect(count?.code == .statement)
            let countMessage = count?.message ?? ""
            #expect(countMessage.contains("2 `?` placeholders but 1 parameters"), "\(countMessage)")
        }
    }

    @Test func aHandlerThatSwallowsAFailedStatementStillFailsItsEvent() async throws {
        try await TestPostgres.withFixture { postgres in
            let store = try await postgres.open()
            try await store.execute(InboxScenarios.createEffects)
            let group = uniqueGroup()
            let outcomes = try await store.processBatch(group: group, eventIDs: ["e1", "e2", "e3"]) { index, db in
                try db.execute(InboxScenarios.insertEffect, [.text("e\(index + 1)"), .integer(Int64(index))])
                // e2 then writes e1's row again and ignores the error: PostgreSQL has aborted its savepoint.
                if index == 1 { _ = try? db.execute(InboxScenarios.insertEffect, ["e1", 99]) }
            }
            #expect(outcomes.count == 3)
            #expect(outcomes[0] == .processed)
            #expect(outcomes[2] == .processed)
            guard case .failed(let message) = outcomes[1] else {
                Issue.record("e2 should have failed: \(outcomes[1])")
                return
            }
            #expect(message.contains("duplicate key value violates unique constraint"), "\(message)")
            #expect(try await InboxScenarios.effects(store) == [["e1", 0], ["e3", 2]])
            #expect(try await !store.contains(group: group, eventID: "e2"))
        }
    }

    @Test func withDatabaseRunsMigrationScripts() async throws {
        try await TestPostgres.withFixture { postgres in
            let store = try await postgres.open()
            let changed = try await store.withDatabase { db in
                try db.execute(
                    """
                    BEGIN;
                    CREATE TABLE accounts (id text PRIMARY KEY, cents bigint NOT NULL DEFAULT 0);
                    CREATE INDEX accounts_cents ON accounts (cents);
                    INSERT INTO accounts (id) VALUES ('alice'), ('bob');
                    COMMIT;
                    """
                )
            }
            #expect(changed == 0)  // The last statement's count: COMMIT has none.
            #expect(try await store.query("SELECT id, cents FROM accounts ORDER BY id") == [["alice", 0], ["bob", 0]])
        }
    }

    @Test func reconnectsOnceAfterTheServerClosedTheConnection() async throws {
        try await TestPostgres.withFixture { postgres in
            let store = try await postgres.open()
            let group = uniqueGroup()
            _ = try await store.processBatch(group: group, eventIDs: ["e1"]) { _, _ in }

            // Between operations: the next query fails on the dead connection, reconnects, and is repeated.
            try await terminateBackend(of: store, on: postgres.server)
            #expect(try await store.contains(group: group, eventID: "e1"))

            // Before a batch: BEGIN fails, reconnects, and is repeated.
            try await terminateBackend(of: store, on: postgres.server)
            let outcomes = try await store.processBatch(group: group, eventIDs: ["e1", "e2"]) { _, _ in }
            #expect(outcomes == [.duplicate, .processed])

            // And purge.
            try await terminateBackend(of: store, on: postgres.server)
            #expect(try await store.purge(olderThan: .seconds(3600)) == 0)
        }
    }

    @Test func aConnectionLostMidBatchRollsTheBatchBack() async throws {
        try await TestPostgres.withFixture { postgres in
            let store = try await postgres.open()
            try await store.execute(InboxScenarios.createEffects)
            let group = uniqueGroup()
            let pid = try await backendPID(store)
            let error = await #expect(throws: InboxError.self) {
                try await store.processBatch(group: group, eventIDs: ["e1", "e2"]) { index, db in
                    try db.execute(InboxScenarios.insertEffect, [.text("e\(index + 1)"), 1])
                    if index == 0 { try await terminateBackend(pid, on: postgres.server) }
                }
            }
            #expect(error?.code == .commit)
            // The next operation reconnects; nothing of the batch was kept.
            #expect(try await !store.contains(group: group, eventID: "e1"))
            #expect(try await InboxScenarios.effects(store).isEmpty)
        }
    }
}

/// The connection's server process id.
func backendPID(_ store: any InboxUnderTest) async throws -> Int64 {
    try #require(try await store.query("SELECT pg_backend_pid()").first?.first?.integerValue)
}

/// Makes the server close `store`'s connection, as a server restart or an idle-connection reaper would, and waits
/// until its server process has gone.
func terminateBackend(of store: any InboxUnderTest, on server: TestPostgres) async throws {
    try await terminateBackend(try await backendPID(store), on: server)
}

/// Terminates the server process `pid` and waits until it has gone.
func terminateBackend(_ pid: Int64, on server: TestPostgres) async throws {
    #expect(try await server.adminQuery("SELECT pg_terminate_backend(?)", [.integer(pid)]) == [["t"]])
    _ = try await eventually("backend \(pid) has exited") {
        try await server.adminQuery("SELECT 1 FROM pg_stat_activity WHERE pid = ?", [.integer(pid)]).isEmpty
    }
}
