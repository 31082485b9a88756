import DabbaEvents
import DabbaKafka
import Foundation
import Testing

/// The fixture service (Tests/Fixtures/PipelineFixture) with its fake bank down while a file exists.
@Suite("Circuit breakers in real processes", .serialized, .timeLimit(.minutes(6)))
struct BreakerProcessTests {
    struct Handled: Equatable {
        var id: String
        var partition: Int
        var offset: Int64
    }

    /// The `handled ID partition P offset O` lines of a fixture, in order.
    static func handled(_ lines: [String]) -> [Handled] {
        lines.compactMap { line in
            let parts = line.split(separator: " ")
            guard parts.count >= 6, parts[0] == "handled", let partition = Int(parts[3]), let offset = Int64(parts[5])
            else { return nil }
            return Handled(id: String(parts[1]), partition: partition, offset: offset)
        }
    }

    static func expectInOrderPerPartition(_ handled: [Handled]) {
        for partition in Set(handled.map(\.partition)) {
            let offsets = handled.filter { $0.partition == partition }.map(\.offset)
            #expect(offsets == offsets.sorted(), "order of partition \(partition)")
        }
    }

    static func temporaryPath(_ suffix: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("dabba-\(UUID().uuidString)\(suffix)").path
    }

    func arguments(_ fixture: PipelineFixture, inbox: String, downFile: String, breaker: String) -> [String] {
        [
            "--bootstrap", fixture.broker.bootstrapServers, "--topic", fixture.topic, "--group", fixture.group,
            "--inbox", inbox, "--dependency-down-file", downFile, "--breaker", breaker,
            "--retry-topic", "\(fixture.topic).\(fixture.group).retry.1",
            "--dead-letter-topic", fixture.deadLetterTopic,
        ]
    }

