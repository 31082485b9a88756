/// The messages of a ``KafkaConsumer``, in order per partition.
///
/// Iterate from one task. Asking for the next message tells the consumer the previous one is no longer being
/// handled (which graceful shutdown waits for). Messages of partitions revoked or sought after they were fetched
/// are skipped: they are redelivered from the committed or sought offset.
public struct KafkaMessageSequence: AsyncSequence, Sendable {
    public typealias Element = KafkaMessage
    let consumer: KafkaConsumer

    /// The iterator over messages.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let consumer: KafkaConsumer
        var batch: MessageBatch?
        var index = 0

        /// The next message, or nil after the consumer is closed.
        /// - Throws: ``KafkaError`` if the consumer failed fatally.
        public mutating func next() async throws -> KafkaMessage? {
            consumer.inHandler.store(false, ordering: .releasing)
            while true {
                if consumer.isClosing { return nil }
                if let batch, index < batch.count {
                    let current = index
                    index += 1
                    if batch.epoch != consumer.callbacks.epoch.load(ordering: .relaxed),
                        consumer.callbacks.isStale(batch, current)
                    {
                        continue
                    }
                    consumer.inHandler.store(true, ordering: .releasing)
                    return KafkaMessage(batch: batch, index: current)
                }
                batch = nil
                guard let next = await consumer.nextBatch() else {
                    if let error = consumer.terminalErrorIfAny() { throw error }
                    return nil
                }
                batch = next
                index = 0
            }
        }
    }

    /// Makes the iterator.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(consumer: consumer) }
}
