/// How much fetched data may wait in memory for the handlers: a slow handler makes the consumer fetch less instead
/// of buffering without limit.
///
/// librdkafka prefetches into its consumer queue until `queued.max.messages.kbytes` is reached (one queue for the
/// whole consumer since librdkafka 1.x; the bound may be overshot by one fetch response, whose size
/// `fetch.max.bytes` and `fetch.message.max.bytes` bound). The budget is split: half for the queue, half for one
/// fetch response. Behind the queue, the consumer hands out at most `maxBufferedBatches` batches of
/// ``PipelineConfiguration/batchSize`` records, counted in records: with records of size S the whole buffer is
/// about `maxBufferedBytes + 8 × batchSize × S`.
public struct FetchBudget: Sendable, Hashable {
    /// The default budget, 64 MiB.
    public static let defaultBytes = 64 << 20
    /// The smallest budget, 2 MiB (librdkafka fetches up to one record batch of about 1 MB at least).
    public static let minimumBytes = 2 << 20

    /// The most bytes of fetched records buffered ahead of the handlers.
    public var maxBufferedBytes: Int

    /// Creates a budget.
    /// - Parameter maxBufferedBytes: The most bytes buffered (64 MiB by default; at least 2 MiB).
    public init(maxBufferedBytes: Int = FetchBudget.defaultBytes) {
        self.maxBufferedBytes = maxBufferedBytes
    }

    /// Why this budget cannot be used, or nil.
    public var problem: String? {
        guard maxBufferedBytes < Self.minimumBytes else { return nil }
        return "the fetch budget must be at least 2 MiB (\(Self.minimumBytes) bytes), not \(maxBufferedBytes) bytes"
    }

    /// The librdkafka properties that enforce the budget.
    public var consumerProperties: [String: String] {
        let half = maxBufferedBytes / 2
        return [
            "queued.max.messages.kbytes": String(max(1, half / 1024)),
            "fetch.max.bytes": String(max(1 << 20, half)),
            "fetch.message.max.bytes": String(min(1 << 20, max(64 << 10, maxBufferedBytes / 8))),
        ]
    }

    /// The librdkafka properties the budget sets: an escape-hatch property among them would override it.
    public static let propertyNames: Set<String> = [
        "queued.max.messages.kbytes", "fetch.max.bytes", "fetch.message.max.bytes", "max.partition.fetch.bytes",
    ]
}
