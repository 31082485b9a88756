import DabbaInbox
import DabbaInboxPostgres
import DabbaKafka
import DabbaTestingPostgres
import Foundation
import Testing

@testable import DabbaPipeline

/// The timers table's SQL, run on both stores: replace by id, take only the scheduled firing, pages by due time of
/// the owned partitions.
enum TimerStoreScenarios {
    static func timer(_ key: String, _ id: String, due: Int64, partition: Int32 = 0, eventID: String? = nil) -> StoredTimer {
        StoredTimer(
            topic: "orders", partition: partition, key: key, id: id, dueMilliseconds: due,
            eventID: eventID ?? "\(key)-\(id)-\(due)", value: Array("{\"k\":\"\(key)\"}".utf8),
            headers: [OutboxHeader(name: "ce_id", value: Array("x".utf8)), OutboxHeader(name: "empty", value: nil)]
        )
    }

    static func run(_ inbox: any InboxStore) async throws {
        try await inbox.migrate(TimerStore.schema)
        try await inbox.migrate(TimerStore.schema)  // idempotent
        let group = "g-\(UUID().uuidString.prefix(8))"
        let owned: Set<TopicPartition> = [TopicPartition(topic: "orders", partition: 0)]
        try await inbox.withConnection { database in
            for timer in [
                timer("a", "t1", due: 300), timer("a", "t2", due: 100), timer("b", "t1", due: 200),
                timer("c", "t1", due: 50, partition: 1), timer("a", "late", due: 10_000),
            ] {
                try TimerStore.upsert(timer, group: group, in: database)
            }
            // Rescheduling replaces: same key and id, new due time and event.
            try TimerStore.upsert(timer("b", "t1", due: 150, eventID: "b-moved"), group: group, in: database)
        }
        let page = try await inbox.withConnection { database in
            try TimerStore.duePage(group: group, partitions: owned, now: 1_000, limit: 10, in: database)
        }
        #expect(page.map { "\($0.key)/\($0.id)@\($0.dueMilliseconds)" } == ["a/t2@100", "b/t1@150", "a/t1@300"])
        #expect(page[1].eventID == "b-moved")
        #expect(page[0].headers == timer("a", "t2", due: 100).headers)
        #expect(page[0].value == timer("a", "t2", due: 100).value)
        let limited = try await inbox.withConnection { database in
            try TimerStore.duePage(group: group, partitions: owned, now: 1_000, limit: 2, in: database)
        }
        #expect(limited.count == 2)
        let moved = page[1]
        let changes = try await inbox.withConnection { database -> [Bool] in
            [
                try TimerStore.take(timer("b", "t1", due: 200), group: group, in: database),
                try TimerStore.take(moved, group: group, in: database),
                try TimerStore.take(moved, group: group, in: database),
                try TimerStore.delete(group: group, topic: "orders", partition: 0, key: "a", id: "t1", in: database),
                try TimerStore.delete(group: group, topic: "orders", partition: 0, key: "a", id: "t1", in: database),
            ]
        }
        // The replaced firing is not taken; the current one is, once; a delete finds the timer once.
        #expect(changes == [false, true, false, true, false])
        let late = try await inbox.withConnection { database in
            try TimerStore.dueMilliseconds(group: group, topic: "orders", partition: 0, key: "a", id: "late", in: database)
        }
        #expect(late == 10_000)
        let rest = try await inbox.withConnection { database in
            try TimerStore.duePage(group: group, partitions: owned, now: 1_000, limit: 10, in: database)
        }
        #expect(rest.map(\.id) == ["t2"])
        let otherGroup = try await inbox.withConnection { database in
            try TimerStore.duePage(group: "other", partitions: owned, now: 1_000_000, limit: 10, in: database)
        }
        #expect(otherGroup.isEmpty)
    }
}

@Suite("Timer store on SQLite")
struct SQLiteTimerStoreTests {
    @Test("replace by id, take only the scheduled firing, pages by due time of owned partitions")
    func scenarios() async throws {
        try await TimerStoreScenarios.run(try SQLiteInbox(path: ":memory:"))
    }
}

@Suite(
    "Timer store on PostgreSQL",
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason),
    .postgresServer
)
struct PostgresTimerStoreTests {
    @Test("replace by id, take only the scheduled firing, pages by due time of owned partitions")
    func scenarios() async throws {
        try await TestPostgres.withFixture { fixture in
            try await TimerStoreScenarios.run(try await fixture.open())
        }
    }
}
