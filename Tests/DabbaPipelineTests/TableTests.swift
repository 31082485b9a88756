import DabbaEvents
import DabbaInbox
import DabbaInboxPostgres
import DabbaKafka
import DabbaPipeline
import DabbaTestingPostgres
import Foundation
import Synchronization
import MetricsTestKit
import Testing

struct DriverMoved: Event, Equatable {
    static let eventType = "test.driver.moved"
    var driverID: String
    var zone: String
    var partitionKey: String? { driverID }
}

struct DriverWentOffline: Event, Equatable {
    static let eventType = "test.driver.offline"
    var driverID: String
    var partitionKey: String? { driverID }
}

struct RideRequested: Event, Equatable {
    static let eventType = "test.ride.requested"
    var rideID: String
    var zone: String
    var partitionKey: String? { rideID }
}

struct DriverLocation: Codable, Sendable, Equatable {
    var zone: String
}

let driverLocations = Table<DriverLocation>("driver-locations")

extension Pipeline {
    /// Keeps `driverLocations`: a move sets the driver's zone, going offline deletes the driver.
    mutating func keepDriverLocations() {
        table(driverLocations, from: DriverMoved.self) { .put($0.driverID, DriverLocation(zone: $0.zone)) }
        table(driverLocations, from: DriverWentOffline.self) { .delete($0.driverID) }
    }
}

/// A broker topic for the driver events, and a producer routing them there.
struct TableFixture {
    let base: PipelineFixture
    let events: EventProducer

    init(deadLetter: Bool = false) async throws {
        // One partition: the events are handled in the order they are sent.
        base = try await PipelineFixture(partitions: 1, delays: [], deadLetter: deadLetter)
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: base.broker.bootstrapServers), logger: quietLogger
        )
        let topic = base.topic
        events = EventProducer(
            producer: producer, source: "/test",
            routes: EventRoutes([
                DriverMoved.eventType: topic, DriverWentOffline.eventType: topic, RideRequested.eventType: topic,
            ])
        )
    }

    func runner(_ pipeline: Pipeline, inbox: any InboxStore) throws -> PipelineRunner {
        try PipelineRunner(
            pipeline: pipeline, topology: base.topology, configuration: base.configuration(), inbox: inbox,
            metrics: PipelineMetrics(service: pipeline.service, factory: TestMetrics()), logger: quietLogger
        )
    }

    func move(_ driver: String, to zone: String, id: String) async throws {
        try await events.send(DriverMoved(driverID: driver, zone: zone), metadata: EventMetadata(id: id))
    }

    func offline(_ driver: String, id: String) async throws {
        try await events.send(DriverWentOffline(driverID: driver), metadata: EventMetadata(id: id))
    }

    func request(_ ride: String, in zone: String) async throws {
        try await events.send(RideRequested(rideID: ride, zone: zone), metadata: EventMetadata(id: ride))
    }
}

/// What handlers saw, by event id.
final class Seen: Sendable {
    private let values = Mutex<[String: String]>([:])
    func record(_ id: String, _ value: String) { values.withLock { $0[id] = value } }
    subscript(_ id: String) -> String? { values.withLock { $0[id] } }
}

