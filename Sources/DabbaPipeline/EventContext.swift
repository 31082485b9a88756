import DabbaEvents
import DabbaInbox
import DabbaKafka
import Logging

/// Everything a handler knows about the event it handles, and how it emits new events.
///
/// Made per event, so it holds references only: the attributes are read from the decoded event when asked for.
public struct EventContext: Sendable {
    let event: DecodedEvent
    /// The CloudEvents attributes (id, source, type, time, correlation and causation ids, trace).
    public var envelope: EventEnvelope { event.envelope }
    /// The record key (the event's partition key).
    public var key: String? { event.message.keyString }
    /// The topic the event was read from (a retry topic on redelivery).
    public var topic: String { event.message.topic }
    /// The partition it was read from.
    public var partition: Int32 { event.message.partition }
    /// Its offset.
    public var offset: Int64 { event.message.offset }
    /// Which delivery this is: 1 for the first, 2 for the first retry tier, and so on.
    public var attempt: Int { PipelineRunner.attempt(of: event.message) }
    /// The consumer group.
    public let groupID: String
    /// A logger whose metadata carries the event id, type and correlation id (built when first asked for, so
    /// handlers that do not log pay nothing for it).
    public var logger: Logger {
        let envelope = self.envelope
        var logger = baseLogger
        logger[metadataKey: "event.id"] = "\(envelope.id)"
        logger[metadataKey: "event.type"] = "\(envelope.type)"
        logger[metadataKey: "correlation.id"] = "\(envelope.correlationID ?? envelope.id)"
        return logger
    }
    let baseLogger: Logger
    /// The inbox database, inside this event's savepoint, when the pipeline has an inbox: write the handler's own
    /// state here so it commits together with the inbox mark (exactly-once effects).
    public let database: (any InboxTransaction)?
    let emitter: Emitter

    /// Emits an event caused by this one: it inherits the correlation id and trace context, and its causation id
    /// is this event's id. The call returns once the producer has the event, without waiting for the broker: in
    /// exactly-once mode the event is part of the batch's transaction; otherwise the batch's offsets (and inbox
    /// transaction) commit only after the broker acknowledged every event the batch's handlers emitted, and a
    /// batch whose emit failed is not committed but read again. Emitted events keep their order per partition.
    /// - Parameters:
    ///   - event: The event to emit.
    ///   - metadata: Overrides (key, topic, subject, extra extensions); links to this event are always set.
    /// - Throws: ``KafkaError`` when sending fails, or an encoding error.
    public func emit<E: Event>(_ event: E, metadata: EventMetadata = EventMetadata()) async throws {
        let envelope = self.envelope
        var linked = metadata
        linked.correlationID = envelope.correlationID ?? envelope.id
        linked.causationID = envelope.id
        linked.traceParent = metadata.traceParent ?? envelope.traceParent
        linked.traceState = metadata.traceState ?? envelope.traceState
        try await emitter.emit(event, metadata: linked, source: TopicPartition(topic: topic, partition: partition))
    }
}

/// Sends handlers' events: acknowledged per batch (``BatchDeliveries``) normally, enqueued inside an exactly-once
/// transaction, or written to the outbox in the event's database transaction in outbox mode.
struct Emitter: Sendable {
    let events: EventProducer
    let transactional: Bool
    /// Outbox mode: where emitted events go instead of the producer.
    var outbox: OutboxWriter? = nil
    /// The event's database transaction (outbox mode writes through it).
    var transaction: (any InboxTransaction)? = nil

    /// This emitter for one event, writing to the outbox through the event's transaction.
    func within(_ transaction: (any InboxTransaction)?) -> Emitter {
        guard outbox != nil else { return self }
        var emitter = self
        emitter.transaction = transaction
        return emitter
    }

    func emit<E: Event>(_ event: E, metadata: EventMetadata, source: TopicPartition) async throws {
        if let outbox {
            guard let transaction else {
                throw PipelineError(
                    .configuration, "outbox mode emits through the event's inbox transaction, and there is none"
                )
            }
            try outbox.append(events.message(for: event, metadata: metadata), in: transaction)
        } else if transactional {
            try await events.enqueue(event, metadata: metadata)
        } else if let batch = BatchDeliveries.current {
            batch.add(try await events.submit(event, metadata: metadata), from: source)
        } else {
            try await events.send(event, metadata: metadata)
        }
    }

    func send(_ message: ProducerMessage) async throws {
        if transactional {
            try await events.producer.enqueue(message)
        } else {
            try await events.producer.send(message)
        }
    }
}
