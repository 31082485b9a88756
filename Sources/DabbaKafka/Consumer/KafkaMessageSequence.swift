/// The messages of a ``KafkaConsumer``, in order per partition.
///
/// Iterate from one task at a time. The read position lives in the consumer, not the iterator, so breaking out of
/// a `for await` loop and iterating again continues with the next message: none is skipped. Asking for the next
/// message tells the consumer the previous one is no longer being handled (which graceful shutdown waits for).
/// Messages of partitions revoked or sought after they were fetched are skipped: they are redelivered from the
/// committed or sought offset.
public struct KafkaMessageSequence: AsyncSequence, Sendable {
    public typealias Element = KafkaMessage
    let consumer: KafkaConsumer

    /// The iterator over messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer

        /// The next message, or nil after the consumer is closed (or the iterating task is cancelled).
        /// - Throws: ``KafkaError`` if the consumer failed fatally.
        public mutating func next() async throws -> KafkaMessage? {
            try await consumer.nextMessage()
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer) }
}

/// The position within the batch being handed out. Only the (single) iterating task touches it; successive
/// iterations are ordered by their awaits, so no lock is needed on the per-message path.
final class ReadCursor: @unchecked Sendable {
    var batch: MessageBatch?
    var index = 0
}

extension KafkaConsumer {
    /// The messages already fetched, up to `maxCount`, waiting only when none is buffered: the pull API for
    /// runtimes that process a fetch batch at a time (pipelines, inbox batching, transactions). Shares its read
    /// position with ``messages``.
    /// - Parameter maxCount: The most messages to return.
    /// - Returns: At least one message, or nil after the consumer is closed.
    /// - Throws: ``KafkaError`` if the consumer failed fatally.
    public func nextMessages(upTo maxCount: Int = 1024) async throws -> [KafkaMessage]? {
        guard let first = try await nextMessage() else { return nil }
        var messages = [first]
        takeFromCurrentBatch(upTo: maxCount, into: &messages)
        return messages
    }

    /// More messages only if they are already fetched (the rest of the current fetch batch, else the next buffered
    /// batch), never waiting: lets a runtime that just took a batch with ``nextMessages(upTo:)`` take what is
    /// buffered behind it too, so a backlog is processed in fewer, larger units (an inbox commits per unit). Shares
    /// the read position with ``messages``; the messages come from one fetch batch.
    /// - Parameter maxCount: The most messages to return.
    /// - Returns: The messages, empty when none is buffered (or the consumer is closing).
    package func bufferedMessages(upTo maxCount: Int) -> [KafkaMessage] {
        guard maxCount > 0, !isClosing else { return [] }
        let cursor = self.cursor
        if cursor.batch.map({ cursor.index >= $0.count }) ?? true {
            guard let ready = readyBatch() else { return [] }
            cursor.batch = ready
            cursor.index = 0
        }
        var messages: [KafkaMessage] = []
        takeFromCurrentBatch(upTo: maxCount, into: &messages)
        if !messages.isEmpty { inHandler.store(true, ordering: .releasing) }
        return messages
    }

    /// Appends the current fetch batch's next messages until `messages` holds `maxCount`, skipping stale ones.
    private func takeFromCurrentBatch(upTo maxCount: Int, into messages: inout [KafkaMessage]) {
        let cursor = self.cursor
        guard let batch = cursor.batch else { return }
        let currentEpoch = callbacks.epoch.load(ordering: .relaxed)
        while messages.count < maxCount, cursor.index < batch.count {
            let current = cursor.index
            cursor.index = current + 1
            if batch.epoch != currentEpoch, callbacks.isStale(batch, current) { continue }
            messages.append(KafkaMessage(batch: batch, index: current))
        }
    }

    func nextMessage() async throws -> KafkaMessage? {
        inHandler.store(false, ordering: .releasing)
        let cursor = self.cursor
        while true {
            if isClosing { return nil }
            if let batch = cursor.batch, cursor.index < batch.count {
                let current = cursor.index
                cursor.index = current + 1
                if batch.epoch != callbacks.epoch.load(ordering: .relaxed), callbacks.isStale(batch, current) {
                    continue
                }
                inHandler.store(true, ordering: .releasing)
                return KafkaMessage(batch: batch, index: current)
            }
            cursor.batch = nil
            guard let next = await nextBatch() else {
                if let error = terminalErrorIfAny() { throw error }
                return nil
            }
            cursor.batch = next
            cursor.index = 0
        }
    }
}
