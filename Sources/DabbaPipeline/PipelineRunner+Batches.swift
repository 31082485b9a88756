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
        // Dead-lettered after the transaction: one behind an event held for a dependency is read again instead.
        var undecodable: [(KafkaMessage, EventDecodingError)] = []
        for message in messages {
            switch decode(message) {
            case .failure(let error):
                undecodable.append((message, error))
            case .success(let decoded):
                guard hasHandler(decoded) else {
                    metrics.ignored.increment()
                    continue
                }
                candidates.append(decoded)
            }
        }
        guard !candidates.isEmpty else {
            for (message, error) in undecodable { try await handleUndecodableForInbox(message, error) }
            return
        }
        let failures = Mutex<[Int: EventFailure]>([:])
        // Their spans end once the failures are routed, or on any other way out.
        defer { failures.withLock { for failure in $0.values { failure.end() } } }
        var tally = HandleTally()
        defer { tally.record(into: metrics) }
        let outcomes = try await processInInbox(inbox, eventIDs: candidates.map(\.id)) { index, transaction in
            // Not recorded in the inbox, and without aborting the other events of the transaction.
            guard !skipsHeld(candidates[index].message) else { throw SkippedBehindHold() }
            if let failure = await invoke(candidates[index], database: transaction) {
                failures.withLock { $0[index] = failure }
                _ = holdIfUnavailable(candidates[index].message, failure: failure)
                throw failure.error
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
                guard !skipsHeld(candidate.message) else { continue }
                let recorded = failures.withLock { $0[index] }
                try await routeFailure(
                    candidate.message, failure: recorded ?? EventFailure(error: HandlerFailure(reason), span: nil),
                    attempt: Self.attempt(of: candidate.message), eventType: candidate.eventType
                )
            }
        }
        for (message, error) in undecodable where !skipsHeld(message) {
            try await handleUndecodableForInbox(message, error)
        }
    }

    /// Runs one inbox transaction with the hooks before its commit: the tables' conflated writes, then the wait for
    /// the broker's acknowledgement of the events the handlers emitted.
    /// - Parameters:
    ///   - inbox: The inbox.
    ///   - eventIDs: The events, in processing order.
    ///   - body: The handling of event `index`.
    /// - Returns: One outcome per event.
    func processInInbox(
        _ inbox: any InboxStore, eventIDs: [String],
        _ body: (_ index: Int, _ transaction: InboxTransaction) async throws -> Void
    ) async throws -> [InboxOutcome] {
        let tableBatch = tables.map(TableBatch.init)
        let outcomes = try await TableBatch.$current.withValue(tableBatch) {
            try await inbox.processBatch(
                group: pipeline.groupID, eventIDs: eventIDs,
                beforeCommit: { end in
                    try tableBatch?.write(end, eventIDs: eventIDs)
                    try await Self.emitsAcknowledged()
                },
                body
            )
        }
        tableBatch?.recordCommitted()
        return outcomes
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
            try await producer.sendOffsetsToTransaction(offsetsUpToHolds(nextOffsets), group: group)
            try await producer.commitTransaction()
        } catch {
            metrics.transactionsAborted.increment()
            logger.warning("transaction aborted, batch will be reprocessed: \(error)")
            try? await producer.abortTransaction()
            for (partition, offset) in firstOffsets {
                try await rewind(partition, to: offset, because: "its transaction aborted")
            }
            if let kafkaError = error as? KafkaError, kafkaError.isFatal || kafkaError.code == .fenced {
                throw error
            }
            return
        }
        metrics.transactionsCommitted.increment()
        // After the commit, outside the abort path: a committed batch is never rewound to its start.
        try await rewindHeldPartitions()
    }
}
