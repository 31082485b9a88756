internal import CDabbaBaseline
import DabbaKafka
import Foundation
import Logging

/// Runs one phase in the current process and measures it.
///
/// Every phase creates its own client, times only the steady-state work and closes the client afterwards:
/// - produce: from the first send to the moment every delivery report has been counted (both sides count them);
/// - consume: from the first message to the last (the consumer-group join, ~3 s on the embedded broker, is excluded).
enum BenchPhaseRunner {
    static func run(_ phase: BenchPhase, workload: BenchWorkload, target: BenchTarget) async throws -> PhaseResult {
        let startRSS = ProcessMemory.peakResidentBytes
        let seconds: Double
        switch (phase.operation, phase.client) {
        case (.produce, .baseline): seconds = try await baselineProduce(workload, target)
        case (.consume, .baseline): seconds = try await baselineConsume(workload, target)
        case (.produce, .dabba): seconds = try await dabbaProduce(workload, target)
        case (.consume, .dabba): seconds = try await dabbaConsume(workload, target)
        case (.typedBytesConsume, _): seconds = try await dabbaConsume(workload, target, checksValueSize: false)
        case (.typedHeadersConsume, _): seconds = try await baselineConsumeHeaders(workload, target)
        case (.typedProduce, .baseline): seconds = try await baselineProduceEvents(workload, target, structured: false)
        case (.structuredProduce, .baseline): seconds = try await baselineProduceEvents(workload, target, structured: true)
        case (.typedProduce, .dabba): seconds = try await EventPhases.typedProduce(workload, target)
        case (.structuredProduce, .dabba): seconds = try await EventPhases.typedProduce(workload, target, mode: .structured)
        case (.typedConsume, _), (.structuredConsume, _): seconds = try await EventPhases.typedConsume(workload, target)
        case (.pipeline, _): seconds = try await EventPhases.pipeline(workload, target, mode: .plain)
        case (.pipelineBreaker, _): seconds = try await EventPhases.pipeline(workload, target, mode: .breaker)
        case (.pipelineInbox, _): seconds = try await EventPhases.pipeline(workload, target, mode: .sqliteInbox)
        case (.pipelineTable, _): seconds = try await EventPhases.pipeline(workload, target, mode: .table)
        case (.pipelineWindow, _): seconds = try await EventPhases.pipeline(workload, target, mode: .window)
        case (.pipelineExactlyOnce, _): seconds = try await EventPhases.pipeline(workload, target, mode: .exactlyOnce)
        case (.typedDecode, _): seconds = try await EventPhases.typedDecode(workload, target)
        case (.timers, _): seconds = try await TimerPhase.fire(workload, target)
        }
        return PhaseResult(
            phase: phase,
            messages: workload.messages,
            seconds: seconds,
            peakRSSBytes: ProcessMemory.peakResidentBytes,
            startRSSBytes: startRSS
        )
    }

    static let consumeTimeout: Duration = .seconds(30)

    static var logger: Logger {
        var logger = Logger(label: "dabba.bench")
        logger.logLevel = .warning
        return logger
    }

    // MARK: - Dabba

    /// `enqueue` (the fast path) with delivery reports published and counted by a second task, then `flush`.
    private static func dabbaProduce(_ workload: BenchWorkload, _ target: BenchTarget) async throws -> Double {
        var configuration = ProducerConfiguration(bootstrap: target.bootstrap)
        configuration.publishesDeliveryReports = true
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        let keys = workload.makeKeys()
        let value = workload.makeValue()
        let expected = workload.messages
        let counting = Task {
            var delivered = 0
            var failed = 0
            var firstError: KafkaError?
            for await report in producer.deliveryReports {
                if report.isDelivered {
                    delivered += 1
                } else {
                    failed += 1
                    if firstError == nil { firstError = report.error }
                }
                if delivered + failed == expected { break }
            }
            return (delivered: delivered, failed: failed, firstError: firstError)
        }

        let clock = ContinuousClock()
        var start = clock.now
        do {
            // Warm-up, not timed (as in the C baseline): one acknowledged message makes the producer ready.
            try await producer.send(ProducerMessage(topic: target.topic, key: Array("warm-up".utf8), value: value))
            start = clock.now
            let topic = target.topic
            for index in 0..<workload.messages {
                let message = ProducerMessage(topic: topic, key: keys[index % keys.count], value: value)
                try await producer.enqueue(message)
            }
            try await producer.flush(timeout: .seconds(120))
        } catch {
            counting.cancel()
            try? await producer.close()
            throw error
        }
        let counts = try await withDeadline(.seconds(30)) {
            // Cancelling the counter ends its loop, so a timeout cannot leave this waiting.
            await withTaskCancellationHandler { await counting.value } onCancel: { counting.cancel() }
        }
        let elapsed = clock.now - start
        try await producer.close()

        guard let counts else { throw CLIError("delivery reports stopped arriving after the flush") }
        if let error = counts.firstError { throw CLIError("\(counts.failed) messages failed, first: \(error)") }
        guard counts.delivered == expected else {
            throw CLIError("\(counts.delivered) of \(expected) messages acknowledged")
        }
        return elapsed.seconds
    }

