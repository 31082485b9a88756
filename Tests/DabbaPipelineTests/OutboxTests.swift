import DabbaEvents
import DabbaInbox
import DabbaInboxPostgres
import DabbaKafka
import DabbaPipeline
import DabbaTesting
import DabbaTestingPostgres
import Foundation
import Synchronization
import Testing

/// What the outbox tests check on the output topic: every emitted event once, in order per key.
struct OutboxExpectations {
    /// The input events' indexes, `evt-<index>`, each emitting `shipped-evt-<index>` keyed by its order id.
    let count: Int

    var expectedIDs: Set<String> { Set((0..<count).map { "shipped-evt-\($0)" }) }

    /// Records every emitted event arrived once by id, and that per key they are in input order.
    func check(_ records: [TestRecord], sourceLocation: SourceLocation = #_sourceLocation) {
        let ids = records.compactMap(\.eventID)
        #expect(Set(ids) == expectedIDs, "missing: \(expectedIDs.subtracting(ids).sorted().prefix(10))",
                sourceLocation: sourceLocation)
        var seen: [String: Int] = [:]
        for id in ids { seen[id, default: 0] += 1 }
        let twice = seen.filter { $0.value > 1 }.keys.sorted()
        #expect(twice.isEmpty, "emitted events published more than once: \(twice.prefix(10))", sourceLocation: sourceLocation)
        // One key, one partition: its records in offset order must carry increasing input indexes.
        let byKey = Dictionary(grouping: records) { $0.key ?? "" }
        for (key, keyRecords) in byKey {
            let indexes = keyRecords.sorted { $0.offset < $1.offset }.compactMap { record in
                record.eventID.flatMap { Int($0.dropFirst("shipped-evt-".count)) }
            }
            let deduplicated = indexes.reduce(into: [Int]()) { if !$0.contains($1) { $0.append($1) } }
            #expect(deduplicated == deduplicated.sorted(), "key \(key) out of order: \(indexes)", sourceLocation: sourceLocation)
        }
    }
}

@Suite("Transactional outbox", .serialized, .timeLimit(.minutes(6)))
struct OutboxTests {
    static let count = 120

    /// A fixture with the input events written and an output topic for the emitted ones.
    static func prepared(partitions: Int32 = 3) async throws -> (fixture: PipelineFixture, output: String) {
        let fixture = try await PipelineFixture(partitions: partitions, delays: [])
        let output = "\(fixture.topic).shipped"
        try await fixture.broker.createTopic(output, partitions: partitions)
        let events = try fixture.eventProducer()
        try await ProcessTests.produce(events, ids: 0..<count)
        try await events.producer.close()
        return (fixture, output)
    }

    static func depth(_ store: any OutboxStore, group: String) async throws -> Int {
        try await store.outboxStatus(group: group).depth
    }

    // MARK: - SIGKILL at each step

