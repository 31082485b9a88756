import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import Foundation
import Synchronization
import Testing

/// The event the test timers deliver.
struct HoldExpired: Event, Equatable {
    static let eventType = "test.timer.hold-expired"
    var orderID: String
    var note: String
    var partitionKey: String? { orderID }
}

/// One delivery of a timer event, as its handler saw it.
struct FiredTimer: Sendable, Equatable {
    var orderID: String
    var note: String
    var key: String?
    var partition: Int32
    var firedBy: String
}

/// What the timer handlers saw, in handling order.
final class FiredTimers: Sendable {
    private let entries = Mutex<[FiredTimer]>([])
    func record(_ event: HoldExpired, _ context: EventContext, by runner: String) {
        let fired = FiredTimer(
            orderID: event.orderID, note: event.note, key: context.key, partition: context.partition, firedBy: runner
        )
        entries.withLock { $0.append(fired) }
    }
    var all: [FiredTimer] { entries.withLock { $0 } }
    var notes: [String] { all.map(\.note) }
}

/// A pipeline whose `OrderPlaced` handler runs `schedule` and whose timers record into `fired`.
struct TimerPipeline {
    let fixture: PipelineFixture
    let inbox: SQLiteInbox
    let clock: ManualTimerClock
    let fired = FiredTimers()

    init(partitions: Int32 = 2) async throws {
        fixture = try await PipelineFixture(partitions: partitions, delays: [])
        inbox = try SQLiteInbox(path: ":memory:")
        clock = ManualTimerClock()
    }

    func runner(
        named name: String = "a",
        _ schedule: @escaping @Sendable (OrderPlaced, EventContext) throws -> Void
    ) throws -> PipelineRunner {
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in try schedule(event, context) }
        pipeline.on(HoldExpired.self) { [fired] event, context in fired.record(event, context, by: name) }
        var configuration = fixture.configuration()
        configuration.timers.clock = clock
        configuration.timers.pollInterval = .milliseconds(50)
        return try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: configuration, inbox: inbox,
            logger: quietLogger
        )
    }

    /// Pending timers in the database (0 until the runner created the table).
    func pending() async throws -> Int {
        try await inbox.withDatabase { database in
            let tables = try database.query("SELECT COUNT(*) FROM sqlite_master WHERE name = 'dabba_timers'")
            guard tables.first?.first?.integerValue == 1 else { return 0 }
            return Int(try database.query("SELECT COUNT(*) FROM dabba_timers").first?.first?.integerValue ?? -1)
        }
    }

    /// Sends one `OrderPlaced` per (order, amount).
    func send(_ orders: [(String, Int)]) async throws {
        let events = try fixture.eventProducer()
        for (order, amount) in orders { try await events.send(OrderPlaced(orderID: order, amount: amount)) }
        try await events.producer.close()
    }
}

@Suite("Durable timers: clock and settings")
struct TimerClockTests {
    @Test("a manual clock moves only when advanced, and never backwards")
    func manualClock() {
        let clock = ManualTimerClock(startMilliseconds: 1_000)
        #expect(clock.nowMilliseconds == 1_000)
        clock.advance(by: .seconds(5))
        #expect(clock.nowMilliseconds == 6_000)
        clock.advance(by: .seconds(-3))
        clock.set(toMilliseconds: 2_000)
        #expect(clock.nowMilliseconds == 6_000)
        clock.set(toMilliseconds: 9_500)
        #expect(clock.nowMilliseconds == 9_500)
    }

    @Test("the time scale divides relative delays: a 300 s hold is due in 3 s at scale 100")
    func timeScale() {
        #expect(TimerConfiguration.parseTimeScale("100") == 100)
        #expect(TimerConfiguration.parseTimeScale(" 2.5 ") == 2.5)
        for bad in ["0", "-1", "abc", "inf", "nan", ""] { #expect(TimerConfiguration.parseTimeScale(bad) == nil) }
        var configuration = TimerConfiguration(timeScale: 100)
        #expect(configuration.problem == nil)
        configuration.timeScale = 0
        #expect(configuration.problem?.contains("time scale") == true)
        configuration = TimerConfiguration()
        configuration.pageSize = 0
        #expect(configuration.problem?.contains("page size") == true)
    }

    @Test("a runner refuses invalid timer settings, naming the setting")
    func refusesInvalidSettings() throws {
        var configuration = PipelineConfiguration(client: ClientConfiguration(bootstrap: "localhost:1"))
        configuration.timers.timeScale = -2
        let error = try #require(throws: PipelineError.self) {
            _ = try PipelineRunner(
                pipeline: Pipeline(service: "s", groupID: "g"), topology: PipelineTopology(mainTopics: ["t"]),
                configuration: configuration, logger: quietLogger
            )
        }
        #expect(error.code == .configuration)
        #expect(error.message.contains("time scale"))
    }
}

