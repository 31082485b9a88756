import DabbaCatalog
import DabbaEventMacros
import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import Foundation
import Logging
import Synchronization

/// The small event the typed and pipeline phases send: a key, a sequence number and an amount. Its payload is read
/// by the code `@FastJSON` generates, as users' events are when they adopt it.
@FastJSON
struct BenchEvent: Event {
    static let eventType = "bench.order.placed"
    var key: String
    var sequence: Int
    var amount: Int
    var partitionKey: String? { key }
}

/// The typed-event and pipeline measurements of `dabba bench` (issue-level targets: typed consume ≥ 0.5× the raw
/// consume rate; the pipeline with no inbox ≥ 0.5× raw consume; with the SQLite inbox ≥ 100,000 events/s).
enum EventPhases {
    /// How a pipeline phase records processed events.
    enum PipelineMode: String, Sendable {
        case plain, sqliteInbox = "sqlite-inbox", exactlyOnce = "exactly-once"
        /// No inbox; each handler calls a no-op dependency through a closed circuit breaker.
        case breaker
        /// The SQLite inbox, and a table of each key's latest amount fed from every event.
        case table
        /// The SQLite inbox, and a count per key in tumbling 1 s windows of event time (results to `<topic>-windows`).
        case window
    }

    /// The result the `window` mode emits per key and window.
    struct BenchWindowCount: Event {
        static let eventType = "bench.window.count"
        var key: String
        var start: Date
        var count: Int
        var partitionKey: String? { key }
    }

    /// The table the `table` mode keeps: each key's latest amount.
    static let amounts = Table<Int>("bench-amounts")

    static var logger: Logger { BenchPhaseRunner.logger }

    /// The typed producer's `linger.ms`. Typed events are produced more slowly than raw bytes, so with the default
    /// 5 ms each batch would hold a handful of records. The embedded broker answers a fetch with at most one batch
    /// per partition, so records per batch set how fast any consumer can read a topic there: the raw phase's batches
    /// hold about 150 records (1,000,000/s over 32 partitions, 5 ms), and this linger gives the typed topic (about
    /// 60,000 events/s over 128 partitions) batches of about that size. A real broker returns many batches per fetch.
    static let typedLinger: Duration = .milliseconds(400)

    /// Typed produce: `EventProducer.enqueue` (envelope + JSON encoding) with delivery reports counted.
    static func typedProduce(
        _ workload: BenchWorkload, _ target: BenchTarget, mode: EventContentMode = .binary
    ) async throws -> Double {
        var configuration = ProducerConfiguration(bootstrap: target.bootstrap)
        configuration.publishesDeliveryReports = true
        configuration.linger = typedLinger
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        let events = EventProducer(
            producer: producer, source: "/dabba-bench",
            routes: EventRoutes([BenchEvent.eventType: target.topic], contentModes: [BenchEvent.eventType: mode])
        )
        let keys = (0..<workload.keyCount).map { "key-\($0)" }
        let expected = workload.messages
        let reports = Task {
            var delivered = 0
            var failed = 0
            for await report in producer.deliveryReports {
                if report.isDelivered { delivered += 1 } else { failed += 1 }
                if delivered + failed == expected { break }
            }
            return (delivered, failed)
        }
        let clock = ContinuousClock()
        let start = clock.now
        for index in 0..<expected {
            try await events.enqueue(BenchEvent(key: keys[index % keys.count], sequence: index, amount: index % 997))
        }
        let (delivered, failed) = await reports.value
        let elapsed = clock.now - start
        try await producer.close()
        guard delivered == expected, failed == 0 else {
            throw CLIError("typed produce delivered \(delivered) of \(expected) events (\(failed) failed)")
        }
        return elapsed.seconds
    }

    /// Typed consume: every record decoded (CloudEvents envelope + JSON payload) into ``BenchEvent``.
    static func typedConsume(_ workload: BenchWorkload, _ target: BenchTarget) async throws -> Double {
        var configuration = target.consumerConfiguration
        configuration.parsesHeadersOnFetch = true
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        try consumer.subscribe(topics: [target.topic])
        let decoder = EventDecoder(registry: EventRegistry([BenchEvent.self]))
        let expected = workload.messages
        let limit = BenchPhaseRunner.consumeTimeout * 2 + .seconds(Double(expected) / 10_000)
        let outcome: (decoded: Int, elapsed: Duration?)? = try await withDeadline(limit) {
            let clock = ContinuousClock()
            var start: ContinuousClock.Instant?
            var decoded = 0
            var sum = 0
            // Resident memory at each tenth of the run: it should stay flat while the backlog drains.
            var residentMiB: [Int] = []
            let tenth = max(expected / 10, 1)
            for try await message in consumer.messages {
                if start == nil { start = clock.now }
                guard case .success(let event) = decoder.decode(message), let payload = event.payload(as: BenchEvent.self)
                else { throw CLIError("record \(message.topic)[\(message.partition)]@\(message.offset) did not decode") }
                sum &+= payload.amount
                consumer.markProcessed(message)
                decoded += 1
                if decoded.isMultiple(of: tenth), let resident = ProcessMemory.currentResidentBytes {
                    residentMiB.append(resident / 1_048_576)
                }
                if decoded == expected { break }
            }
            _ = sum
            Output.note("typed consume: resident MiB at each tenth of the run: \(residentMiB.map(String.init).joined(separator: " "))")
            return (decoded, start.map { clock.now - $0 })
        }
        try await consumer.close()
        guard let outcome, outcome.decoded == expected, let elapsed = outcome.elapsed else {
            throw CLIError("typed consume decoded \(outcome?.decoded ?? 0) of \(expected) events")
        }
        return elapsed.seconds
    }

