import DabbaEvents
import DabbaInbox
import DabbaInboxPostgres
import DabbaKafka
import DabbaPipeline
import DabbaTesting
import DabbaTestingPostgres
import Foundation
import Testing

/// The result event of the test windows.
struct WindowCount: Event, Hashable {
    static let eventType = "test.window.count"
    var window: String
    var key: String
    var start: Int64
    var end: Int64
    var count: Int
    var partitionKey: String? { key }
}

/// A window's identity and value, as the reference and the emitted results give it.
struct WindowOutcome: Hashable, CustomStringConvertible {
    var window: String
    var key: String
    var start: Int64
    var count: Int
    var description: String { "\(window)/\(key)@\(start)=\(count)" }
}

/// Windowed counts computed from a log, record by record, by the rules the pipeline documents: stream time is the
/// latest event time seen; a window closes when stream time reaches its end plus grace; an event is left out of
/// every window that closed before it arrived.
struct WindowReference {
    struct Declaration {
        var name: String
        var spec: WindowSpec
    }

    var results: Set<WindowOutcome> = []
    /// Per declaration, events too late for every window they belong to.
    var fullyLate: [String: Int] = [:]

    init(_ declarations: [Declaration], log: [(key: String, time: Int64)]) {
        for declaration in declarations {
            var streamTime = Int64.min
            var open: [String: [Int64: Int]] = [:]
            var closed: Set<String> = []
            let grace = Int64(declaration.spec.grace.components.seconds * 1000)
            for (key, time) in log {
                var added = 0
                let windows = declaration.spec.windows(containing: time)
                for window in windows
                where window.end + grace > streamTime && !closed.contains("\(key)@\(window.start)") {
                    open[key, default: [:]][window.start, default: 0] += 1
                    added += 1
                }
                if added == 0 { fullyLate[declaration.name, default: 0] += 1 }
                guard time > streamTime else { continue }
                streamTime = time
                for (openKey, starts) in open {
                    for (start, count) in starts {
                        let end = start + Int64(declaration.spec.size.components.seconds * 1000)
                        guard end + grace <= streamTime else { continue }
                        results.insert(
                            WindowOutcome(window: declaration.name, key: openKey, start: start, count: count)
                        )
                        open[openKey]?[start] = nil
                        closed.insert("\(openKey)@\(start)")
                    }
                }
            }
        }
    }
}

/// A base time on a minute, far from now: the tests' event times never touch the wall clock.
let windowBase: Int64 = 1_800_000_000_000

func decodedCounts(_ records: [TestRecord]) throws -> [WindowCount] {
    try records.map { try JSONDecoder().decode(WindowCount.self, from: Data($0.value ?? [])) }
}

@Suite("Windows: spans and settings")
struct WindowSpecTests {
    @Test("tumbling windows hold each time once; hopping windows hold it size/advance times, aligned to the epoch")
    func spans() {
        let tumbling = WindowSpec.tumbling(.seconds(10))
        #expect(tumbling.windows(containing: 25_000).map(\.start) == [20_000])
        #expect(tumbling.windows(containing: 20_000).map(\.start) == [20_000])
        #expect(tumbling.windows(containing: 19_999).map(\.end) == [20_000])
        #expect(tumbling.windows(containing: -1).map(\.start) == [-10_000])
        let hopping = WindowSpec.hopping(.seconds(10), every: .seconds(5))
        #expect(hopping.windows(containing: 12_000).map(\.start) == [5_000, 10_000])
        #expect(hopping.windows(containing: 10_000).map(\.start) == [5_000, 10_000])
        #expect(WindowSpec.hopping(.seconds(60), every: .seconds(10)).windows(containing: 61_000).count == 6)
    }

    @Test("bad windows are refused when the runner is made, naming the window and the setting")
    func refusals() async throws {
        func refusal(
            _ build: (inout Pipeline) -> Void, inbox: (any InboxStore)?,
            routes: EventRoutes = EventRoutes([WindowCount.eventType: "counts"])
        ) throws -> String {
            var pipeline = Pipeline(service: "s", groupID: "g")
            build(&pipeline)
            let error = try #require(throws: PipelineError.self) {
                _ = try PipelineRunner(
                    pipeline: pipeline, topology: PipelineTopology(mainTopics: ["t"]),
                    configuration: PipelineConfiguration(client: ClientConfiguration(bootstrap: "127.0.0.1:1")),
                    routes: routes, inbox: inbox, logger: quietLogger
                )
            }
            #expect(error.code == .configuration)
            return error.message
        }
        let count = { (pipeline: inout Pipeline, name: String, spec: WindowSpec) in
            pipeline.window(name, of: OrderPlaced.self, spec, aggregate: .count()) { result in
                WindowCount(window: name, key: result.key, start: 0, end: 0, count: result.value)
            }
        }
        let inbox = try SQLiteInbox(path: ":memory:")
        #expect(try refusal({ count(&$0, "w", .tumbling(.seconds(10))) }, inbox: nil).contains("configure an inbox"))
        #expect(
            try refusal({ count(&$0, "w", .hopping(.seconds(10), every: .seconds(20))) }, inbox: inbox)
                .contains("window 'w': the window advance")
        )
        #expect(
            try refusal(
                { pipeline in
                    count(&pipeline, "w", .tumbling(.seconds(10)))
                    count(&pipeline, "w", .tumbling(.seconds(60)))
                }, inbox: inbox
            ).contains("'w' is declared twice")
        )
        #expect(
            try refusal({ count(&$0, "w", .tumbling(.seconds(10))) }, inbox: inbox, routes: EventRoutes([:]))
                .contains("window 'w': its result event type test.window.count has no topic")
        )
    }
}

