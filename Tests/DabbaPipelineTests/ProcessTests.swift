import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import Foundation
import Testing

@Suite("Pipelines as real processes", .serialized, .timeLimit(.minutes(4)))
struct ProcessTests {
    /// Distinct event ids and total rows in a fixture's effects table.
    static func effects(in path: String) async throws -> (rows: Int, ids: Set<String>) {
        let database = try SQLiteInbox(path: path)
        return try await database.withDatabase { database in
            let rows = try database.query("SELECT event_id FROM effects")
            return (rows.count, Set(rows.compactMap { $0.first?.textValue }))
        }
    }

    static func temporaryDatabase() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dabba-\(UUID().uuidString).sqlite").path
    }

    static func produce(_ events: EventProducer, ids: Range<Int>) async throws {
        for index in ids {
            try await events.enqueue(
                OrderPlaced(orderID: "order-\(index % 37)", amount: index), metadata: EventMetadata(id: "evt-\(index)")
            )
        }
        try await events.producer.flush()
    }

    @Test("SIGKILL mid-batch, then restart: every event processed, each effect exactly once (SQLite inbox)")
    func crashAndRestart() async throws {
        let fixture = try await PipelineFixture(partitions: 3, delays: [])
        let events = try fixture.eventProducer()
        try await Self.produce(events, ids: 0..<300)
        let database = Self.temporaryDatabase()
        let arguments = [
            "--bootstrap", fixture.broker.bootstrapServers, "--topic", fixture.topic, "--group", fixture.group,
            "--inbox", database, "--delay-ms", "30",
        ]
        // The fixture kills itself inside the batch that handles its 100th event, whatever the load on this machine.
        let first = try FixtureProcess(arguments: arguments + ["--kill-after-handling", "100"])
        _ = try await first.waitForExit(timeout: .seconds(180))
        #expect(first.handledIDs.count == 100)
        let beforeCrash = try await Self.effects(in: database)
        #expect(beforeCrash.rows == beforeCrash.ids.count, "duplicate effects before the crash")
        #expect(beforeCrash.rows < 300)

        let second = try FixtureProcess(arguments: arguments)
        try await eventually("every event has its effect", timeout: .seconds(150)) {
            try await Self.effects(in: database).ids.count == 300
        }
        second.send(SIGTERM)
        #expect(try await second.waitForExit() == 0)
        let final = try await Self.effects(in: database)
        #expect(final.ids == Set((0..<300).map { "evt-\($0)" }))
        #expect(final.rows == 300, "an effect was applied twice")
        try await events.producer.close()
    }

    @Test("two instances split the partitions; SIGTERM on one loses nothing and duplicates no effect")
    func scaleOutAndGracefulStop() async throws {
        let fixture = try await PipelineFixture(partitions: 4, delays: [])
        let events = try fixture.eventProducer()
        let databases = [Self.temporaryDatabase(), Self.temporaryDatabase()]
        func arguments(_ index: Int) -> [String] {
            [
                "--bootstrap", fixture.broker.bootstrapServers, "--topic", fixture.topic, "--group", fixture.group,
                "--inbox", databases[index], "--delay-ms", "5", "--instance", "instance-\(index)",
            ]
        }
        let first = try FixtureProcess(arguments: arguments(0))
        let second = try FixtureProcess(arguments: arguments(1))
        try await Self.produce(events, ids: 0..<300)
        try await eventually("both instances handle events", timeout: .seconds(120)) {
            !first.handledIDs.isEmpty && !second.handledIDs.isEmpty
        }
        first.send(SIGTERM)
        #expect(try await first.waitForExit() == 0)
        #expect(first.lines.contains("stopped"))
        try await Self.produce(events, ids: 300..<400)
        try await eventually("every event has its effect", timeout: .seconds(150)) {
            let a = try await Self.effects(in: databases[0]).ids
            let b = try await Self.effects(in: databases[1]).ids
            return a.union(b).count == 400
        }
        second.send(SIGTERM)
        #expect(try await second.waitForExit() == 0)
        let a = try await Self.effects(in: databases[0])
        let b = try await Self.effects(in: databases[1])
        #expect(a.ids.union(b.ids) == Set((0..<400).map { "evt-\($0)" }))
        #expect(a.rows + b.rows == 400, "an effect was applied twice: \(a.rows) + \(b.rows)")
        try await events.producer.close()
    }
}