@Suite("Durable timers", .serialized, .timeLimit(.minutes(4)))
struct TimerTests {
    @Test("a scheduled timer fires once, when the clock passes its due time, for the scheduling event's key")
    func scheduledFiresOnce() async throws {
        let harness = try await TimerPipeline()
        let runner = try harness.runner { event, context in
            try context.timers.schedule(HoldExpired(orderID: event.orderID, note: "hold"), id: "hold", after: .seconds(300))
        }
        try await harness.send([("o-1", 1)])
        try await withRunning(runner) {
            try await eventually("the timer is stored") { try await harness.pending() == 1 }
            // Not due yet: give the poll several chances to (wrongly) fire it.
            try await Task.sleep(for: .milliseconds(500))
            #expect(harness.fired.all.isEmpty)
            harness.clock.advance(by: .seconds(301))
            try await eventually("the timer fires") { !harness.fired.all.isEmpty }
            try await Task.sleep(for: .milliseconds(500))
        }
        let fired = harness.fired.all
        #expect(fired.count == 1)
        #expect(fired.first?.key == "o-1")
        #expect(try await harness.pending() == 0)
        #expect(runner.metrics.timersFired.value == 1)
    }

    @Test("a cancelled timer never fires; a rescheduled one fires once, with the last payload and due time")
    func cancelAndReschedule() async throws {
        let harness = try await TimerPipeline()
        // amount: >= 0 schedules "hold" that many seconds ahead (note n<amount>), -1 cancels it.
        let runner = try harness.runner { event, context in
            if event.amount < 0 {
                #expect(try context.timers.cancel(id: "hold"))
            } else {
                try context.timers.schedule(
                    HoldExpired(orderID: event.orderID, note: "n\(event.amount)"), id: "hold",
                    after: .seconds(event.amount)
                )
            }
        }
        // o-cancel: scheduled then cancelled. o-moved: scheduled at 100 s, moved to 200 s. o-probe: 150 s.
        try await harness.send([("o-cancel", 100), ("o-cancel", -1), ("o-moved", 100), ("o-moved", 200), ("o-probe", 150)])
        try await withRunning(runner) {
            try await eventually("the two pending timers are stored") {
                runner.metrics.handled.value >= 5
            }
            #expect(try await harness.pending() == 2)
            harness.clock.advance(by: .seconds(160))
            try await eventually("the probe fires") { harness.fired.notes.contains("n150") }
            // The probe fired, so the poll passed the first due time: the moved timer must not have.
            #expect(harness.fired.notes == ["n150"])
            harness.clock.advance(by: .seconds(50))
            try await eventually("the moved timer fires") { harness.fired.notes.contains("n200") }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(harness.fired.notes == ["n150", "n200"])
        #expect(harness.fired.all.last?.key == "o-moved")
        #expect(try await harness.pending() == 0)
    }

    @Test("due timers of a key fire in due-time order, also when one handler scheduled them out of order")
    func orderPerKey() async throws {
        let harness = try await TimerPipeline()
        let delays = [50, 10, 30, 40, 20]
        let runner = try harness.runner { event, context in
            for delay in delays {
                try context.timers.schedule(
                    HoldExpired(orderID: event.orderID, note: "\(event.orderID)@\(delay)"), id: "t\(delay)",
                    after: .seconds(delay)
                )
            }
        }
        try await harness.send([("o-1", 0), ("o-2", 0)])
        try await withRunning(runner) {
            try await eventually("the timers are stored") { try await harness.pending() == 10 }
            harness.clock.advance(by: .seconds(60))
            try await eventually("every timer fires") { harness.fired.all.count >= 10 }
            try await Task.sleep(for: .milliseconds(300))
        }
        for order in ["o-1", "o-2"] {
            let notes = harness.fired.all.filter { $0.orderID == order }.map(\.note)
            #expect(notes == delays.sorted().map { "\(order)@\($0)" })
        }
    }

    @Test("a timer handler may schedule the next timer: a chain fires one step per due time")
    func handlerReschedules() async throws {
        let harness = try await TimerPipeline(partitions: 1)
        var pipeline = Pipeline(service: "orders", groupID: harness.fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            try context.timers.schedule(HoldExpired(orderID: event.orderID, note: "1"), id: "tick", after: .seconds(10))
        }
        pipeline.on(HoldExpired.self) { [fired = harness.fired] event, context in
            fired.record(event, context, by: "a")
            guard let step = Int(event.note), step < 3 else { return }
            try context.timers.schedule(
                HoldExpired(orderID: event.orderID, note: "\(step + 1)"), id: "tick", after: .seconds(10)
            )
        }
        var configuration = harness.fixture.configuration()
        configuration.timers.clock = harness.clock
        configuration.timers.pollInterval = .milliseconds(50)
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: harness.fixture.topology, configuration: configuration, inbox: harness.inbox,
            logger: quietLogger
        )
        try await harness.send([("o-1", 0)])
        try await withRunning(runner) {
            try await eventually("the first timer is stored") { try await harness.pending() == 1 }
            for step in 1...3 {
                harness.clock.advance(by: .seconds(11))
                try await eventually("step \(step) fires") { harness.fired.all.count >= step }
            }
            try await Task.sleep(for: .milliseconds(300))
        }
        #expect(harness.fired.notes == ["1", "2", "3"])
        #expect(try await harness.pending() == 0)
    }