@Suite("Windowed aggregations", .serialized, .timeLimit(.minutes(4)))
struct WindowTests {
    /// A pipeline counting `OrderPlaced` per key in the given windows, emitting `WindowCount`s to `results` and late
    /// events to `late`.
    static func runner(
        _ fixture: PipelineFixture, inbox: any InboxStore, windows: [(String, WindowSpec)], results: String,
        late: String, clock: ManualTimerClock? = nil
    ) throws -> PipelineRunner {
        var pipeline = Pipeline(service: "windows", groupID: fixture.group)
        for (name, spec) in windows {
            pipeline.window(name, of: OrderPlaced.self, spec, aggregate: .count(), lateEvents: .route(topic: late)) {
                result in
                WindowCount(
                    window: name, key: result.key, start: Int64(result.start.timeIntervalSince1970 * 1000),
                    end: Int64(result.end.timeIntervalSince1970 * 1000), count: result.value
                )
            }
        }
        var configuration = fixture.configuration()
        if let clock { configuration.timers.clock = clock }
        configuration.timers.pollInterval = .milliseconds(50)
        return try PipelineRunner(
            pipeline: pipeline, topology: fixture.topology, configuration: configuration,
            routes: EventRoutes([WindowCount.eventType: results]), inbox: inbox, logger: quietLogger
        )
    }

    /// Sends one `OrderPlaced` per entry, with the entry's time as `ce_time`; ids `w-<first>`, `w-<first + 1>`, …
    static func send(_ fixture: PipelineFixture, _ log: [(key: String, time: Int64)], first: Int = 0) async throws {
        let events = try fixture.eventProducer()
        for (index, entry) in log.enumerated() {
            var metadata = EventMetadata(id: "w-\(first + index)")
            metadata.time = Date(timeIntervalSince1970: Double(entry.time) / 1000)
            try await events.enqueue(OrderPlaced(orderID: entry.key, amount: index), metadata: metadata)
        }
        try await events.producer.flush()
        try await events.producer.close()
    }

    @Test("tumbling and hopping counts equal a reference computed from the log, with out-of-order and late events")
    func matchesReference() async throws {
        try await Self.checkReference(inbox: try SQLiteInbox(path: ":memory:"))
    }

    /// Tumbling and hopping windows over a log with out-of-order and late events, checked against ``WindowReference``.
    static func checkReference(inbox: any InboxStore) async throws {
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let results = "\(fixture.topic).results"
        let late = "\(fixture.topic).late"
        try await fixture.broker.createTopic(results, partitions: 1)
        try await fixture.broker.createTopic(late, partitions: 1)
        let declarations = [
            WindowReference.Declaration(
                name: "tumbling", spec: WindowSpec.tumbling(.seconds(10), grace: .seconds(2)).closingOnStreamTimeOnly
            ),
            WindowReference.Declaration(
                name: "hopping",
                spec: WindowSpec.hopping(.seconds(10), every: .seconds(5), grace: .seconds(2)).closingOnStreamTimeOnly
            ),
        ]
        // Seconds after the base: in order, out of order within the grace (11 after 12), late (4 after 25).
        let seconds: [(String, Int64)] = [
            ("k0", 1), ("k1", 2), ("k0", 3), ("k1", 9), ("k0", 12), ("k2", 11), ("k2", 15), ("k1", 25), ("k1", 4),
            ("k0", 26), ("k2", 21), ("k0", 8), ("k1", 38), ("k0", 60),
        ]
        let log = seconds.map { (key: $0.0, time: windowBase + $0.1 * 1000) }
        let reference = WindowReference(declarations, log: log)
        #expect(reference.fullyLate["tumbling", default: 0] >= 2, "the log has late events")
        try await Self.send(fixture, log)
        let runner = try Self.runner(
            fixture, inbox: inbox, windows: declarations.map { ($0.name, $0.spec) }, results: results, late: late
        )
        try await withRunning(runner) {
            try await eventually("every event is handled", timeout: .seconds(60)) {
                runner.metrics.handled.value == log.count
            }
        }
        let emitted = try await fixture.records(on: results, count: reference.results.count)
        let counts = try decodedCounts(emitted)
        let outcomes = counts.map { WindowOutcome(window: $0.window, key: $0.key, start: $0.start, count: $0.count) }
        #expect(outcomes.count == Set(outcomes).count, "a window result was emitted twice: \(outcomes)")
        #expect(Set(outcomes) == reference.results)
        // Per key, results come in window order.
        for key in Set(counts.map(\.key)) {
            let starts = counts.filter { $0.key == key && $0.window == "tumbling" }.map(\.start)
            #expect(starts == starts.sorted())
        }
        let ids = emitted.compactMap { $0.headers.first { $0.name == "ce_id" }?.value }
        #expect(Set(ids).count == emitted.count)
        let routed = try await fixture.records(
            on: late, count: reference.fullyLate.values.reduce(0, +)
        )
        #expect(routed.count == reference.fullyLate.values.reduce(0, +), "late events routed: \(routed.count)")
        let tumblingResults = reference.results.filter { $0.window == "tumbling" }.count
        #expect(runner.windowMetrics?.results(of: "tumbling") == tumblingResults)
    }