    /// The dependency fails every call for 10 s, then recovers. Returns how long after the recovery handling resumed.
    @Test(
        "a dependency down for 10 s: nothing retried or dead-lettered, no rebalance, each event handled once, in order",
        arguments: [("none", "partition"), ("sqlite", "consumer")]
    )
    func tenSecondOutage(inbox: String, scope: String) async throws {
        let fixture = try await PipelineFixture(partitions: 3, delays: [.seconds(1)])
        let events = try fixture.eventProducer()
        let count = 90
        try await ProcessTests.produce(events, ids: 0..<count)
        let downFile = Self.temporaryPath(".down")
        _ = FileManager.default.createFile(atPath: downFile, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: downFile) }
        let database = inbox == "none" ? "none" : ProcessTests.temporaryDatabase()
        let clock = ContinuousClock()
        let outageStart = clock.now
        let service = try FixtureProcess(
            arguments: arguments(
                fixture, inbox: database, downFile: downFile,
                breaker: "bank:consecutive-failures=3,open=1s,max-open=4s,scope=\(scope)"
            )
        )
        try await eventually("the breaker opens", timeout: .seconds(90)) {
            service.lines.contains { $0.contains("circuit breaker bank opened") }
        }
        #expect(service.handledIDs.isEmpty)
        try await Task.sleep(until: outageStart + .seconds(10), clock: clock)
        #expect(service.handledIDs.isEmpty)
        try FileManager.default.removeItem(atPath: downFile)
        let recovered = clock.now
        try await eventually("handling resumes", timeout: .seconds(60)) { !service.handledIDs.isEmpty }
        let resumedAfter = clock.now - recovered
        try await eventually("every event is handled", timeout: .seconds(120)) {
            Set(service.handledIDs).count == count
        }
        // Leaving the group at shutdown revokes too: only what happened before it counts.
        let linesBeforeStop = service.lines
        service.send(SIGTERM)
        #expect(try await service.waitForExit() == 0)
        // The figure the documentation states (max-open 4 s, jitter ±20 %: at most about 5 s plus a fetch).
        print("breaker (\(inbox), \(scope) scope): handling resumed \(resumedAfter) after the dependency recovered")
        #expect(resumedAfter < .seconds(30))
        let handled = Self.handled(service.lines)
        #expect(handled.map(\.id).sorted() == (0..<count).map { "evt-\($0)" }.sorted(), "each event exactly once")
        Self.expectInOrderPerPartition(handled)
        #expect(!linesBeforeStop.contains { $0.hasPrefix("revoked") }, "the member left the group")
        #expect(linesBeforeStop.filter { $0.hasPrefix("assigned") }.count == 1)
        if database != "none" {
            let effects = try await ProcessTests.effects(in: database)
            #expect(effects.rows == count)
        }
        let retried = try await fixture.records(on: "\(fixture.topic).\(fixture.group).retry.1", count: 0)
        let deadLettered = try await fixture.records(on: fixture.deadLetterTopic, count: 0)
        #expect(retried.isEmpty, "events were sent to the retry tier")
        #expect(deadLettered.isEmpty, "events were dead-lettered")
        try await events.producer.close()
    }

    @Test("a second member joins while the breaker is open: the partitions assigned start paused, nothing is lost")
    func rebalanceWhileOpen() async throws {
        let fixture = try await PipelineFixture(partitions: 4, delays: [.seconds(1)])
        let events = try fixture.eventProducer()
        let count = 80
        try await ProcessTests.produce(events, ids: 0..<count)
        let downFile = Self.temporaryPath(".down")
        _ = FileManager.default.createFile(atPath: downFile, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: downFile) }
        let databases = [ProcessTests.temporaryDatabase(), ProcessTests.temporaryDatabase()]
        // A long open period without jitter: the rebalance happens while it is open. The embedded broker completes
        // a rebalance a second short of the session timeout (the fixture's: 20 s) after the second member joins, and
        // that member takes a few seconds to start on a loaded machine: 45 s leaves a margin.
        let breaker = "bank:consecutive-failures=3,open=45s,multiplier=1,jitter=0"
        func start(_ index: Int) throws -> FixtureProcess {
            try FixtureProcess(
                arguments: arguments(fixture, inbox: databases[index], downFile: downFile, breaker: breaker)
                    + ["--instance", "instance-\(index)"]
            )
        }
        let first = try start(0)
        try await eventually("the first member's breaker opens", timeout: .seconds(90)) {
            first.lines.contains { $0.contains("circuit breaker bank opened") }
        }
        let second = try start(1)
        try await eventually("the first member is assigned again", timeout: .seconds(90)) {
            first.lines.filter { $0.hasPrefix("assigned") }.count >= 2
        }
        let reassigned = first.lines.filter { $0.hasPrefix("assigned") }.dropFirst()
        let whileOpen = reassigned.filter { $0.hasSuffix("breaker open") }
        #expect(!whileOpen.isEmpty, "the rebalance finished after the open period: \(Array(reassigned))")
        for line in whileOpen {
            // "assigned 0,2 paused 0,2 breaker open"
            let parts = line.split(separator: " ")
            #expect(parts.count == 6 && parts[1] == parts[3], "a new partition started unpaused: \(line)")
        }
        try FileManager.default.removeItem(atPath: downFile)
        try await eventually("every event has its effect", timeout: .seconds(150)) {
            let a = try await ProcessTests.effects(in: databases[0]).ids
            let b = try await ProcessTests.effects(in: databases[1]).ids
            return a.union(b).count == count
        }
        first.send(SIGTERM)
        second.send(SIGTERM)
        #expect(try await first.waitForExit() == 0)
        #expect(try await second.waitForExit() == 0)
        let a = try await ProcessTests.effects(in: databases[0])
        let b = try await ProcessTests.effects(in: databases[1])
        #expect(a.ids.union(b.ids) == Set((0..<count).map { "evt-\($0)" }))
        #expect(a.rows + b.rows == count, "an effect was applied twice: \(a.rows) + \(b.rows)")
        let retried = try await fixture.records(on: "\(fixture.topic).\(fixture.group).retry.1", count: 0)
        let deadLettered = try await fixture.records(on: fixture.deadLetterTopic, count: 0)
        #expect(retried.isEmpty && deadLettered.isEmpty)
        try await events.producer.close()
    }
}