    /// Decoding alone: every record is read into memory first (headers parsed, as on the fetch thread of a typed
    /// consumer), then the whole set is decoded at least twenty times, and the fastest pass is reported; the cost of
    /// the payload alone (one record's value decoded again and again) goes to standard error. Not part of a normal
    /// run: `dabba bench --phase typed-decode-dabba --bootstrap … --topic … --group …` profiles the decoder
    /// without the fetch path.
    static func typedDecode(_ workload: BenchWorkload, _ target: BenchTarget) async throws -> Double {
        var configuration = target.consumerConfiguration
        configuration.parsesHeadersOnFetch = true
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        try consumer.subscribe(topics: [target.topic])
        var messages: [KafkaMessage] = []
        messages.reserveCapacity(workload.messages)
        for try await message in consumer.messages {
            messages.append(message)
            if messages.count == workload.messages { break }
        }
        try await consumer.close()
        let decoder = EventDecoder(registry: EventRegistry([BenchEvent.self]))
        var best = Double.infinity
        // At least twenty passes and four million decodes, so that profiles of this phase are mostly decoding.
        for _ in 0..<max(20, 4_000_000 / max(messages.count, 1)) {
            let clock = ContinuousClock()
            let start = clock.now
            let sum = decodeAll(messages, decoder)
            best = min(best, (clock.now - start).seconds)
            guard sum >= 0 else { throw CLIError("a record did not decode") }
        }
        // The payload alone: the value in binary mode, its `data` in structured mode.
        if let first = messages.first, case .success(let read) = EventDecoder.readEnvelope(first) {
            let sample = read.1
            let rounds = 200_000
            let codec = JSONEventCodec()
            var payloadBest = Double.infinity
            for _ in 0..<5 {
                let clock = ContinuousClock()
                let start = clock.now
                var sum = 0
                try sample.withUnsafeBytes { bytes in
                    for _ in 0..<rounds { sum &+= try codec.decode(BenchEvent.self, borrowing: bytes).amount }
                }
                payloadBest = min(payloadBest, (clock.now - start).seconds)
                guard sum != Int.min else { throw CLIError("a payload did not decode") }
            }
            Output.note(
                "typed-decode: \(Int(best / Double(messages.count) * 1e9)) ns per record, of which the payload alone "
                    + "\(Int(payloadBest / Double(rounds) * 1e9)) ns"
            )
        }
        return best
    }

    /// The loop `typedDecode` times (a function of its own, so profilers can single it out).
    @inline(never)
    static func decodeAll(_ messages: [KafkaMessage], _ decoder: EventDecoder) -> Int {
        var sum = 0
        for message in messages {
            guard case .success(let event) = decoder.decode(message), let payload = event.payload(as: BenchEvent.self)
            else { return -1 }
            sum &+= payload.amount
        }
        return sum
    }

    /// Where the `window` mode's results go (the session creates it next to the typed topic).
    static func windowResultsTopic(of topic: String) -> String { "\(topic)-windows" }

    /// The pipeline end to end: consume → decode → handler → (inbox mark) → commit, until every event is handled.
    static func pipeline(_ workload: BenchWorkload, _ target: BenchTarget, mode: PipelineMode) async throws -> Double {
        let handled = Atomic<Int>(0)
        let firstHandled = Mutex<ContinuousClock.Instant?>(nil)
        let expected = workload.messages
        var pipeline = Pipeline(service: "dabba-bench", groupID: target.group)
        let throughBreaker = mode == .breaker
        pipeline.breaker("bench-dependency")
        if mode == .table { pipeline.table(amounts, from: BenchEvent.self) { .put($0.key, $0.amount) } }
        if mode == .window {
            pipeline.window("bench-counts", of: BenchEvent.self, .tumbling(.seconds(1)), aggregate: .count()) { result in
                BenchWindowCount(key: result.key, start: result.start, count: result.value)
            }
        }
        pipeline.on(BenchEvent.self) { _, context in
            if throughBreaker { try await context.breaker("bench-dependency").run {} }
            if handled.add(1, ordering: .relaxed).newValue == 1 {
                firstHandled.withLock { $0 = ContinuousClock.now }
            }
        }
        var configuration = target.pipelineConfiguration
        configuration.batchSize = 1000
        configuration.exactlyOnce = mode == .exactlyOnce
        configuration.instanceID = "dabba-bench"
        var inbox: SQLiteInbox?
        var databasePath: String?
        if mode == .sqliteInbox || mode == .table || mode == .window {
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-bench-\(UUID()).sqlite").path
            databasePath = path
            inbox = try SQLiteInbox(path: path)
        }
        defer {
            if let databasePath {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: databasePath + suffix) }
            }
        }
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: PipelineTopology(mainTopics: [target.topic]), configuration: configuration,
            routes: EventRoutes([BenchWindowCount.eventType: windowResultsTopic(of: target.topic)]), inbox: inbox,
            logger: logger
        )
        let running = Task { try await runner.run() }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: BenchPhaseRunner.consumeTimeout * 2 + .seconds(Double(expected) / 5_000))
        while handled.load(ordering: .relaxed) < expected, clock.now < deadline, !running.isCancelled {
            try await Task.sleep(for: .milliseconds(5))
        }
        let finishedAt = clock.now
        runner.consumer.stopFetching()
        try await running.value
        let count = handled.load(ordering: .relaxed)
        guard count >= expected, let start = firstHandled.withLock({ $0 }) else {
            throw CLIError("the \(mode.rawValue) pipeline handled \(count) of \(expected) events")
        }
        return (finishedAt - start).seconds
    }
}
