import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import Foundation
import Testing

/// SIGKILL around a timer's schedule, with the fixture service as a real process on the embedded broker.
@Suite("Durable timers across crashes", .serialized, .timeLimit(.minutes(5)))
struct TimerProcessTests {
    /// Rows of the fixture's timer effects (event ids, and the scheduling event of each), and pending timers.
    static func timerState(in path: String) async throws -> (fired: [String], scheduledBy: Set<String>, pending: Int) {
        let database = try SQLiteInbox(path: path)
        return try await database.withDatabase { database in
            let rows = try database.query("SELECT event_id, scheduled_by FROM timer_effects")
            let pending = try database.query("SELECT COUNT(*) FROM dabba_timers").first?.first?.integerValue ?? -1
            return (
                rows.compactMap { $0.first?.textValue }, Set(rows.compactMap { $0.last?.textValue }), Int(pending)
            )
        }
    }

    /// One event per order, so each key has exactly one "hold" timer.
    static func produceOneEventPerOrder(_ fixture: PipelineFixture, count: Int) async throws {
        let events = try fixture.eventProducer()
        for index in 0..<count {
            try await events.enqueue(
                OrderPlaced(orderID: "order-\(index)", amount: index), metadata: EventMetadata(id: "evt-\(index)")
            )
        }
        try await events.producer.flush()
        try await events.producer.close()
    }

    @Test("SIGKILL between scheduling and the commit: the timer is not kept; the redelivered event's timer fires once")
    func killBeforeCommit() async throws {
        let fixture = try await PipelineFixture(partitions: 2, delays: [])
        try await Self.produceOneEventPerOrder(fixture, count: 10)
        let database = ProcessTests.temporaryDatabase()
        let arguments = [
            "--bootstrap", fixture.broker.bootstrapServers, "--topic", fixture.topic, "--group", fixture.group,
            "--inbox", database, "--timer-after-ms", "300",
        ]
        // Dies after the first batch's handlers scheduled their timers, before the inbox transaction commits.
        let first = try FixtureProcess(arguments: arguments + ["--kill-before-commit-after", "1"])
        _ = try await first.waitForExit(timeout: .seconds(120))
        #expect(first.lines.contains("killing before the inbox commit"), "\(first.lines.suffix(5))")
        #expect(!first.handledIDs.isEmpty)
        let afterCrash = try await Self.timerState(in: database)
        #expect(afterCrash.pending == 0, "a timer scheduled in the rolled-back transaction was kept")
        #expect(afterCrash.fired.isEmpty)

        let second = try FixtureProcess(arguments: arguments)
        try await eventually("every event's timer fires", timeout: .seconds(150)) {
            try await Self.timerState(in: database).fired.count >= 10
        }
        // Time for a wrong second firing to show.
        try await Task.sleep(for: .seconds(1))
        second.send(SIGTERM)
        #expect(try await second.waitForExit() == 0)
        let final = try await Self.timerState(in: database)
        #expect(final.fired.count == 10, "a timer fired more than once: \(final.fired.count)")
        #expect(Set(final.fired).count == 10)
        #expect(final.scheduledBy == Set((0..<10).map { "evt-\($0)" }))
        #expect(final.pending == 0)
    }

    @Test("SIGKILL after the commit: the stored timers fire once each after the restart")
    func killAfterCommit() async throws {
        let fixture = try await PipelineFixture(partitions: 2, delays: [])
        try await Self.produceOneEventPerOrder(fixture, count: 10)
        let database = ProcessTests.temporaryDatabase()
        let arguments = [
            "--bootstrap", fixture.broker.bootstrapServers, "--topic", fixture.topic, "--group", fixture.group,
            "--inbox", database,
        ]
        // Due long after the kill below, however slow the machine: the timers outlive the first process.
        let first = try FixtureProcess(arguments: arguments + ["--timer-after-ms", "4000"])
        try await eventually("every event is handled and its timer stored", timeout: .seconds(120)) {
            // The process creates its tables after it started: until then there is nothing to count.
            guard let handled = try? await ProcessTests.effects(in: database).ids.count,
                let pending = try? await Self.timerState(in: database).pending
            else { return false }
            return handled == 10 && pending == 10
        }
        first.send(SIGKILL)
        _ = try await first.waitForExit()
        let beforeRestart = try await Self.timerState(in: database)
        let firedBeforeKill = beforeRestart.fired.count
        #expect(firedBeforeKill + beforeRestart.pending == 10)

        // Restarted without scheduling anything new: only the stored timers can fire.
        let second = try FixtureProcess(arguments: arguments)
        try await eventually("the stored timers fire after the restart", timeout: .seconds(150)) {
            try await Self.timerState(in: database).fired.count >= 10
        }
        try await Task.sleep(for: .seconds(1))
        second.send(SIGTERM)
        #expect(try await second.waitForExit() == 0)
        let final = try await Self.timerState(in: database)
        #expect(final.fired.count == 10, "a timer fired more than once or not at all: \(final.fired.count)")
        #expect(Set(final.fired).count == 10)
        #expect(final.scheduledBy == Set((0..<10).map { "evt-\($0)" }))
        #expect(final.pending == 0)
        #expect(second.lines.filter { $0.hasPrefix("timer ") }.count == 10 - firedBeforeKill)
    }
}