    /// Runs the fixture with outbox mode until it kills itself at `crashPoint`, then restarts it without the fault.
    /// With `structured`, the emitted events are written in CloudEvents structured mode (the id in the value).
    func crashAndRestart(at crashPoint: String, structured: Bool = false) async throws {
        let (fixture, output) = try await Self.prepared()
        let database = ProcessTests.temporaryDatabase()
        let arguments = [
            "--bootstrap", fixture.broker.bootstrapServers, "--topic", fixture.topic, "--group", fixture.group,
            "--inbox", database, "--outbox", "--output", output, "--delay-ms", "5",
        ] + (structured ? ["--structured"] : [])
        let first = try FixtureProcess(arguments: arguments, environment: ["DABBA_TEST_OUTBOX_CRASH": crashPoint])
        _ = try await first.waitForExit(timeout: .seconds(120))
        #expect(first.lines.contains { $0.contains("outbox test crash point \(crashPoint) reached") }, "\(first.lines.suffix(5))")
        let store = try SQLiteInbox(path: database)
        let left = try await store.oldestOutboxRecords(group: fixture.group, limit: 10_000)
        #expect(!left.isEmpty, "the crash left no row in the outbox")
        let handledBefore = try await ProcessTests.effects(in: database).ids.count

        let second = try FixtureProcess(arguments: arguments)
        try await eventually("every event handled and the outbox emptied", timeout: .seconds(150)) {
            let handled = try await ProcessTests.effects(in: database).ids.count
            let depth = try await Self.depth(store, group: fixture.group)
            return handled == Self.count && depth == 0
        }
        second.send(SIGTERM)
        #expect(try await second.waitForExit() == 0)
        let effects = try await ProcessTests.effects(in: database)
        #expect(effects.rows == Self.count, "an effect was applied twice")
        #expect(handledBefore > 0)
        let records = try await fixture.records(on: output, count: Self.count, quietPeriod: .seconds(1))
        OutboxExpectations(count: Self.count).check(records)
        if crashPoint != "before-publish" {
            // The crash window was really hit: rows left in the outbox had reached the topic before the restart.
            let leftIDs = Set(
                left.compactMap { row in
                    EventDecoder.envelope(
                        headers: row.headers.map { KafkaHeader(name: $0.name, value: $0.value) }, value: row.value
                    )?.id
                }
            )
            #expect(!leftIDs.isDisjoint(with: records.compactMap(\.eventID)))
        }
        // Each record is in the mode asked for.
        let structuredRecords = records.filter { $0.header("content-type") == "application/cloudevents+json" }
        #expect(structuredRecords.count == (structured ? records.count : 0))
    }

    @Test("SIGKILL after the database commit, before the relay published: restart publishes every row once, in order")
    func crashBeforePublish() async throws {
        try await crashAndRestart(at: "before-publish")
    }

    @Test("SIGKILL mid-relay (some rows acknowledged, none deleted): restart publishes the rest, none twice")
    func crashMidPublish() async throws {
        try await crashAndRestart(at: "mid-publish")
    }

    @Test("SIGKILL after publish, before delete: restart finds the published rows and does not send them again")
    func crashAfterPublish() async throws {
        try await crashAndRestart(at: "after-publish")
    }

    @Test("the same in structured mode (the event id in the record's value): found, and not sent again")
    func crashAfterPublishStructured() async throws {
        try await crashAndRestart(at: "after-publish", structured: true)
    }

    // MARK: - Broker away

    @Test("broker down: handlers keep committing, the outbox grows, readiness reports the stall; all arrives after")
    func brokerDown() async throws {
        let (fixture, output) = try await Self.prepared()
        let inbox = try SQLiteInbox(path: ProcessTests.temporaryDatabase())
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            // Slow enough that the records fetched before the outage are still being handled during it.
            try await Task.sleep(for: .milliseconds(40))
            try await context.emit(
                OrderShipped(orderID: event.orderID), metadata: EventMetadata(id: "shipped-\(context.envelope.id)")
            )
        }
        var configuration = fixture.configuration()
        configuration.batchSize = 10
        configuration.outbox.enabled = true
        configuration.outbox.pollInterval = .milliseconds(100)
        configuration.outbox.stallThreshold = .seconds(1)
        configuration.consumerProperties["session.timeout.ms"] = "30000"
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: configuration,
            routes: EventRoutes([OrderShipped.eventType: output]), inbox: inbox, logger: quietLogger
        )
        try await withRunning(runner) {
            try await eventually("the first events are handled", timeout: .seconds(90)) {
                runner.metrics.handled.value >= 1
            }
            try await fixture.broker.setBrokerDown(1)
            let handledAtOutage = runner.metrics.handled.value
            try await eventually("handlers keep committing while the broker is down", timeout: .seconds(60)) {
                runner.metrics.handled.value >= handledAtOutage + 20
            }
            try await eventually("the outbox grows", timeout: .seconds(30)) {
                try await Self.depth(inbox, group: fixture.group) >= 20 && runner.metrics.outboxDepth.value >= 20
            }
            try await eventually("readiness reports the stalled relay", timeout: .seconds(30)) {
                !runner.readiness.ready && runner.readiness.reason.contains("stalled")
            }
            #expect(runner.metrics.outboxOldestAge.value >= 1)
            try await fixture.broker.setBrokerUp(1)
            try await eventually("every event handled and the outbox emptied", timeout: .seconds(120)) {
                let depth = try await Self.depth(inbox, group: fixture.group)
                return runner.metrics.handled.value >= Self.count && depth == 0
            }
            try await eventually("ready again", timeout: .seconds(30)) { runner.readiness.ready }
        }
        let records = try await fixture.records(on: output, count: Self.count, quietPeriod: .seconds(1))
        OutboxExpectations(count: Self.count).check(records)
        #expect(runner.metrics.outboxPublished.value == Self.count)
    }

    // MARK: - Options

    @Test("outbox mode is refused without an inbox and with exactly-once, with errors that say why")
    func refusedCombinations() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        var configuration = fixture.configuration()
        configuration.outbox.enabled = true
        let pipeline = Pipeline(service: "orders", groupID: fixture.group)
        #expect {
            _ = try PipelineRunner(pipeline: pipeline, topology: fixture.topology, configuration: configuration)
        } throws: { error in
            "\(error)".contains("configure an inbox")
        }
        configuration.exactlyOnce = true
        configuration.instanceID = "one"
        #expect {
            _ = try PipelineRunner(
                pipeline: pipeline, topology: fixture.topology, configuration: configuration,
                inbox: try SQLiteInbox(path: ":memory:")
            )
        } throws: { error in
            "\(error)".contains("choose one")
        }
    }
}

