// A small pipeline service used by Dabba's process-level tests (crash, scale-out, graceful shutdown).
// It handles `test.order.placed` events by inserting one row per event into its own `effects` table, in the same
// transaction as the inbox mark, and prints a line per handled event (and per duplicate it skipped). `--inbox` is a
// SQLite file or a postgres:// URL. With `--output TOPIC` it also emits a `test.order.shipped` event (id
// `shipped-<input id>`) per event there; `--outbox` sends it through the outbox. With `--emit-to TOPIC` each handled
// event emits a copy of itself there (its id derived by the framework); with `--kill-before-commit-after N` the
// process SIGKILLs itself once N events were handled, after their emits were acknowledged and before the inbox
// committed; with `--kill-after-handling N` it SIGKILLs itself right after handling its N-th event, mid-batch.
// `--inbox none` runs without an inbox. With `--dependency-down-file PATH` each event first calls a fake dependency
// through the circuit breaker `bank` (settings from `--breaker NAME:…`, as the standard option): the call fails with
// a transient error while PATH exists. `--retry-topic T` and `--dead-letter-topic D` give the main topic a retry tier
// (1 s) and a dead-letter topic. `--window-seconds S --window-results TOPIC` counts orders per key in tumbling windows.
// Rebalances print `assigned P,… paused P,… breaker STATE` and `revoked P,…`.
// With `--timer-after-ms N` each event also schedules a durable timer (id `hold`) for its key, N ms ahead; the timer's
// `test.timer.fired` event inserts a row into `timer_effects` and prints `timer <event id> <order id>`.
// With `--structured` the emitted `test.order.shipped` events are written in CloudEvents structured mode.
import DabbaCatalog
import DabbaEvents
import DabbaInbox
import DabbaInboxPostgres
import DabbaKafka
import DabbaPipeline
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

struct OrderPlaced: Event {
    static let eventType = "test.order.placed"
    var orderID: String
    var amount: Int
    var partitionKey: String? { orderID }
}

struct TimerFired: Event {
    static let eventType = "test.timer.fired"
    var orderID: String
    var scheduledBy: String
    var partitionKey: String? { orderID }
}

/// The result of the fixture's window: orders per key in a tumbling window.
struct OrderCount: Event {
    static let eventType = "test.order.count"
    var orderID: String
    var start: Int64
    var end: Int64
    var count: Int
    var partitionKey: String? { orderID }
}

struct OrderShipped: Event {
    static let eventType = "test.order.shipped"
    var orderID: String
    var amount: Int
    var partitionKey: String? { orderID }
}

/// Writes a line to stdout unbuffered, so a test reading the pipe sees it even if the process is killed next.
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