    @Test("an idle pipeline asks the database for due timers only when one may be due")
    func idleWithoutDueTimersLeavesTheDatabaseAlone() async throws {
        let harness = try await TimerPipeline()
        let inbox = ConnectionCountingInbox(harness.inbox)
        var pipeline = Pipeline(service: "orders", groupID: harness.fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            try context.timers.schedule(HoldExpired(orderID: event.orderID, note: "hold"), id: "hold", after: .seconds(300))
        }
        pipeline.on(HoldExpired.self) { [fired = harness.fired] event, context in fired.record(event, context, by: "a") }
        var configuration = harness.fixture.configuration()
        configuration.timers.clock = harness.clock
        configuration.timers.pollInterval = .milliseconds(50)
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: harness.fixture.topology, configuration: configuration, inbox: inbox,
            logger: quietLogger
        )
        try await withRunning(runner) {
            try await eventually("partitions are assigned") { !runner.consumer.assignment.isEmpty }
            try await Task.sleep(for: .seconds(1))
            // 20 poll intervals: the first look (the page and the next due time) and nothing after it.
            let idle = inbox.connections
            try await Task.sleep(for: .seconds(1))
            #expect(inbox.connections == idle, "no timer pending: the idle loop still asked the database")

            try await harness.send([("o-1", 1)])
            try await eventually("the timer is stored") { try await harness.pending() == 1 }
            try await Task.sleep(for: .milliseconds(300))
            let scheduled = inbox.connections
            try await Task.sleep(for: .seconds(1))
            #expect(inbox.connections == scheduled, "the only timer is 300 s away: nothing to ask before then")

            harness.clock.advance(by: .seconds(301))
            try await eventually("the timer fires") { !harness.fired.all.isEmpty }
        }
        #expect(harness.fired.all.count == 1)
        #expect(try await harness.pending() == 0)
    }

    @Test("the time scale makes a 300 s timer due within seconds, never before its scaled delay")
    func timeScaleFires() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let inbox = try SQLiteInbox(path: ":memory:")
        let fired = FiredTimers()
        let scheduledAt = Mutex<ContinuousClock.Instant?>(nil)
        let firedAt = Mutex<ContinuousClock.Instant?>(nil)
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            try context.timers.schedule(HoldExpired(orderID: event.orderID, note: "hold"), id: "hold", after: .seconds(300))
            scheduledAt.withLock { $0 = ContinuousClock.now }
        }
        pipeline.on(HoldExpired.self) { event, context in
            firedAt.withLock { $0 = ContinuousClock.now }
            fired.record(event, context, by: "a")
        }
        var configuration = fixture.configuration()
        configuration.timers.timeScale = 100
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: configuration, inbox: inbox,
            logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await events.send(OrderPlaced(orderID: "o-1", amount: 1))
        try await events.producer.close()
        try await withRunning(runner) {
            try await eventually("the scaled timer fires", timeout: .seconds(60)) { !fired.all.isEmpty }
        }
        let scheduled = try #require(scheduledAt.withLock { $0 })
        let firing = try #require(firedAt.withLock { $0 })
        // Only a lower bound: a loaded machine may fire late, never early (the schedule commits after the handler).
        #expect(firing - scheduled >= .milliseconds(2_900))
        #expect(fired.all.count == 1)
    }

    @Test("without an inbox, scheduling a timer fails the event with an error naming the fix")
    func withoutInbox() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            try context.timers.schedule(HoldExpired(orderID: event.orderID, note: "x"), id: "hold", after: .seconds(1))
        }
        pipeline.on(HoldExpired.self) { _, _ in }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await events.send(OrderPlaced(orderID: "o-1", amount: 1))
        try await events.producer.close()
        let dead = try await withRunning(runner) {
            try await fixture.records(on: fixture.deadLetterTopic, count: 1)
        }
        #expect(dead.count == 1)
        let reason = dead.first?.header("kafka_dlt-exception-message") ?? ""
        #expect(reason.contains("no inbox") && reason.contains("--inbox"), "\(reason)")
    }

    /// Two instances "a" and "b" of a pipeline scheduling one "hold" timer a minute ahead per order, and 24 orders
    /// sent on 4 partitions (neither instance started).
    static func twoInstances() async throws -> (TimerPipeline, [String], PipelineRunner, PipelineRunner) {
        let harness = try await TimerPipeline(partitions: 4)
        let orders = (0..<24).map { "o-\($0)" }
        let scheduling: @Sendable (OrderPlaced, EventContext) throws -> Void = { event, context in
            try context.timers.schedule(
                HoldExpired(orderID: event.orderID, note: event.orderID), id: "hold", after: .seconds(60)
            )
        }
        let first = try harness.runner(named: "a", scheduling)
        let second = try harness.runner(named: "b", scheduling)
        try await harness.send(orders.map { ($0, 1) })
        return (harness, orders, first, second)
    }

    @Test("a rebalance hands due timers to the partition's new owner: each fires once, on its owner")
    func rebalanceMovesTimers() async throws {
        let (harness, orders, first, second) = try await Self.twoInstances()
        // The first instance alone: it schedules every timer.
        try await withRunning(first) {
            try await eventually("every timer is stored") { try await harness.pending() == orders.count }
        }
        // It left the group; the second instance owns every partition now, and the timers are due.
        harness.clock.advance(by: .seconds(61))
        try await withRunning(second) {
            try await eventually("every timer fires", timeout: .seconds(60)) { harness.fired.all.count >= orders.count }
            try await Task.sleep(for: .milliseconds(500))
        }
        let fired = harness.fired.all
        #expect(fired.count == orders.count)
        #expect(Set(fired.map(\.orderID)) == Set(orders))
        #expect(fired.allSatisfy { $0.firedBy == "b" })
        #expect(try await harness.pending() == 0)
    }

    @Test("two live instances share the partitions: each timer fires once, on the instance owning its partition")
    func twoOwnersFireTheirOwn() async throws {
        let (harness, orders, first, second) = try await Self.twoInstances()
        try await withRunning(first) {
            try await eventually("every timer is stored") { try await harness.pending() == orders.count }
            try await withRunning(second) {
                try await eventually("the partitions are shared", timeout: .seconds(60)) {
                    !first.consumer.assignment.isEmpty && !second.consumer.assignment.isEmpty
                        && first.consumer.assignment.count + second.consumer.assignment.count == 4
                }
                let ownedByFirst = first.consumer.assignment.map(\.partition)
                harness.clock.advance(by: .seconds(61))
                try await eventually("every timer fires", timeout: .seconds(60)) { harness.fired.all.count >= orders.count }
                try await Task.sleep(for: .milliseconds(500))
                // Unless the group rebalanced again meanwhile, each partition's timers fired on its owner.
                if first.consumer.assignment.map(\.partition).sorted() == ownedByFirst.sorted() {
                    for timer in harness.fired.all {
                        #expect(timer.firedBy == (ownedByFirst.contains(timer.partition) ? "a" : "b"), "\(timer)")
                    }
                }
            }
        }
        let fired = harness.fired.all
        #expect(fired.count == orders.count)
        #expect(Set(fired.map(\.orderID)) == Set(orders))
    }
}

/// An inbox that counts its `withConnection` calls (how often the runner asks for due timers), passing all through.
final class ConnectionCountingInbox: InboxStore {
    let store: any InboxStore
    private let count = Atomic<Int>(0)

    init(_ store: any InboxStore) { self.store = store }

    var connections: Int { count.load(ordering: .relaxed) }

    func processBatch(
        group: String, eventIDs: [String], beforeCommit: (_ batch: InboxBatchEnd) async throws -> Void,
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        try await store.processBatch(group: group, eventIDs: eventIDs, beforeCommit: beforeCommit, body)
    }

    func contains(group: String, eventID: String) async throws -> Bool {
        try await store.contains(group: group, eventID: eventID)
    }

    func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (any InboxTransaction) throws -> Result
    ) async throws -> Result {
        count.add(1, ordering: .relaxed)
        return try await store.withConnection(body)
    }

    func migrate(_ statements: [String]) async throws { try await store.migrate(statements) }

    func purge(olderThan age: Duration) async throws -> Int { try await store.purge(olderThan: age) }
}