@Suite(
    "Transactional outbox on PostgreSQL", .serialized, .timeLimit(.minutes(6)),
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason)
)
struct PostgresOutboxTests {
    @Test("two instances share one PostgreSQL outbox: one relay publishes, every emitted event once, order per key")
    func twoInstances() async throws {
        let (fixture, output) = try await OutboxTests.prepared(partitions: 4)
        try await withPostgresSchema("outbox") { server, url in
            func arguments(_ index: Int) -> [String] {
                [
                    "--bootstrap", fixture.broker.bootstrapServers, "--topic", fixture.topic, "--group", fixture.group,
                    "--inbox", url, "--outbox", "--output", output, "--delay-ms", "20", "--instance", "instance-\(index)",
                ]
            }
            let first = try FixtureProcess(arguments: arguments(0))
            try await eventually("the first instance handles events", timeout: .seconds(120)) {
                !first.handledIDs.isEmpty
            }
            // Joins once the first created the tables; takes partitions and shares the outbox.
            let second = try FixtureProcess(arguments: arguments(1))
            try await eventually("both instances handle events", timeout: .seconds(120)) {
                !second.handledIDs.isEmpty || first.handledIDs.count >= OutboxTests.count
            }
            // One relay lock for the group, held by one session: the other instance stands by.
            let holders = "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1 AND granted"
            var holder: Int64?
            try await eventually("one instance holds the relay lock", timeout: .seconds(30)) {
                let rows = try await server.adminQuery(holders)
                holder = rows.first?.first?.integerValue
                return rows.count == 1
            }
            // The relay holder dies: the other instance takes over its relay and its partitions.
            first.send(SIGKILL)
            _ = try await first.waitForExit()
            try await eventually("the other instance took the relay lock over", timeout: .seconds(30)) {
                let rows = try await server.adminQuery(holders)
                return rows.count == 1 && rows.first?.first?.integerValue != holder
            }
            let store = try await PostgresInbox.connect(connectionString: url)
            try await eventually("every event handled and the outbox emptied", timeout: .seconds(180)) {
                let handled = try await store.withDatabase { database in
                    try database.query("SELECT COUNT(DISTINCT event_id) FROM effects").first?.first?.integerValue ?? 0
                }
                let depth = try await OutboxTests.depth(store, group: fixture.group)
                return handled == Int64(OutboxTests.count) && depth == 0
            }
            second.send(SIGTERM)
            #expect(try await second.waitForExit() == 0)
            let records = try await fixture.records(on: output, count: OutboxTests.count, quietPeriod: .seconds(1))
            OutboxExpectations(count: OutboxTests.count).check(records)
        }
    }
}
