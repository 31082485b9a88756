import DabbaEvents
import DabbaKafka
import DabbaPipeline
import DabbaTesting
import Foundation
import Testing

/// The fixture's window result (`--window-seconds`): orders per key in a tumbling window.
struct FixtureOrderCount: Decodable, Hashable {
    var orderID: String
    var start: Int64
    var end: Int64
    var count: Int
}

@Suite("Windowed aggregations across crashes", .serialized, .timeLimit(.minutes(5)))
struct WindowProcessTests {
    /// A crash at the worst moment: window results emitted and acknowledged, the inbox transaction that closed the
    /// windows (and counted the events) not committed. The restarted process counts and closes them again: every
    /// window's result carries one id and the exact count, whichever process emitted it.
    @Test(
        "SIGKILL mid-window after results were emitted, then restart: each window's result once, with its exact count"
    )
    func killMidWindow() async throws {
        let fixture = try await PipelineFixture(partitions: 2, delays: [])
        let results = "\(fixture.topic).results"
        try await fixture.broker.createTopic(results, partitions: 1)
        // 120 orders of 4 keys over a minute of event time (six 10 s windows), some pairs swapped out of order;
        // then one order per key 100 s on, which closes every window by stream time.
        var log: [(key: String, time: Int64)] = (0..<120).map { ("k\($0 % 4)", windowBase + Int64($0) * 500) }
        for index in stride(from: 5, to: 118, by: 7) { log.swapAt(index, index + 2) }
        log += (0..<4).map { ("k\($0)", windowBase + 100_000) }
        try await WindowTests.send(fixture, log)

        // The reference, computed from the log as the broker holds it: per partition, in offset order.
        let input = try await fixture.records(on: fixture.topic, count: log.count)
        #expect(input.count == log.count)
        let timeOfID = Dictionary(uniqueKeysWithValues: log.enumerated().map { ("w-\($0.offset)", $0.element.time) })
        var expected: Set<WindowOutcome> = []
        for partition in Set(input.map(\.partition)) {
            let records = input.filter { $0.partition == partition }.sorted { $0.offset < $1.offset }
            let partitionLog = records.compactMap { record -> (key: String, time: Int64)? in
                let idHeader = record.headers.first { $0.name == "ce_id" }
                guard let id = idHeader.map({ String(decoding: $0.value ?? [], as: UTF8.self) }),
                    let time = timeOfID[id], let key = record.key
                else { return nil }
                return (key, time)
            }
            let reference = WindowReference(
                [.init(name: "orders-per-key", spec: WindowSpec.tumbling(.seconds(10)).closingOnStreamTimeOnly)],
                log: partitionLog
            )
            expected.formUnion(reference.results)
        }
        #expect(expected.count == 24, "six windows of four keys: \(expected.count)")

        let database = ProcessTests.temporaryDatabase()
        let arguments = [
            "--bootstrap", fixture.broker.bootstrapServers, "--topic", fixture.topic, "--group", fixture.group,
            "--inbox", database, "--window-seconds", "10", "--window-results", results,
        ]
        let first = try FixtureProcess(arguments: arguments + ["--kill-before-commit-after", "60"])
        _ = try await first.waitForExit(timeout: .seconds(120))
        #expect(first.lines.contains("killing before the inbox commit"), "\(first.lines.suffix(20))")
        let second = try FixtureProcess(arguments: arguments)
        let emitted = try await fixture.records(on: results, timeout: .seconds(150)) { records in
            let windows = Set((try? decodedFixtureCounts(records))?.map { "\($0.orderID)@\($0.start)" } ?? [])
            return windows.count >= expected.count
        }
        second.send(SIGTERM)
        #expect(try await second.waitForExit() == 0)

        let counts = try decodedFixtureCounts(emitted)
        let outcomes = Set(
            counts.map { WindowOutcome(window: "orders-per-key", key: $0.orderID, start: $0.start, count: $0.count) }
        )
        #expect(
            outcomes == expected,
            "missing: \(expected.subtracting(outcomes)); wrong: \(outcomes.subtracting(expected))"
        )
        // A result emitted by both processes is the same event: one id, one value per window.
        var idsByWindow: [String: Set<String>] = [:]
        for record in emitted {
            let count = try JSONDecoder().decode(FixtureOrderCount.self, from: Data(record.value ?? []))
            let id = record.headers.first { $0.name == "ce_id" }.map { String(decoding: $0.value ?? [], as: UTF8.self) }
            idsByWindow["\(count.orderID)@\(count.start)", default: []].insert(id ?? "")
        }
        #expect(idsByWindow.values.allSatisfy { $0.count == 1 }, "a window's result had two ids: \(idsByWindow)")
        print("windows: \(emitted.count) result records for \(expected.count) windows after the crash")
    }
}

func decodedFixtureCounts(_ records: [TestRecord]) throws -> [FixtureOrderCount] {
    try records.map { try JSONDecoder().decode(FixtureOrderCount.self, from: Data($0.value ?? [])) }
}
