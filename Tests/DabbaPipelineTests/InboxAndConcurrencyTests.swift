import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import Foundation
import Synchronization
import Testing

@Suite("Inbox and concurrency", .timeLimit(.minutes(3)))
struct InboxAndConcurrencyTests {
    @Test("the same event delivered twice: its effect is applied once and the duplicate is counted")
    func duplicateDelivery() async throws {
        let fixture = try await PipelineFixture(partitions: 2, delays: [])
        let inbox = try SQLiteInbox(path: ":memory:")
        try await inbox.withDatabase { try $0.execute("CREATE TABLE effects (event_id TEXT, amount INTEGER)") }
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            try context.database?.execute(
                "INSERT INTO effects VALUES (?, ?)", [.text(context.envelope.id), .integer(Int64(event.amount))]
            )
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), inbox: inbox,
            logger: quietLogger
        )
        let events = try fixture.eventProducer()
        // An upstream retry: the same event (same id) written twice, plus another event.
        try await events.send(OrderPlaced(orderID: "o-1", amount: 10), metadata: EventMetadata(id: "evt-1"))
        try await events.send(OrderPlaced(orderID: "o-1", amount: 10), metadata: EventMetadata(id: "evt-1"))
        try await events.send(OrderPlaced(orderID: "o-2", amount: 5), metadata: EventMetadata(id: "evt-2"))
        try await withRunning(runner) {
            try await eventually("all three records are consumed") {
                runner.metrics.handled.value + runner.metrics.duplicates.value == 3
            }
        }
        let rows = try await inbox.withDatabase { try $0.query("SELECT event_id, amount FROM effects ORDER BY event_id") }
        #expect(rows == [[.text("evt-1"), .integer(10)], [.text("evt-2"), .integer(5)]])
        #expect(runner.metrics.duplicates.value == 1)
        #expect(runner.metrics.handled.value == 2)
        #expect(try await inbox.contains(group: fixture.group, eventID: "evt-1"))
        try await events.producer.close()
    }

    @Test("a transient failure retried in place: the failed attempt's writes are undone, the effect is applied once")
    func inPlaceRetryUndoesTheFailedAttempt() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let inbox = try SQLiteInbox(path: ":memory:")
        try await inbox.withDatabase { try $0.execute("CREATE TABLE effects (event_id TEXT, attempt INTEGER)") }
        let attempts = Mutex(0)
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { _, context in
            let attempt = attempts.withLock { count in
                count += 1
                return count
            }
            try context.database?.execute(
                "INSERT INTO effects VALUES (?, ?)", [.text(context.envelope.id), .integer(Int64(attempt))]
            )
            if attempt == 1 { throw TransientError(HandlerFailure("timeout after writing")) }
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), inbox: inbox,
            logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await events.send(OrderPlaced(orderID: "o-1", amount: 10), metadata: EventMetadata(id: "evt-1"))
        try await withRunning(runner) {
            try await eventually("the event is handled") { runner.metrics.handled.value == 1 }
        }
        let rows = try await inbox.withDatabase { try $0.query("SELECT event_id, attempt FROM effects") }
        #expect(rows == [[.text("evt-1"), .integer(2)]])
        #expect(runner.metrics.retriedInPlace.value == 1)
        #expect(try await inbox.contains(group: fixture.group, eventID: "evt-1"))
        try await events.producer.close()
    }

    @Test("no dead-letter topic: an event retried until it succeeds commits its writes with its inbox mark")
    func retryUntilSuccessUsesTheInbox() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [], deadLetter: false)
        let inbox = try SQLiteInbox(path: ":memory:")
        try await inbox.withDatabase { try $0.execute("CREATE TABLE effects (event_id TEXT)") }
        let attempts = Mutex(0)
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { _, context in
            let attempt = attempts.withLock { count in
                count += 1
                return count
            }
            try context.database?.execute("INSERT INTO effects VALUES (?)", [.text(context.envelope.id)])
            // Fails through the in-place attempts of the batch, then once more in the retry loop.
            if attempt <= 3 { throw HandlerFailure("not yet (\(attempt))") }
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), inbox: inbox,
            logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await events.send(OrderPlaced(orderID: "o-1", amount: 10), metadata: EventMetadata(id: "evt-1"))
        try await withRunning(runner) {
            try await eventually("the event is handled", timeout: .seconds(30)) { runner.metrics.handled.value == 1 }
        }
        let rows = try await inbox.withDatabase { try $0.query("SELECT event_id FROM effects") }
        #expect(rows == [[.text("evt-1")]])
        #expect(try await inbox.contains(group: fixture.group, eventID: "evt-1"))
        try await events.producer.close()
    }

    @Test("a handler's failed database writes roll back with it: nothing of a failed event is kept")
    func failedHandlerRollsBack() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let inbox = try SQLiteInbox(path: ":memory:")
        try await inbox.withDatabase { try $0.execute("CREATE TABLE effects (event_id TEXT)") }
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            try context.database?.execute("INSERT INTO effects VALUES (?)", [.text(context.envelope.id)])
            if event.amount < 0 { throw PermanentError(HandlerFailure("negative amount")) }
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: fixture.configuration(), inbox: inbox,
            logger: quietLogger
        )
        let events = try fixture.eventProducer()
        try await events.send(OrderPlaced(orderID: "a", amount: -1), metadata: EventMetadata(id: "bad"))
        try await events.send(OrderPlaced(orderID: "b", amount: 1), metadata: EventMetadata(id: "good"))
        try await withRunning(runner) {
            try await eventually("both are done") {
                runner.metrics.handled.value == 1 && runner.metrics.deadLettered.value == 1
            }
        }
        let rows = try await inbox.withDatabase { try $0.query("SELECT event_id FROM effects") }
        #expect(rows == [[.text("good")]])
        #expect(try await !inbox.contains(group: fixture.group, eventID: "bad"))
        try await events.producer.close()
    }

    @Test("per-key concurrency and exactly-once are refused with an inbox instead of being silently ignored")
    func refusedWithInbox() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let pipeline = Pipeline(service: "orders", groupID: fixture.group)
        var perKey = fixture.configuration()
        perKey.concurrency = .perKey(maxInFlight: 4)
        var exactlyOnce = fixture.configuration()
        exactlyOnce.exactlyOnce = true
        exactlyOnce.instanceID = "one"
        for configuration in [perKey, exactlyOnce] {
            #expect(throws: PipelineError.self) {
                _ = try PipelineRunner(
                    pipeline: pipeline, topology: fixture.topology, configuration: configuration,
                    inbox: try SQLiteInbox(path: ":memory:"), logger: quietLogger
                )
            }
            // Without an inbox both are fine.
            _ = try PipelineRunner(
                pipeline: pipeline, topology: fixture.topology, configuration: configuration, logger: quietLogger
            )
        }
    }

    @Test("per-key concurrency: keys of one partition run in parallel, each key stays in order")
    func perKeyConcurrency() async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let log = Mutex<[String: [Int]]>([:])
        let active = Atomic<Int>(0)
        let maxActive = Atomic<Int>(0)
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, _ in
            let now = active.add(1, ordering: .relaxed).newValue
            var seen = maxActive.load(ordering: .relaxed)
            while now > seen, !maxActive.compareExchange(expected: seen, desired: now, ordering: .relaxed).exchanged {
                seen = maxActive.load(ordering: .relaxed)
            }
            try await Task.sleep(for: .milliseconds(20))
            log.withLock { $0[event.orderID, default: []].append(event.amount) }
            active.subtract(1, ordering: .relaxed)
        }
        var configuration = fixture.configuration()
        configuration.concurrency = .perKey(maxInFlight: 8)
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: configuration, logger: quietLogger
        )
        let events = try fixture.eventProducer()
        for index in 0..<80 {
            try await events.enqueue(OrderPlaced(orderID: "key-\(index % 8)", amount: index))
        }
        try await events.producer.flush()
        try await withRunning(runner) {
            try await eventually("all are handled") { runner.metrics.handled.value == 80 }
        }
        #expect(maxActive.load(ordering: .relaxed) > 1, "keys never ran in parallel")
        for (key, amounts) in log.withLock({ $0 }) {
            #expect(amounts == amounts.sorted(), "key \(key) out of order")
            #expect(amounts.count == 10)
        }
        try await events.producer.close()
    }

    @Test("a backlog is handled in inbox transactions of up to four batches, each event once, in order per partition")
    func groupCommit() async throws {
        let fixture = try await PipelineFixture(partitions: 2, delays: [])
        let inbox = RecordingInbox(try SQLiteInbox(path: ":memory:"))
        let handled = Mutex<[Int: [Int]]>([:])
        var pipeline = Pipeline(service: "orders", groupID: fixture.group)
        pipeline.on(OrderPlaced.self) { event, context in
            handled.withLock { $0[Int(context.partition), default: []].append(event.amount) }
        }
        var configuration = fixture.configuration()
        configuration.batchSize = 20
        let events = try fixture.eventProducer()
        // The whole backlog is on the topic before the pipeline starts, so fetches bring more than one batch.
        for index in 0..<600 {
            try await events.enqueue(OrderPlaced(orderID: "o-\(index % 5)", amount: index))
        }
        try await events.producer.flush()
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: configuration, inbox: inbox,
            logger: quietLogger
        )
        try await withRunning(runner) {
            try await eventually("all are handled") { runner.metrics.handled.value == 600 }
        }
        let sizes = inbox.batchSizes
        #expect(sizes.reduce(0, +) == 600, "every event in exactly one transaction")
        #expect(sizes.allSatisfy { $0 <= 80 }, "a transaction took more than four batches: \(sizes)")
        #expect(sizes.contains { $0 > 20 }, "fetched batches never joined a transaction: \(sizes)")
        let amounts = handled.withLock { $0 }
        #expect(amounts.values.map(\.count).reduce(0, +) == 600)
        for (partition, values) in amounts {
            #expect(values == values.sorted(), "partition \(partition) out of order")
        }
        #expect(runner.metrics.duplicates.value == 0)
        try await events.producer.close()
    }
}

/// An inbox that records how many events each transaction held.
final class RecordingInbox: InboxStore {
    let inner: SQLiteInbox
    /// The event ids of each batch, in order.
    let batches = Mutex<[[String]]>([])
    var batchSizes: [Int] { batches.withLock { $0.map(\.count) } }

    init(_ inner: SQLiteInbox) { self.inner = inner }

    func processBatch(
        group: String, eventIDs: [String], beforeCommit: (InboxBatchEnd) async throws -> Void,
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        let outcomes = try await inner.processBatch(group: group, eventIDs: eventIDs, beforeCommit: beforeCommit, body)
        batches.withLock { $0.append(eventIDs) }
        return outcomes
    }

    func contains(group: String, eventID: String) async throws -> Bool {
        try await inner.contains(group: group, eventID: eventID)
    }

    func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (any InboxTransaction) throws -> Result
    ) async throws -> Result {
        try await inner.withConnection(body)
    }

    func purge(olderThan age: Duration) async throws -> Int { try await inner.purge(olderThan: age) }
}
