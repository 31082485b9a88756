import DabbaInbox
import DabbaInboxPostgres
import DabbaTestingPostgres
import Testing

/// The behaviour every ``OutboxStore`` must have, run against SQLite and PostgreSQL.
enum OutboxScenarios {
    static func record(_ id: String, key: String?, value: [UInt8]? = Array("{}".utf8), partition: Int32? = nil) -> OutboxRecord {
        OutboxRecord(
            topic: "out", partition: partition, key: key.map { Array($0.utf8) }, value: value,
            headers: [OutboxHeader(name: "ce_id", value: Array(id.utf8)), OutboxHeader(name: "empty", value: nil)],
            createdAtMilliseconds: 1_000
        )
    }

    static func outbox(_ fixture: InboxFixture) async throws -> any OutboxStore {
        let store = try await fixture.openStore()
        let outbox = try #require(store as? any OutboxStore)
        try await outbox.prepareOutbox()
        return outbox
    }

    /// Rows commit with their event, roll back with a failed handler and with discarded writes, and read back whole,
    /// in sequence order.
    static func rowsCommitWithTheirEvent(_ fixture: InboxFixture) async throws {
        let store = try await outbox(fixture)
        let group = uniqueGroup()
        let outcomes = try await store.processBatch(group: group, eventIDs: ["a", "b", "c"]) { index, transaction in
            switch index {
            case 0:
                try store.appendToOutbox([record("a1", key: "k"), record("a2", key: nil, value: nil, partition: 2)],
                                         group: group, in: transaction)
            case 1:
                try store.appendToOutbox([record("b1", key: "k")], group: group, in: transaction)
                throw HandlerFailure("b fails")
            default:
                try store.appendToOutbox([record("discarded", key: "k")], group: group, in: transaction)
                try transaction.discardWrites()
                try store.appendToOutbox([record("c1", key: "", value: [])], group: group, in: transaction)
            }
        }
        #expect(outcomes.map { $0 == .processed } == [true, false, true])
        let other = try await outbox(fixture)
        let rows = try await other.oldestOutboxRecords(group: group, limit: 10)
        #expect(rows.compactMap { $0.header("ce_id") } == ["a1", "a2", "c1"])
        #expect(rows.map(\.sequence) == rows.map(\.sequence).sorted())
        #expect(rows[0].key == Array("k".utf8) && rows[0].value == Array("{}".utf8) && rows[0].partition == nil)
        #expect(rows[1].key == nil && rows[1].value == nil && rows[1].partition == 2)
        #expect(rows[2].key == [] && rows[2].value == [])
        #expect(rows[0].headers == [OutboxHeader(name: "ce_id", value: Array("a1".utf8)), OutboxHeader(name: "empty", value: nil)])
        #expect(rows[0].createdAtMilliseconds == 1_000 && rows[0].topic == "out")
        #expect(try await other.outboxStatus(group: group) == OutboxStatus(depth: 3, oldestCreatedAtMilliseconds: 1_000))
        #expect(try await other.oldestOutboxRecords(group: uniqueGroup("other"), limit: 10).isEmpty)
        #expect(try await other.oldestOutboxRecords(group: group, limit: 2).count == 2)
    }

    /// Deleting removes exactly the given sequence numbers; positions are kept when recorded again and only move
    /// forward.
    static func deleteAndPositions(_ fixture: InboxFixture) async throws {
        let store = try await outbox(fixture)
        let group = uniqueGroup()
        _ = try await store.processBatch(group: group, eventIDs: ["a"]) { _, transaction in
            try store.appendToOutbox((1...3).map { record("r\($0)", key: "k") }, group: group, in: transaction)
        }
        let rows = try await store.oldestOutboxRecords(group: group, limit: 10)
        try await store.recordOutboxPositions(group: group, [OutboxPosition(topic: "out", partition: 0, offset: 5)])
        try await store.recordOutboxPositions(group: group, [OutboxPosition(topic: "out", partition: 0, offset: 2)])
        #expect(try await store.outboxPositions(group: group) == [OutboxPosition(topic: "out", partition: 0, offset: 5)])
        try await store.deleteOutboxRecords(
            group: group, sequences: [rows[0].sequence, rows[2].sequence],
            advancing: [OutboxPosition(topic: "out", partition: 0, offset: 9), OutboxPosition(topic: "out", partition: 1, offset: 4)]
        )
        #expect(try await store.oldestOutboxRecords(group: group, limit: 10).compactMap { $0.header("ce_id") } == ["r2"])
        try await store.deleteOutboxRecords(
            group: group, sequences: [], advancing: [OutboxPosition(topic: "out", partition: 0, offset: 7)]
        )
        let positions = try await store.outboxPositions(group: group).sorted { $0.partition < $1.partition }
        #expect(positions == [OutboxPosition(topic: "out", partition: 0, offset: 9), OutboxPosition(topic: "out", partition: 1, offset: 4)])
        #expect(try await store.outboxStatus(group: group).depth == 1)
    }
}

@Suite("Outbox stores")
struct OutboxStoreTests {
    @Test func sqliteRowsCommitWithTheirEvent() async throws {
        try await InboxFixture.sqlite(OutboxScenarios.rowsCommitWithTheirEvent)
    }

    @Test func sqliteDeleteAndPositions() async throws {
        try await InboxFixture.sqlite(OutboxScenarios.deleteAndPositions)
    }

    @Test func headerCodingRoundTripsAndRejectsTruncation() throws {
        let headers = [OutboxHeader(name: "ce_id", value: Array("x".utf8)), OutboxHeader(name: "n", value: nil),
                       OutboxHeader(name: "", value: [])]
        let bytes = OutboxHeaderCoding.encode(headers)
        #expect(try OutboxHeaderCoding.decode(bytes) == headers)
        #expect(throws: InboxError.self) { try OutboxHeaderCoding.decode(Array(bytes.dropLast())) }
        #expect(throws: InboxError.self) { try OutboxHeaderCoding.decode(bytes + [0]) }
        #expect(throws: InboxError.self) { try OutboxHeaderCoding.decode([0xff, 0xff, 0xff, 0xff]) }
    }
}

@Suite(
    "Outbox stores on PostgreSQL",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .postgresServer
)
struct PostgresOutboxStoreTests {
    @Test func rowsCommitWithTheirEvent() async throws {
        try await InboxFixture.postgres(OutboxScenarios.rowsCommitWithTheirEvent)
    }

    @Test func deleteAndPositions() async throws {
        try await InboxFixture.postgres(OutboxScenarios.deleteAndPositions)
    }

    @Test("one relay per group: a second connection stands by until the holder's session ends")
    func relayLockIsExclusive() async throws {
        try await InboxFixture.postgres { fixture in
            let group = uniqueGroup()
            var first: (any OutboxStore)? = try await OutboxScenarios.outbox(fixture)
            let second = try await OutboxScenarios.outbox(fixture)
            #expect(try await first?.acquireOutboxRelay(group: group) == true)
            #expect(try await first?.acquireOutboxRelay(group: group) == true)
            #expect(try await second.acquireOutboxRelay(group: group) == false)
            #expect(try await second.acquireOutboxRelay(group: uniqueGroup("other")) == true)
            first = nil
            try await waitUntil { try await second.acquireOutboxRelay(group: group) }
        }
    }

    /// Polls until `condition` holds (a closed connection's session ends on the server shortly after).
    func waitUntil(_ condition: () async throws -> Bool) async throws {
        for _ in 0..<100 {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the condition did not hold within 10 s")
    }
}