    @Test("a quiet key's window closes on the wall clock; an event after that is late, never reopening it")
    func quietKeyClosesOnTheTick() async throws {
        // One partition: the retention is counted in that partition's stream time.
        let fixture = try await PipelineFixture(partitions: 1, delays: [])
        let results = "\(fixture.topic).results"
        let late = "\(fixture.topic).late"
        try await fixture.broker.createTopic(results, partitions: 1)
        try await fixture.broker.createTopic(late, partitions: 1)
        let clock = ManualTimerClock(startMilliseconds: windowBase + 500)
        let inbox = try SQLiteInbox(path: ":memory:")
        let runner = try Self.runner(
            fixture, inbox: inbox, windows: [("minute", .tumbling(.seconds(10), grace: .seconds(1)))],
            results: results, late: late, clock: clock
        )
        try await Self.send(
            fixture, [("a", windowBase + 1000), ("a", windowBase + 2000), ("b", windowBase + 3000)]
        )
        try await withRunning(runner) {
            try await eventually("the events are handled", timeout: .seconds(60)) { runner.metrics.handled.value == 3 }
            // Due at base + 11 s: not before.
            clock.advance(by: .seconds(10))
            try await Task.sleep(for: .milliseconds(500))
            #expect(runner.windowMetrics?.results(of: "minute") == 0, "a window closed before its end plus grace")
            clock.advance(by: .seconds(1))
            try await eventually("both windows close with no further event", timeout: .seconds(30)) {
                runner.windowMetrics?.results(of: "minute") == 2
            }
            // Event time inside the closed window: late, routed, and the window is not opened again.
            try await Self.send(fixture, [("a", windowBase + 5000)], first: 3)
            try await eventually("the late event is handled", timeout: .seconds(60)) {
                runner.windowMetrics?.lateEvents(of: "minute") == 1
            }
            clock.advance(by: .seconds(60))
            try await Task.sleep(for: .milliseconds(500))
            #expect(runner.windowMetrics?.results(of: "minute") == 2, "the late event opened its window again")
            // Stream time two days on: closed windows older than the retention (a day) are forgotten.
            try await Self.send(fixture, [("c", windowBase + 2 * 86_400_000)], first: 4)
            try await eventually("closed windows past the retention are forgotten", timeout: .seconds(60)) {
                try await inbox.withDatabase { database in
                    let rows = try database.query("SELECT window_key, closed FROM dabba_windows ORDER BY window_key")
                    return rows.map { "\($0[0].textValue ?? "")=\($0[1].integerValue ?? -1)" } == ["c=0"]
                }
            }
        }
        let counts = try decodedCounts(try await fixture.records(on: results, count: 2))
        #expect(Set(counts.map { "\($0.key)=\($0.count)" }) == ["a=2", "b=1"])
        #expect(counts.allSatisfy { $0.start == windowBase && $0.end == windowBase + 10_000 })
        let routed = try await fixture.records(on: late, count: 1)
        #expect(routed.count == 1)
    }
}

@Suite(
    "Windowed aggregations on PostgreSQL", .timeLimit(.minutes(3)),
    .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason)
)
struct PostgresWindowTests {
    @Test("the windows live in PostgreSQL: the same counts as the reference")
    func matchesReference() async throws {
        try await withPostgresSchema("windows") { _, url in
            try await WindowTests.checkReference(inbox: try await PostgresInbox.connect(connectionString: url))
        }
    }
}
