internal import CRDKafka
import Logging
import Synchronization

/// The consumer's fetch thread body: polls librdkafka, groups messages into batches and hands them over.
final class FetchLoop: Sendable {
    let client: RDKafkaClient
    let callbacks: ConsumerCallbacks
    let channel: BatchChannel<MessageBatch>
    let batchSize: Int
    /// Whether headers are parsed here, off the application's path (``ConsumerConfiguration/parsesHeadersOnFetch``).
    let parsesHeaders: Bool
    /// Set when the consumer failed fatally; the message sequence throws it.
    let terminalError = Mutex<KafkaError?>(nil)
    /// Destroys finished batches here, between fetches, and recycles their arrays.
    let recycler: MessageRecycler
    let logger: Logger

    init(
        client: RDKafkaClient,
        callbacks: ConsumerCallbacks,
        channel: BatchChannel<MessageBatch>,
        batchSize: Int,
        parsesHeaders: Bool,
        logger: Logger
    ) {
        self.client = client
        self.callbacks = callbacks
        self.channel = channel
        self.batchSize = batchSize
        self.parsesHeaders = parsesHeaders
        self.logger = logger
        // The batches the application may hold (buffered, being read, being handled) plus a few in flight.
        self.recycler = MessageRecycler(spareLimit: 16)
    }

    /// Runs queued commands (seeks) and destroys finished batches between fetches.
    func runCommands() {
        callbacks.runCommands(client.pointer)
        recycler.destroyRetired()
    }

    /// The fetch thread is leaving: finished batches are destroyed by whoever releases them from now on.
    func stopped() {
        recycler.close()
    }

    private func makeBuilder() -> BatchBuilder {
        BatchBuilder(
            storage: recycler.spareStorage(), capacity: batchSize, epoch: callbacks.epoch.load(ordering: .acquiring)
        )
    }

    /// Fetches one batch (waiting up to 100 ms for its first message) and hands it over.
    func fetchBatch(isStopping: () -> Bool) {
        runCommands()
        var builder = makeBuilder()
        while builder.count < batchSize, !isStopping() {
            callbacks.rebalanced.store(false, ordering: .relaxed)
            let message = rd_kafka_consumer_poll(client.pointer, builder.count == 0 ? 100 : 0)
            if callbacks.rebalanced.load(ordering: .acquiring) {
                // Messages before the rebalance keep their old epoch (and are filtered if revoked); the message
                // returned with it, if any, was fetched under the new assignment.
                hand(over: &builder, isStopping: isStopping)
                builder = makeBuilder()
            }
            guard let message else { break }
            if message.pointee.err != RD_KAFKA_RESP_ERR_NO_ERROR {
                handleError(message)
                rd_kafka_message_destroy(message)
                continue
            }
            if parsesHeaders {
                // librdkafka parses and caches the headers on first access; later reads only look them up.
                var headers: OpaquePointer?
                _ = rd_kafka_message_headers(message, &headers)
            }
            builder.append(message)
        }
        hand(over: &builder, isStopping: isStopping)
    }

    private func hand(over builder: inout BatchBuilder, isStopping: () -> Bool) {
        guard builder.count > 0 else { return }
        let batch = builder.build(client: client, headersParsed: parsesHeaders, recycler: recycler)
        builder = BatchBuilder(storage: nil, capacity: 0, epoch: builder.epoch)
        channel.push(batch) { [self] in
            runCommands()
            return isStopping()
        }
    }

    private func handleError(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let record = message.pointee
        if record.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return }
        let topic = record.rkt.map { RDKafkaClient.topicName($0) }
        var error = KafkaError(
            responseCode: record.err,
            context: "consumer error",
            topic: topic,
            partition: record.partition >= 0 ? record.partition : nil
        )
        if record.payload != nil, record.len > 0 {
            let text = String(
                decoding: UnsafeRawBufferPointer(start: record.payload, count: record.len), as: UTF8.self
            )
            error.message = "consumer error: \(text)"
        }
        if record.err == RD_KAFKA_RESP_ERR__FATAL {
            error.isFatal = true
            terminalError.withLock { $0 = error }
            logger.error("fatal consumer error: \(error)")
            channel.finish()
            return
        }
        callbacks.report(error)
    }
}

/// Accumulates one batch's message pointers and topic names on the fetch thread.
struct BatchBuilder {
    var pointers: [UnsafeMutablePointer<rd_kafka_message_t>] = []
    var topicIndices: [UInt16] = []
    var topicNames: [String] = []
    var lastTopic: OpaquePointer?
    var lastIndex: UInt16 = 0
    var topicHandles: [OpaquePointer?] = []
    let epoch: UInt64

    init(storage: MessageRecycler.Storage?, capacity: Int, epoch: UInt64) {
        self.epoch = epoch
        if let storage {
            pointers = storage.pointers
            topicIndices = storage.topicIndices
        }
        pointers.reserveCapacity(capacity)
        topicIndices.reserveCapacity(capacity)
    }

    var count: Int { pointers.count }

    mutating func append(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let topic = message.pointee.rkt
        if topic != lastTopic {
            if let known = topicHandles.firstIndex(of: topic) {
                lastIndex = UInt16(known)
            } else {
                topicHandles.append(topic)
                topicNames.append(RDKafkaClient.topicName(topic))
                lastIndex = UInt16(topicNames.count - 1)
            }
            lastTopic = topic
        }
        pointers.append(message)
        topicIndices.append(lastIndex)
    }

    func build(client: RDKafkaClient, headersParsed: Bool, recycler: MessageRecycler) -> MessageBatch {
        MessageBatch(
            client: client, pointers: pointers, topicIndices: topicIndices, topicNames: topicNames, epoch: epoch,
            headersParsed: headersParsed, recycler: recycler
        )
    }
}