func option(_ name: String) -> String? {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

guard let bootstrap = option("--bootstrap"), let topic = option("--topic"), let group = option("--group"),
    let database = option("--inbox")
else {
    FileHandle.standardError.write(Data("usage: --bootstrap B --topic T --group G --inbox FILE [--delay-ms N]\n".utf8))
    exit(64)
}
let delay = Duration.milliseconds(Int(option("--delay-ms") ?? "0") ?? 0)
let emitTopic = option("--emit-to")
let killAfter = option("--kill-before-commit-after").flatMap { Int($0) }
let killMidBatch = option("--kill-after-handling").flatMap { Int($0) }
let handledSoFar = Atomic<Int>(0)

/// The fixture's inbox: SQLite, optionally killing the process at the worst moment of a batch (emits acknowledged,
/// inbox not committed).
final class FixtureInbox: InboxStore {
    let base: any InboxStore
    let killAfter: Int?
    let handled = Atomic<Int>(0)

    init(base: any InboxStore, killAfter: Int?) {
        self.base = base
        self.killAfter = killAfter
    }

    func processBatch(
        group: String, eventIDs: [String], beforeCommit: (InboxBatchEnd) async throws -> Void,
        _ body: (Int, InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        let outcomes = try await base.processBatch(
            group: group, eventIDs: eventIDs,
            beforeCommit: { batch in
                try await beforeCommit(batch)
                if let killAfter, handled.load(ordering: .relaxed) >= killAfter {
                    say("killing before the inbox commit")
                    kill(getpid(), SIGKILL)
                }
            },
            { index, transaction in
                try await body(index, transaction)
                handled.add(1, ordering: .relaxed)
            }
        )
        for (index, outcome) in outcomes.enumerated() where outcome == .duplicate { say("duplicate \(eventIDs[index])") }
        return outcomes
    }

    func contains(group: String, eventID: String) async throws -> Bool {
        try await base.contains(group: group, eventID: eventID)
    }

    func withConnection<Result: Sendable>(
        _ body: @escaping @Sendable (any InboxTransaction) throws -> Result
    ) async throws -> Result {
        try await base.withConnection(body)
    }

    func purge(olderThan age: Duration) async throws -> Int { try await base.purge(olderThan: age) }
}
let output = option("--output")

LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = .warning
    return handler
}
let logger = Logger(label: "fixture")
let store: (any InboxStore)?
if database == "none" {
    store = nil
} else if database.hasPrefix("postgres") {
    store = try PostgresInbox(connectionString: database)
} else {
    store = try SQLiteInbox(path: database)
}
try await store?.migrate([
    "CREATE TABLE IF NOT EXISTS effects (event_id TEXT NOT NULL, order_id TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS timer_effects (event_id TEXT NOT NULL, scheduled_by TEXT NOT NULL)",
])
let timerDelay = option("--timer-after-ms").flatMap { Int($0) }.map { Duration.milliseconds($0) }
// The wrapper would hide the store's outbox, so outbox runs use the store itself.
let inbox: (any InboxStore)? =
    CommandLine.arguments.contains("--outbox") ? store : store.map { FixtureInbox(base: $0, killAfter: killAfter) }
let dependencyDownFile = option("--dependency-down-file")

/// The fake dependency: down while its file exists.
struct FakeBank {
    let downFile: String
    func transfer() throws {
        if FileManager.default.fileExists(atPath: downFile) { throw TransientError(HandlerFailure("bank is down")) }
    }
}

var pipeline = Pipeline(service: "fixture", groupID: group)
if let text = option("--breaker") {
    let (name, settings) = try CircuitBreakerConfiguration.namedSettings(text)
    pipeline.breaker(name, try CircuitBreakerConfiguration().applying(settings))
}
let bank = dependencyDownFile.map { FakeBank(downFile: $0) }
pipeline.on(OrderPlaced.self) { event, context in
    if delay > .zero { try await Task.sleep(for: delay) }
    if let bank { try await context.breaker("bank").run { try bank.transfer() } }
    try context.database?.execute(
        "INSERT INTO effects (event_id, order_id) VALUES (?, ?)", [.text(context.envelope.id), .text(event.orderID)]
    )
    if let emitTopic { try await context.emit(event, metadata: EventMetadata(topic: emitTopic)) }
    if output != nil {
        try await context.emit(
            OrderShipped(orderID: event.orderID, amount: event.amount),
            metadata: EventMetadata(id: "shipped-\(context.envelope.id)")
        )
    }
    if let timerDelay {
        try context.timers.schedule(
            TimerFired(orderID: event.orderID, scheduledBy: context.envelope.id), id: "hold", after: timerDelay
        )
    }
    say("handled \(context.envelope.id) partition \(context.partition) offset \(context.offset)")
    // Dies inside a batch, its transaction open: the crash does not depend on how fast the test watches.
    if let killMidBatch, handledSoFar.add(1, ordering: .relaxed).newValue >= killMidBatch { kill(getpid(), SIGKILL) }
}
pipeline.on(TimerFired.self) { event, context in
    try context.database?.execute(
        "INSERT INTO timer_effects (event_id, scheduled_by) VALUES (?, ?)",
        [.text(context.envelope.id), .text(event.scheduledBy)]
    )
    say("timer \(context.envelope.id) \(event.orderID)")
}
// `--window-seconds S --window-results TOPIC`: orders per key in tumbling windows of S seconds of event time,
// closed by stream time only (so the results depend on the log alone), emitted to TOPIC.
let windowResults = option("--window-results")
if let seconds = option("--window-seconds").flatMap({ Int($0) }), windowResults != nil {
    pipeline.window(
        "orders-per-key", of: OrderPlaced.self, WindowSpec.tumbling(.seconds(seconds)).closingOnStreamTimeOnly,
        aggregate: .count()
    ) { result in
        OrderCount(
            orderID: result.key, start: Int64(result.start.timeIntervalSince1970 * 1000),
            end: Int64(result.end.timeIntervalSince1970 * 1000), count: result.value
        )
    }
}
var configuration = PipelineConfiguration(client: ClientConfiguration(bootstrap: bootstrap))
configuration.timers.pollInterval = .milliseconds(100)
configuration.batchSize = 20
configuration.instanceID = option("--instance")
configuration.outbox.enabled = CommandLine.arguments.contains("--outbox")
configuration.outbox.pollInterval = .milliseconds(200)
configuration.consumerProperties = [
    // Short enough for the embedded broker's rejoin delay, long enough for a loaded CI machine.
    "session.timeout.ms": "20000", "heartbeat.interval.ms": "2000", "topic.metadata.refresh.interval.ms": "1000",
]
var retryTiers: [String: [RetryTier]] = [:]
if let retryTopic = option("--retry-topic") { retryTiers[topic] = [RetryTier(topic: retryTopic, delay: .seconds(1))] }
let deadLetters = option("--dead-letter-topic").map { [topic: $0] } ?? [:]
let runner = try PipelineRunner(
    pipeline: pipeline,
    topology: PipelineTopology(mainTopics: [topic], retryTiers: retryTiers, deadLetterTopics: deadLetters),
    configuration: configuration,
    routes: EventRoutes(
        (output.map { [OrderShipped.eventType: $0] } ?? [:]).merging(
            windowResults.map { [OrderCount.eventType: $0] } ?? [:]
        ) { $1 },
        contentModes: CommandLine.arguments.contains("--structured") ? [OrderShipped.eventType: .structured] : [:]
    ),
    inbox: inbox, logger: logger
)
say("started")
let rebalances = Task {
    func list(_ partitions: some Sequence<TopicPartition>) -> String {
        partitions.map { String($0.partition) }.sorted().joined(separator: ",")
    }
    for await event in runner.consumer.events {
        switch event {
        case .assigned(let partitions, let paused):
            // What the assignment hook decided in the rebalance callback (reading the pauses now could see a later
            // rebalance's state).
            // A breaker leaves `open` only when next asked to let a call through: past its open period it is as
            // good as half-open, and its partitions are no longer held.
            var breaker = "\(runner.breakers.state(of: "bank"))"
            if breaker == "open", runner.breakers.holdUntil("bank") <= .now { breaker = "open-period-over" }
            say("assigned \(list(partitions)) paused \(list(paused)) breaker \(breaker)")
        case .revoked(let partitions):
            say("revoked \(list(partitions))")
        case .error:
            break
        }
    }
}
let services = ServiceGroup(
    configuration: ServiceGroupConfiguration(
        services: [.init(service: runner)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
    )
)
try await services.run()
rebalances.cancel()
say("stopped")
