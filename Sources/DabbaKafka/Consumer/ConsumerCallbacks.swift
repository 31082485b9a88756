internal import CRDKafka
import Foundation
import Logging
import Synchronization

/// Rebalance handling for one consumer.
///
/// Messages are handed to the application in batches, so a batch fetched before a rebalance or seek may still be
/// buffered afterwards. Each batch carries the epoch at which it was fetched; revoking or seeking a partition
/// records the current epoch for it and advances the epoch. A buffered message whose partition was invalidated at
/// or after its batch's epoch is discarded instead of delivered: it will be fetched again by its new owner (or
/// from the seek position), so nothing is lost and nothing is processed by a member that no longer owns it.
final class ConsumerCallbacks: ClientCallbacks, @unchecked Sendable {
    let epoch = Atomic<UInt64>(1)
    let invalidations = Mutex<[TopicPartition: UInt64]>([:])
    /// Set while serving a rebalance, so the poll loop can end the current batch at the rebalance boundary.
    let rebalanced = Atomic<Bool>(false)
    let assignment = Mutex<Set<TopicPartition>>([])
    let events: AsyncStream<ConsumerEvent>.Continuation
    let revocationHandler: (@Sendable ([TopicPartition]) -> Bool)?
    /// Which newly assigned partitions start paused (see `KafkaConsumer`'s `pausedOnAssignment`).
    let assignmentPauses: (@Sendable ([TopicPartition]) -> [TopicPartition])?
    let revocationTimeout: Duration
    /// Work to run on the fetch thread between batches (seeks), also served while a revocation waits.
    let commands = Mutex<[@Sendable (OpaquePointer) -> Void]>([])

    init(
        logger: Logger,
        events: AsyncStream<ConsumerEvent>.Continuation,
        revocationHandler: (@Sendable ([TopicPartition]) -> Bool)?,
        assignmentPauses: (@Sendable ([TopicPartition]) -> [TopicPartition])? = nil,
        revocationTimeout: Duration
    ) {
        self.events = events
        self.revocationHandler = revocationHandler
        self.assignmentPauses = assignmentPauses
        self.revocationTimeout = revocationTimeout
        super.init(logger: logger)
    }

    /// Runs queued commands on the calling (fetch) thread.
    func runCommands(_ handle: OpaquePointer) {
        let pending = commands.withLock { commands in
            defer { commands = [] }
            return commands
        }
        for command in pending { command(handle) }
    }

    /// Lets the application finish and mark in-flight work of revoked partitions before librdkafka commits their
    /// offsets, serving seeks meanwhile so the application cannot deadlock on the fetch thread.
    private func awaitRevocation(_ handle: OpaquePointer, _ partitions: [TopicPartition]) {
        guard let revocationHandler else { return }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: revocationTimeout)
        while !revocationHandler(partitions) {
            guard clock.now < deadline else {
                logger.warning(
                    "in-flight work of revoked partitions did not finish within \(revocationTimeout); its events will be redelivered"
                )
                return
            }
            runCommands(handle)
            usleep(2_000)
        }
    }

    /// Marks partitions' buffered messages stale (see the type's documentation).
    func invalidate(_ partitions: [TopicPartition]) {
        guard !partitions.isEmpty else { return }
        invalidations.withLock { invalidations in
            let current = epoch.load(ordering: .sequentiallyConsistent)
            for partition in partitions { invalidations[partition] = current }
            // Sequentially consistent: pairs with readers that publish "work in flight" before checking staleness.
            epoch.store(current + 1, ordering: .sequentiallyConsistent)
        }
    }

    /// Whether message `index` of `batch` was invalidated after the batch was fetched.
    func isStale(_ batch: MessageBatch, _ index: Int) -> Bool {
        let record = batch.pointers[index].pointee
        let key = TopicPartition(topic: batch.topicNames[Int(batch.topicIndices[index])], partition: record.partition)
        return invalidations.withLock { ($0[key] ?? 0) >= batch.epoch }
    }

    func rebalance(
        _ handle: OpaquePointer,
        _ code: rd_kafka_resp_err_t,
        _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?
    ) {
        rebalanced.store(true, ordering: .releasing)
        let partitions = TopicPartitionList.read(list).map { TopicPartition(topic: $0.topic, partition: $0.partition) }
        let cooperative = rd_kafka_rebalance_protocol(handle).map { String(cString: $0) } == "COOPERATIVE"
        switch code {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            if cooperative {
                if let error = rd_kafka_incremental_assign(handle, list) {
                    report(KafkaError(consuming: error, context: "incremental assign"))
                }
            } else {
                let result = rd_kafka_assign(handle, list)
                if result != RD_KAFKA_RESP_ERR_NO_ERROR { report(KafkaError(responseCode: result, context: "assign")) }
            }
            assignment.withLock { $0.formUnion(partitions) }
            let paused = applyAssignmentPauses(handle, partitions)
            logger.info(
                "partitions assigned",
                metadata: ["partitions": "\(partitions.map(\.description))", "paused": "\(paused.map(\.description))"])
            events.yield(.assigned(partitions, paused: paused))
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            invalidate(partitions)
            awaitRevocation(handle, partitions)
            if cooperative {
                if let error = rd_kafka_incremental_unassign(handle, list) {
                    report(KafkaError(consuming: error, context: "incremental unassign"))
                }
            } else {
                _ = rd_kafka_assign(handle, nil)
            }
            assignment.withLock { $0.subtract(partitions) }
            logger.info("partitions revoked", metadata: ["partitions": "\(partitions.map(\.description))"])
            events.yield(.revoked(partitions))
        default:
            report(KafkaError(responseCode: code, context: "rebalance failed"))
            let current = assignment.withLock { Array($0) }
            invalidate(current)
            _ = rd_kafka_assign(handle, nil)
            assignment.withLock { $0.removeAll() }
        }
    }

    /// Pauses the newly assigned partitions the application wants paused before any of them is fetched, and
    /// resumes the others: whether librdkafka keeps a pause across a revocation and a new assignment is not
    /// something to depend on.
    /// - Returns: The partitions paused.
    private func applyAssignmentPauses(_ handle: OpaquePointer, _ partitions: [TopicPartition]) -> [TopicPartition] {
        guard let assignmentPauses, !partitions.isEmpty else { return [] }
        let paused = Set(assignmentPauses(partitions))
        let flowing = partitions.filter { !paused.contains($0) }
        for (subset, pause) in [(Array(paused), true), (flowing, false)] where !subset.isEmpty {
            TopicPartitionList.with(
                subset.map { TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: 0) }
            ) { list in
                _ = pause ? rd_kafka_pause_partitions(handle, list) : rd_kafka_resume_partitions(handle, list)
                if let error = TopicPartitionList.firstError(list, context: pause ? "pause on assignment" : "resume") {
                    report(error)
                }
            }
        }
        return partitions.filter { paused.contains($0) }
    }

    func report(_ error: KafkaError) {
        var error = error
        error.code = error.code == .other ? .consumerGroup : error.code
        logger.warning("consumer error: \(error)")
        events.yield(.error(error))
    }
}

func rebalanceCallback(
    _ handle: OpaquePointer?,
    _ code: rd_kafka_resp_err_t,
    _ list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?,
    _ opaque: UnsafeMutableRawPointer?
) {
    // Only consumers install this callback, so the opaque is always their ConsumerCallbacks.
    guard let handle, let opaque else { return }
    Unmanaged<ConsumerCallbacks>.fromOpaque(opaque).takeUnretainedValue().rebalance(handle, code, list)
}
