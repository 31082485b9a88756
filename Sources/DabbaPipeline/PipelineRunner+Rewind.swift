import DabbaKafka

extension PipelineRunner {
    /// Moves a partition's fetch position back to `offset`, so that record and the ones after it are read again.
    ///
    /// A partition revoked meanwhile (or a consumer closing) needs no rewind: nothing at or after `offset` was
    /// marked, so its next owner reads from there. Any other failure is thrown: going on would read, and then mark,
    /// past records that must be read again.
    /// - Parameters:
    ///   - partition: The partition to rewind.
    ///   - offset: The offset to read next.
    ///   - reason: Why, for the log.
    func rewind(_ partition: TopicPartition, to offset: Int64, because reason: String) async throws {
        do {
            try await consumer.seek(
                TopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: offset)
            )
        } catch let error as KafkaError where error.code == .closed || !consumer.assignment.contains(partition) {
            logger.debug("\(partition) no longer ours, not rewound (\(reason)): \(error)")
        } catch {
            logger.error("could not rewind \(partition) to \(offset) (\(reason)): \(error)")
            throw error
        }
    }
}