@Suite("Tables", .timeLimit(.minutes(3)))
struct TableTests {
    @Test("changes of one key within a batch are conflated into one write; a tombstone deletes the key")
    func conflationAndTombstones() async throws {
        let fixture = try await TableFixture()
        let inbox = RecordingInbox(try SQLiteInbox(path: ":memory:"))
        var pipeline = Pipeline(service: "dispatch", groupID: fixture.base.group)
        pipeline.keepDriverLocations()
        // Sent before the runner starts, so the batches hold several changes of each key. Ids are "<driver>-<n>".
        for step in 1...6 { try await fixture.move("d1", to: "z\(step)", id: "d1-\(step)") }
        for step in 1...3 { try await fixture.move("d2", to: "z\(step)", id: "d2-\(step)") }
        try await fixture.move("d3", to: "z1", id: "d3-1")
        try await fixture.offline("d3", id: "d3-2")
        try await fixture.move("d2", to: "z9", id: "d2-4")
        let runner = try fixture.runner(pipeline, inbox: inbox)
        try await withRunning(runner) {
            try await eventually("every change is handled") { runner.metrics.handled.value == 12 }
        }
        let entries = try await driverLocations.entries(group: fixture.base.group, in: inbox.inner)
        #expect(entries.map(\.key) == ["d1", "d2"])
        #expect(entries.map(\.value) == [DriverLocation(zone: "z6"), DriverLocation(zone: "z9")])
        // One row write (upsert or delete) per key per transaction, whatever the fetches' sizes.
        let batches = inbox.batches.withLock { $0 }
        let keysPerBatch = batches.map { ids in Set(ids.map { id in id.prefix { $0 != "-" } }).count }
        #expect(runner.tableUpdates(driverLocations.name) == 12)
        #expect(runner.tableWrites(driverLocations.name) == keysPerBatch.reduce(0, +))
        #expect(runner.tableWrites(driverLocations.name) < 12, "no batch held two changes of one key: \(batches)")
        #expect(
            (runner.metrics.factory as? TestMetrics)?.counterTotal(
                label: "dabba_table_updates_total", dimensions: [("service", "dispatch"), ("table", "driver-locations")]
            ) == 12
        )
        try await fixture.events.producer.close()
    }

    @Test("handlers read the latest committed value and the earlier changes of their own transaction")
    func readsInHandlers() async throws {
        let fixture = try await TableFixture()
        let inbox = try SQLiteInbox(path: ":memory:")
        let seen = Seen()
        var pipeline = Pipeline(service: "dispatch", groupID: fixture.base.group)
        pipeline.keepDriverLocations()
        pipeline.on(DriverMoved.self) { moved, context in
            // Its own change applies after it: the handler sees where the driver was.
            let previous = try context.table(driverLocations).get(moved.driverID)
            seen.record(context.envelope.id, previous?.zone ?? "none")
        }
        pipeline.on(RideRequested.self) { request, context in
            let drivers = try context.table(driverLocations).scan().filter { $0.value.zone == request.zone }
            seen.record(request.rideID, drivers.map(\.key).joined(separator: ","))
            do {
                _ = try context.table(Table<DriverLocation>("undeclared"))
            } catch let error as TableError {
                seen.record("\(request.rideID)-undeclared", "\(error.code)")
            }
        }
        let runner = try fixture.runner(pipeline, inbox: inbox)
        try await withRunning(runner) {
            try await fixture.move("d1", to: "z1", id: "m1")
            try await fixture.move("d2", to: "z1", id: "m2")
            try await eventually("the first moves are committed") { runner.metrics.handled.value == 2 }
            try await fixture.request("r1", in: "z1")
            try await fixture.move("d1", to: "z2", id: "m3")
            try await fixture.request("r2", in: "z1")
            try await fixture.offline("d2", id: "off")
            try await fixture.request("r3", in: "z1")
            try await fixture.request("r4", in: "z2")
            try await eventually("every event is handled") { runner.metrics.handled.value == 8 }
        }
        #expect(seen["m1"] == "none")
        #expect(seen["m2"] == "none")
        #expect(seen["m3"] == "z1")
        #expect(seen["r1"] == "d1,d2")
        #expect(seen["r2"] == "d2")
        #expect(seen["r3"] == "")
        #expect(seen["r4"] == "d1")
        #expect(seen["r1-undeclared"] == "undeclared")
        try await fixture.events.producer.close()
    }

    @Test("a redelivered event, a failed event and a failed attempt change the table once, not at all, and once")
    func redeliveryAndFailures() async throws {
        let fixture = try await TableFixture(deadLetter: true)
        let inbox = try SQLiteInbox(path: ":memory:")
        let attempts = Mutex(0)
        var pipeline = Pipeline(service: "dispatch", groupID: fixture.base.group)
        pipeline.keepDriverLocations()
        pipeline.on(DriverMoved.self) { moved, _ in
            if moved.driverID == "bad" { throw PermanentError(HandlerFailure("no such driver")) }
            if moved.driverID == "d2" {
                let attempt = attempts.withLock { count in
                    count += 1
                    return count
                }
                if attempt == 1 { throw TransientError(HandlerFailure("timeout")) }
            }
        }
        try await fixture.move("d1", to: "z1", id: "m1")
        // An upstream retry: the same event again.
        try await fixture.move("d1", to: "z1", id: "m1")
        try await fixture.move("bad", to: "z1", id: "m-bad")
        try await fixture.move("d2", to: "z2", id: "m2")
        let runner = try fixture.runner(pipeline, inbox: inbox)
        try await withRunning(runner) {
            try await eventually("every record is done") {
                runner.metrics.handled.value == 2 && runner.metrics.duplicates.value == 1
                    && runner.metrics.deadLettered.value == 1
            }
        }
        let entries = try await driverLocations.entries(group: fixture.base.group, in: inbox)
        #expect(entries.map(\.key) == ["d1", "d2"])
        #expect(runner.tableUpdates(driverLocations.name) == 2)
        #expect(runner.metrics.retriedInPlace.value == 1)
        try await fixture.events.producer.close()
    }

    @Test("after a restart the table is read from the store: nothing is read again from the topic")
    func restoredAfterRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tables-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("inbox.sqlite").path
        try await Self.restoresAfterRestart { try SQLiteInbox(path: path) }
    }

    /// Two runners one after the other, each on a new connection to the same database: the second reads what the
    /// first wrote, and applies nothing again.
    static func restoresAfterRestart(_ openInbox: () async throws -> any InboxStore) async throws {
        let fixture = try await TableFixture()
        let seen = Seen()
        var pipeline = Pipeline(service: "dispatch", groupID: fixture.base.group)
        pipeline.keepDriverLocations()
        pipeline.on(RideRequested.self) { request, context in
            let drivers = try context.table(driverLocations).scan().filter { $0.value.zone == request.zone }
            seen.record(request.rideID, drivers.map(\.key).joined(separator: ","))
        }
        do {
            let first = try fixture.runner(pipeline, inbox: try await openInbox())
            try await fixture.move("d1", to: "z1", id: "m1")
            try await fixture.move("d2", to: "z1", id: "m2")
            try await fixture.move("d3", to: "z2", id: "m3")
            try await fixture.offline("d2", id: "off")
            try await withRunning(first) {
                try await eventually("the first instance handles the changes") { first.metrics.handled.value == 4 }
            }
            #expect(first.tableUpdates(driverLocations.name) == 4)
        }
        let inbox = try await openInbox()
        let second = try fixture.runner(pipeline, inbox: inbox)
        try await withRunning(second) {
            try await fixture.request("r1", in: "z1")
            try await eventually("the restarted instance handles the request") { second.metrics.handled.value == 1 }
        }
        #expect(seen["r1"] == "d1")
        #expect(second.tableUpdates(driverLocations.name) == 0, "the restarted instance applied changes again")
        #expect(second.metrics.duplicates.value == 0, "the restarted instance read the changes again")
        let entries = try await driverLocations.entries(group: fixture.base.group, in: inbox)
        #expect(entries.map(\.key) == ["d1", "d3"])
        #expect(entries.map(\.value) == [DriverLocation(zone: "z1"), DriverLocation(zone: "z2")])
        try await fixture.events.producer.close()
    }

    @Test("a pipeline with tables is refused without an inbox, and a table with two value types is refused")
    func refusals() throws {
        let topology = PipelineTopology(mainTopics: ["drivers"], retryTiers: [:], deadLetterTopics: [:])
        let configuration = PipelineConfiguration(client: ClientConfiguration(bootstrap: "127.0.0.1:1"))
        var pipeline = Pipeline(service: "dispatch", groupID: "dispatch")
        pipeline.keepDriverLocations()
        #expect(pipeline.handledEventTypes == [DriverMoved.eventType, DriverWentOffline.eventType])
        #expect(pipeline.tableNames == ["driver-locations"])
        let noInbox = #expect(throws: PipelineError.self) {
            _ = try PipelineRunner(
                pipeline: pipeline, topology: topology, configuration: configuration, logger: quietLogger
            )
        }
        #expect(noInbox?.code == .configuration)
        #expect(noInbox?.message.contains("configure an inbox") == true)
        #expect(noInbox?.message.contains("driver-locations") == true)

        pipeline.table(Table<String>("driver-locations"), from: RideRequested.self) { .put($0.rideID, $0.zone) }
        let twoTypes = #expect(throws: PipelineError.self) {
            _ = try PipelineRunner(
                pipeline: pipeline, topology: topology, configuration: configuration,
                inbox: try SQLiteInbox(path: ":memory:"), logger: quietLogger
            )
        }
        #expect(twoTypes?.message.contains("2 value types") == true)
    }
}

@Suite(
    "Tables on PostgreSQL", .timeLimit(.minutes(3)),
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason)
)
struct PostgresTableTests {
    @Test("the table lives in PostgreSQL: a new runner on a new connection reads it without reading the topic again")
    func restoredAfterRestart() async throws {
        try await withPostgresSchema("tables") { _, url in
            try await TableTests.restoresAfterRestart { try await PostgresInbox.connect(connectionString: url) }
        }
    }
}
