import DabbaEvents
import DabbaInbox
import DabbaKafka
import Synchronization

extension PipelineRunner {
    /// Processes a batch in one inbox transaction: already-recorded events are skipped and counted; each handled
    /// event's database writes commit together with its inbox mark. Failures are parked after the commit.
    func processWithInbox(_ messages: [KafkaMessage], inbox: any InboxStore) async throws {
        var candidates: [DecodedEvent] = []
        candidates.reserveCapacity(messages.count)
        for message in messages {
            switch decode(message) {
            case .failure(let error):
                try await handleUndecodableForInbox(message, error)
            case .success(let decoded):
                guard hasHandler(decoded) else {
                    metrics.ignored.increment()
                    continue
                }
                candidates.append(decoded)
            }
        }
        guard !candidates.isEmpty else { return }
        let failures = Mutex<[Int: any Error]>([:])
        var tally = HandleTally(metrics)
        defer { tally.record(into: metrics) }
        let outcomes = try await inbox.processBatch(
            group: pipeline.groupID, eventIDs: candidates.map(\.id), beforeCommit: Self.emitsAcknowledged
        ) { index, transaction in
            if let error = await invoke(candidates[index], database: transaction, latency: &tally.latency) {
                failures.withLock { $0[index] = error }
                throw error
            }
        }
        outboxRelay?.wake()
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .processed:
                tally.handled += 1
            case .duplicate:
                metrics.duplicates.increment()
                logger.debug("duplicate event \(candidates[index].id) skipped")
            case .failed(let reason):
                let candidate = candidates[index]
                let recorded: (any Error)? = failures.withLock { $0[index] }
                let error: any Error = recorded ?? HandlerFailure(reason)
                try await routeFailure(
                    candidate.message, error: error, attempt: Self.attempt(of: candidate.message),
                    eventType: candidate.eventType
                )
            }
        }
    }

    func handleUndecodableForInbox(_ message: KafkaMessage, _ error: EventDecodingError) async throws {
        if error.code == .unknownEventType, let type = error.eventType, pipeline.ignored[type] != nil {
            metrics.ignored.increment()
            return
        }
        metrics.failed.increment()
        try await deadLetter(
            message, errorType: "DabbaEvents.EventDecodingError.\(error.code)", errorMessage: error.reason,
            attempt: Self.attempt(of: message)
        )
    }

    /// Processes a batch inside one Kafka transaction: emitted events, parked events and the batch's input offsets
    /// commit together. On failure the transaction is aborted and the batch's partitions are rewound, so the batch
    /// is processed again and nothing it emitted is ever visible to `read_committed` consumers.
    func processTransactionally(_ messages: [KafkaMessage]) async throws {
        var firstOffsets: [TopicPartition: Int64] = [:]
        var nextOffsets: [TopicPartition: Int64] = [:]
        for message in messages {
            let partition = message.topicPartition
            if firstOffsets[partition] == nil { firstOffsets[partition] = message.offset }
            nextOffsets[partition] = message.offset + 1
        }
        do {
            try await producer.beginTransaction()
            try await processCore(messages)
            let group = try consumer.groupMetadata()
            try await producer.sendOffsetsToTransaction(
                nextOffsets.map { TopicPartitionOffset(topic: $0.key.topic, partition: $0.key.partition, offset: $0.value) },
                group: group
            )
            try await producer.commitTransaction()
            metrics.transactionsCommitted.increment()
        } catch {
            metrics.transactionsAborted.increment()
            logger.warning("transaction aborted, batch will be reprocessed: \(error)")
            try? await producer.abortTransaction()
            for (partition, offset) in firstOffsets {
                try? await consumer.seek(TopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: offset))
            }
            if let kafkaError = error as? KafkaError, kafkaError.isFatal || kafkaError.code == .fenced {
                throw error
            }
        }
    }
}
