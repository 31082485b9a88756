import DabbaKafka
import Synchronization

/// Prints delivery reports of enqueued messages as JSON lines, in input order.
///
/// Reports arrive per partition, so across partitions they can come back out of order; the log holds early ones
/// until every earlier message is reported (at most the messages in flight). Failures are kept for the summary.
final class DeliveryLog: Sendable {
    /// A message handed to the producer: its id from `enqueue`, input line and key.
    struct Entry: Sendable {
        var id: UInt64
        var line: Int
        var key: String?
    }

    /// A message that was not delivered.
    struct Failure: Sendable {
        var line: Int
        var key: String?
        var error: KafkaError
    }

    private struct State {
        var pending: [Entry] = []
        var head = 0
        var reports: [UInt64: DeliveryReport] = [:]
        var delivered = 0
        var failures: [Failure] = []
    }

    private let state = Mutex(State())

    /// Records a message the producer accepted.
    func enqueued(_ entry: Entry) {
        state.withLock { state in
            state.pending.append(entry)
            Self.drain(&state)
        }
    }

    /// Records a delivery report; prints it (and any later ones it was holding back) once its turn comes.
    func received(_ report: DeliveryReport) {
        state.withLock { state in
            state.reports[report.messageID] = report
            Self.drain(&state)
        }
    }

    /// How many messages were delivered and which failed, in input order.
    var outcome: (delivered: Int, failures: [Failure]) {
        state.withLock { ($0.delivered, $0.failures) }
    }

    private static func drain(_ state: inout State) {
        while state.head < state.pending.count,
            let report = state.reports.removeValue(forKey: state.pending[state.head].id)
        {
            let entry = state.pending[state.head]
            state.head += 1
            if let error = report.error {
                state.failures.append(Failure(line: entry.line, key: entry.key, error: error))
            } else {
                state.delivered += 1
                Output.json(deliveryJSON(report, key: entry.key))
            }
        }
        if state.head >= 4096, state.head * 2 >= state.pending.count {
            state.pending.removeFirst(state.head)
            state.head = 0
        }
    }
}

/// The JSON line printed for a delivered message.
func deliveryJSON(_ report: DeliveryReport, key: String?) -> [String: Any] {
    [
        "topic": report.topic,
        "partition": Int(report.partition),
        "offset": Int(report.offset),
        "key": jsonString(key),
    ]
}