    /// `messages`, touching each value's length and marking each message processed (at-least-once).
    /// - Parameter checksValueSize: Whether every value has the workload's size (not so for typed records).
    private static func dabbaConsume(
        _ workload: BenchWorkload, _ target: BenchTarget, checksValueSize: Bool = true
    ) async throws -> Double {
        let configuration = target.consumerConfiguration
        let consumer = try KafkaConsumer(configuration: configuration, logger: logger)
        let expected = workload.messages
        let outcome: (received: Int, payload: Int, elapsed: Duration?)?
        do {
            try consumer.subscribe(topics: [target.topic])
            // A generous overall limit: the C side fails after `consumeTimeout` without a message.
            let limit = consumeTimeout * 2 + .seconds(Double(expected) / 10_000)
            outcome = try await withDeadline(limit) {
                let clock = ContinuousClock()
                var start: ContinuousClock.Instant?
                var received = 0
                var payload = 0
                for try await message in consumer.messages {
                    if received == 0 { start = clock.now }
                    payload &+= message.valueCount
                    consumer.markProcessed(message)
                    received += 1
                    if received == expected { break }
                }
                return (received: received, payload: payload, elapsed: start.map { clock.now - $0 })
            }
        } catch {
            try? await consumer.close()
            throw error
        }
        try await consumer.close()

        guard let outcome, outcome.received == expected, let elapsed = outcome.elapsed else {
            throw CLIError("timed out after \(outcome?.received ?? 0) of \(expected) messages")
        }
        guard !checksValueSize || outcome.payload == expected * workload.valueSize else {
            throw CLIError("read \(outcome.payload) value bytes, expected \(expected * workload.valueSize)")
        }
        return elapsed.seconds
    }

    // MARK: - C baseline

    private static func baselineProduce(_ workload: BenchWorkload, _ target: BenchTarget) async throws -> Double {
        let rate = try await callBaseline { error, capacity in
            dabba_baseline_produce(
                target.bootstrap, target.topic, workload.messages, Int32(workload.valueSize),
                Int32(workload.keyCount), error, capacity
            )
        }
        return Double(workload.messages) / rate
    }

    /// The C program writing the typed phases' records (same headers or structured value, ids and times per record).
    private static func baselineProduceEvents(
        _ workload: BenchWorkload, _ target: BenchTarget, structured: Bool
    ) async throws -> Double {
        let linger = Int32(EventPhases.typedLinger.seconds * 1000)
        let rate = try await callBaseline { error, capacity in
            dabba_baseline_produce_events(
                target.bootstrap, target.topic, workload.messages, Int32(workload.keyCount), linger,
                structured ? 1 : 0, error, capacity
            )
        }
        return Double(workload.messages) / rate
    }

    private static func baselineConsume(_ workload: BenchWorkload, _ target: BenchTarget) async throws -> Double {
        let idle = Int32(consumeTimeout.seconds * 1000)
        let rate = try await callBaseline { error, capacity in
            dabba_baseline_consume(
                target.bootstrap, target.topic, target.group, workload.messages, Int32(workload.valueSize), idle,
                error, capacity
            )
        }
        return Double(workload.messages) / rate
    }

    private static func baselineConsumeHeaders(_ workload: BenchWorkload, _ target: BenchTarget) async throws -> Double {
        let idle = Int32(consumeTimeout.seconds * 1000)
        let rate = try await callBaseline { error, capacity in
            dabba_baseline_consume_headers(
                target.bootstrap, target.topic, target.group, workload.messages, idle, error, capacity
            )
        }
        return Double(workload.messages) / rate
    }

    /// Runs a blocking baseline function on its own thread (never on the cooperative pool); returns its msgs/s.
    private static func callBaseline(
        _ body: @escaping @Sendable (UnsafeMutablePointer<CChar>, Int) -> Double
    ) async throws -> Double {
        let (rate, message) = await withCheckedContinuation { continuation in
            let thread = Thread {
                var error = [CChar](repeating: 0, count: 512)
                let rate = error.withUnsafeMutableBufferPointer { buffer in
                    buffer.baseAddress.map { body($0, buffer.count) } ?? -1
                }
                let message = String(decoding: error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                continuation.resume(returning: (rate, message))
            }
            thread.name = "dabba-bench-baseline"
            thread.start()
        }
        guard rate > 0 else { throw CLIError(message.isEmpty ? "the C baseline failed" : message) }
        return rate
    }
}

/// Runs `body`, cancelling it and returning nil if it takes longer than `timeout`.
func withDeadline<Result: Sendable>(
    _ timeout: Duration,
    _ body: @escaping @Sendable () async throws -> Result
) async throws -> Result? {
    try await withThrowingTaskGroup(of: Result?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next() ?? nil
    }
}

extension Duration {
    var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
