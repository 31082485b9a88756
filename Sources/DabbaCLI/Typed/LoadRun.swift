import DabbaKafka
import Foundation
import Synchronization

/// `dabba produce EVENT_TYPE --count N [--rate R]`: many events through the enqueue path, with delivery reports
/// counted (not printed one by one), a progress bar on a terminal, and one summary JSON line:
///
///     {"elapsed":0.412,"failed":0,"rate":121.4,"sent":50,"topic":"shop.orders","type":"shop.order.placed"}
///
/// Templated payloads are checked one by one; the first that fails stops the run (earlier ones are still
/// delivered and counted). SIGINT/SIGTERM stop it the same way.
struct LoadRun {
    let sender: EventSender
    let plan: EventPlan
    /// The checked payload of message 0 (every message's, when the template has no placeholders).
    let first: PreparedPayload
    let count: Int
    let rate: Double?
    let timeout: Double

    func run() async throws {
        let signals = SignalWatcher()
        let producer = sender.events.producer
        let tally = DeliveryTally()
        let bar = isatty(STDERR_FILENO) != 0 ? ProgressBar(total: count) : nil
        let start = ContinuousClock.now

        async let reading: Void = Self.collect(producer.deliveryReports, into: tally)
        let (stopError, ids) = await withTaskGroup(of: Void.self) { group -> (CLIError?, [UInt64]) in
            group.addTask {
                if let signal = await signals.wait() { tally.interrupt(signal) }
            }
            if let bar {
                group.addTask {
                    while !Task.isCancelled {
                        bar.draw(tally.snapshot, elapsed: .now - start)
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
            }
            let outcome = await enqueueAll(producer: producer, tally: tally)
            // Every enqueued message is delivered or failed within the message timeout; then close ends the reports.
            try? await producer.flush(timeout: .cliSeconds(timeout) + .seconds(5))
            try? await producer.close(timeout: .seconds(5))
            group.cancelAll()
            return outcome
        }
        await reading
        let elapsed = ContinuousClock.now - start
        let snapshot = tally.snapshot
        bar?.finish(snapshot, elapsed: elapsed)

        let seconds = elapsed.inSeconds
        let perSecond = seconds > 0 ? Double(snapshot.delivered) / seconds : 0
        let topic = sender.event.topic
        Output.json([
            "type": sender.event.type,
            "topic": topic,
            "sent": snapshot.delivered,
            "failed": snapshot.failed,
            "elapsed": (seconds * 1000).rounded() / 1000,
            "rate": (perSecond * 10).rounded() / 10,
        ])
        var summary =
            "dabba produce: \(snapshot.delivered) of \(count) '\(sender.event.type)' event\(count == 1 ? "" : "s") "
            + "delivered to \(topic) in \(String(format: "%.3f", seconds))s (\(String(format: "%.1f", perSecond))/s)"
        if snapshot.failed > 0 { summary += "; \(snapshot.failed) failed" }
        Output.note(summary)

        for failure in tally.failures {
            let position = ids.firstIndex(of: failure.id).map { "event #\($0)" } ?? "an event"
            let key = failure.key.map { " (key '\($0)')" } ?? ""
            Output.note(
                "error: \(position)\(key): \(sender.limits.explain(failure.error, subject: "the event", size: nil))"
            )
        }
        if snapshot.failed > tally.failures.count {
            Output.note("error: … and \(snapshot.failed - tally.failures.count) more undelivered events")
        }
        let delivered = "\(snapshot.delivered) earlier event\(snapshot.delivered == 1 ? " was" : "s were") delivered"
        if var stopError {
            stopError.message += " (stopped there; \(delivered))"
            throw stopError
        }
        if let signal = tally.interruption {
            throw CLIError(
                "\(SignalWatcher.name(of: signal)) received: stopped after \(snapshot.enqueued) of \(count) events "
                    + "(\(snapshot.delivered) delivered)"
            )
        }
        if snapshot.failed > 0 {
            throw CLIError(
                "\(snapshot.failed) of \(snapshot.enqueued) events were not delivered to topic '\(topic)'"
            )
        }
    }

    /// Enqueues the events, paced by `--rate`, until all are handed over, a payload fails its check, enqueueing
    /// fails, or a signal arrives.
    /// - Returns: Why it stopped early, if it did, and the message ids in sequence order.
    private func enqueueAll(producer: KafkaProducer, tally: DeliveryTally) async -> (CLIError?, [UInt64]) {
        var bucket = rate.map { TokenBucket(rate: $0) }
        var generator = SystemRandomNumberGenerator()
        var ids: [UInt64] = []
        ids.reserveCapacity(min(count, 1_000_000))
        for sequence in 0..<count {
            if tally.interruption != nil { break }
            if var pacing = bucket {
                let proceed = await pacing.take { tally.interruption != nil }
                bucket = pacing
                if !proceed { break }
            }
            let prepared: PreparedPayload
            let message: ProducerMessage
            do {
                prepared =
                    sequence == 0 || !plan.template.hasPlaceholders
                    ? first : try plan.prepare(sequence: sequence, now: Date(), using: &generator)
                message = try sender.message(prepared)
            } catch let error as CLIError {
                return (error, ids)
            } catch {
                return (CLIError("\(error)"), ids)
            }
            do {
                ids.append(try await producer.enqueue(message))
            } catch let error as KafkaError {
                let explanation = sender.limits.explain(error, subject: "event #\(sequence)", size: message.byteCount)
                return (CLIError(explanation), ids)
            } catch {
                return (CLIError("\(error)"), ids)
            }
            tally.enqueued()
        }
        return (nil, ids)
    }

    private static func collect(_ reports: DeliveryReportSequence, into tally: DeliveryTally) async {
        for await report in reports { tally.received(report) }
    }
}

/// Counts of a load run, shared by the sending loop, the delivery-report reader, the progress bar and the signal
/// watcher.
final class DeliveryTally: Sendable {
    struct Snapshot: Sendable {
        var enqueued = 0
        var delivered = 0
        var failed = 0
    }

    /// An undelivered event: its message id, key and why.
    struct Failure: Sendable {
        var id: UInt64
        var key: String?
        var error: KafkaError
    }

    /// How many failures are kept for the error lines.
    static let keptFailures = 10

    private struct State {
        var snapshot = Snapshot()
        var failures: [Failure] = []
        var interruption: Int32?
    }

    private let state = Mutex(State())

    func enqueued() {
        state.withLock { $0.snapshot.enqueued += 1 }
    }

    func received(_ report: DeliveryReport) {
        state.withLock { state in
            if let error = report.error {
                state.snapshot.failed += 1
                if state.failures.count < Self.keptFailures {
                    let key = report.failedKey.map { String(decoding: $0, as: UTF8.self) }
                    state.failures.append(Failure(id: report.messageID, key: key, error: error))
                }
            } else {
                state.snapshot.delivered += 1
            }
        }
    }

    func interrupt(_ signal: Int32) {
        state.withLock { if $0.interruption == nil { $0.interruption = signal } }
    }

    var snapshot: Snapshot { state.withLock { $0.snapshot } }
    var failures: [Failure] { state.withLock { $0.failures } }
    /// The signal that stopped the run, if one did.
    var interruption: Int32? { state.withLock { $0.interruption } }
}

/// Paces sending to at most `rate` events per second: a token bucket refilled continuously, holding at most
/// 50 ms worth of tokens (at least one), so a stall is not followed by a long burst. Waiting is `Task.sleep`.
struct TokenBucket {
    let rate: Double
    let capacity: Double
    private var tokens: Double = 1
    private var last = ContinuousClock.now

    init(rate: Double) {
        self.rate = rate
        self.capacity = max(1, rate / 20)
    }

    /// Waits for a token and takes it.
    /// - Parameter shouldStop: Checked at least every 100 ms while waiting.
    /// - Returns: false if `shouldStop` returned true before a token was available.
    mutating func take(shouldStop: () -> Bool) async -> Bool {
        refill()
        while tokens < 1 {
            if shouldStop() { return false }
            try? await Task.sleep(for: .seconds(min((1 - tokens) / rate, 0.1)))
            refill()
        }
        tokens -= 1
        return true
    }

    private mutating func refill() {
        let now = ContinuousClock.now
        tokens = min(capacity, tokens + (now - last).inSeconds * rate)
        last = now
    }
}

/// A one-line progress bar on standard error, redrawn in place (only used when standard error is a terminal).
struct ProgressBar: Sendable {
    let total: Int
    static let width = 30

    func draw(_ snapshot: DeliveryTally.Snapshot, elapsed: Duration) {
        Self.write("\r\u{1B}[2K" + text(snapshot, elapsed: elapsed))
    }

    /// The last drawing, ending the line.
    func finish(_ snapshot: DeliveryTally.Snapshot, elapsed: Duration) {
        Self.write("\r\u{1B}[2K" + text(snapshot, elapsed: elapsed) + "\n")
    }

    func text(_ snapshot: DeliveryTally.Snapshot, elapsed: Duration) -> String {
        let done = snapshot.delivered + snapshot.failed
        let fraction = total > 0 ? min(1, Double(done) / Double(total)) : 1
        let filled = Int((fraction * Double(Self.width)).rounded(.down))
        let seconds = elapsed.inSeconds
        let perSecond = seconds > 0 ? Double(snapshot.delivered) / seconds : 0
        var text =
            "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: Self.width - filled) + "] "
            + String(format: "%3d%%", Int((fraction * 100).rounded(.down)))
            + "  \(snapshot.delivered)/\(total) delivered  \(Int(perSecond.rounded()))/s"
        if snapshot.failed > 0 { text += "  \(snapshot.failed) failed" }
        return text
    }

    private static func write(_ text: String) {
        var text = text
        text.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return }
            _ = Foundation.write(STDERR_FILENO, base, buffer.count)
        }
    }
}

extension Duration {
    /// The duration in (fractional) seconds.
    var inSeconds: Double {
        let parts = components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
