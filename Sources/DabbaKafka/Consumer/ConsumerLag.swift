/// How far a consumer is behind on one partition.
public struct ConsumerLag: Sendable, Hashable {
    /// Records not processed yet: from the one after the last record marked processed (or, before any is, the
    /// consumer's fetch position) to the high watermark. Records fetched ahead but not processed count as behind.
    public var messages: Int64
    /// How old, at most, the oldest record not yet processed is: 0 when caught up (``messages`` is 0); otherwise now
    /// minus the later of the last processed record's timestamp and the last time the partition was seen caught up
    /// (every record behind the position was written after both). Nil while neither is known: nothing processed and
    /// never caught up since the partition was assigned.
    public var seconds: Double?

    /// Creates a lag.
    /// - Parameters:
    ///   - messages: Records behind.
    ///   - seconds: Time behind, when known.
    public init(messages: Int64, seconds: Double?) {
        self.messages = messages
        self.seconds = seconds
    }
}

/// What a consumer's lag is computed from, per partition: the next offset after the last record marked processed,
/// that record's timestamp, and the last time the partition was seen caught up (milliseconds since the Unix epoch).
struct LagClock {
    /// A partition as the per-message path sees it: librdkafka's topic handle and the partition number, cheap to hash
    /// (a topic's name would be hashed for every message).
    struct MarkedPartition: Hashable, Sendable {
        /// The handle's address: only compared, never dereferenced.
        let topicHandle: UInt
        let partition: Int32
    }

    /// The last record marked processed in a partition since the last report.
    private struct Mark {
        let topic: String
        var next: Int64
        var timestamp: Int64?
    }

    /// Written for every record marked processed; folded into the per-partition state at each report.
    private var marks: [MarkedPartition: Mark] = [:]
    private var nextToProcess: [TopicPartition: Int64] = [:]
    private var lastProcessed: [TopicPartition: Int64] = [:]
    private var lastCaughtUp: [TopicPartition: Int64] = [:]

    /// Records a record marked processed (on the per-message path: one dictionary update; the topic's name is read
    /// only for the first record of a partition since the last report).
    mutating func processed(
        _ partition: MarkedPartition, topic: () -> String, offset: Int64, timestamp: Int64?
    ) {
        if let index = marks.index(forKey: partition) {
            marks.values[index].next = max(marks.values[index].next, offset + 1)
            if let timestamp { marks.values[index].timestamp = timestamp }
        } else {
            marks[partition] = Mark(topic: topic(), next: offset + 1, timestamp: timestamp)
        }
    }

    mutating func processed(upTo offsets: [TopicPartitionOffset]) {
        for next in offsets where next.offset >= 0 {
            let partition = TopicPartition(topic: next.topic, partition: next.partition)
            nextToProcess[partition] = max(nextToProcess[partition] ?? 0, next.offset)
        }
    }

    /// The lag of each assigned partition, from its watermarks and fetch position; partitions no longer assigned are
    /// forgotten.
    mutating func report(
        _ partitions: [TopicPartition: (low: Int64, high: Int64, position: Int64?)], nowMilliseconds now: Int64
    ) -> [TopicPartition: ConsumerLag] {
        for (marked, mark) in marks {
            let partition = TopicPartition(topic: mark.topic, partition: marked.partition)
            nextToProcess[partition] = max(nextToProcess[partition] ?? 0, mark.next)
            if let timestamp = mark.timestamp {
                lastProcessed[partition] = max(lastProcessed[partition] ?? timestamp, timestamp)
            }
        }
        marks.removeAll(keepingCapacity: true)
        nextToProcess = nextToProcess.filter { partitions[$0.key] != nil }
        lastProcessed = lastProcessed.filter { partitions[$0.key] != nil }
        lastCaughtUp = lastCaughtUp.filter { partitions[$0.key] != nil }
        var report: [TopicPartition: ConsumerLag] = [:]
        for (partition, offsets) in partitions {
            let next = nextToProcess[partition] ?? offsets.position ?? offsets.low
            let behind = max(0, offsets.high - next)
            guard behind > 0 else {
                lastCaughtUp[partition] = now
                report[partition] = ConsumerLag(messages: 0, seconds: 0)
                continue
            }
            let since = [lastProcessed[partition], lastCaughtUp[partition]].compactMap { $0 }.max()
            report[partition] = ConsumerLag(
                messages: behind, seconds: since.map { Double(max(0, now - $0)) / 1000 }
            )
        }
        return report
    }
}
