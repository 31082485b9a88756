import DabbaEvents
import DabbaInbox
import DabbaKafka
import Logging
import Synchronization

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
    /// Counts this handling's emits, for their derived ids.
    let emissions: EmissionCounter
    /// The pipeline's circuit breakers (see ``breaker(_:)``).
    let breakers: CircuitBreakers
    /// The pipeline's timer settings (see ``timers``); nil where timers cannot be scheduled.
    var timerEnvironment: TimerEnvironment? = nil
    /// The metrics of the pipeline's windows (see ``Pipeline/window(_:of:_:aggregate:time:lateEvents:result:)``).
    var windowMetrics: WindowMetrics? = nil

    /// Emits an event caused by this one: it inherits the correlation id and trace context, and its causation id
    /// is this event's id. The call returns once the producer has the event, without waiting for the broker: in
    /// exactly-once mode the event is part of the batch's transaction; otherwise the batch's offsets (and inbox
    /// transaction) commit only after the broker acknowledged every event the batch's handlers emitted, and a
    /// batch whose emit failed is not committed but read again. Emitted events keep their order per partition.
    ///
    /// The emitted event's id is derived from what caused it (see
    /// ``derivedEventID(groupID:causingEventID:eventType:emission:)``): the consumer group, this event's id, the
    /// emitted type, and `discriminator` or else the emit's ordinal in this handling (`#1` for the first call of
    /// `emit`, `#2` for the second, …; counted afresh for each attempt). When the handler runs again for the same
    /// event (after a crash, a rewind, a rebalance or from a retry tier) it emits the same ids, so every downstream
    /// inbox applies the repeat once. Give a `discriminator` when what a handler emits, or in which order, can
    /// differ between runs (emits from concurrent child tasks, or that depend on something outside the event and
    /// the inbox database); set `metadata.id` to choose the id yourself.
    /// - Parameters:
    ///   - event: The event to emit.
    ///   - discriminator: Names this emission among the handler's emits of the same type, in place of its ordinal.
    ///   - metadata: Overrides (id, key, topic, subject, extra extensions); links to this event are always set.
    /// - Throws: ``KafkaError`` when sending fails, or an encoding error.
    public func emit<E: Event>(
        _ event: E, discriminator: String? = nil, metadata: EventMetadata = EventMetadata()
    ) async throws {
        let envelope = self.envelope
        var linked = metadata
        let ordinal = emissions.next()
        if linked.id == nil {
            linked.id = Self.derivedEventID(
                groupID: groupID, causingEventID: envelope.id, eventType: E.eventType,
                emission: discriminator ?? "#\(ordinal)"
            )
        }
        linked.correlationID = envelope.correlationID ?? envelope.id
        linked.causationID = envelope.id
        linked.traceParent = metadata.traceParent ?? envelope.traceParent
        linked.traceState = metadata.traceState ?? envelope.traceState
        try await emitter.emit(event, metadata: linked, source: TopicPartition(topic: topic, partition: partition))
    }
}

extension EventContext {
    /// The id ``emit(_:discriminator:metadata:)`` gives an emitted event: a name-based UUID (version 5) of the
    /// consumer group, the causing event's id, the emitted event type and the emission (`#<ordinal>` or the
    /// caller's discriminator). Deterministic: a re-run emits byte-identical ids.
    /// - Parameters:
    ///   - groupID: The consumer group handling the causing event.
    ///   - causingEventID: The causing event's id (`ce_id`).
    ///   - eventType: The emitted event's type.
    ///   - emission: `#1`, `#2`, … for the n-th emit of the handling, or the discriminator the handler passed.
    /// - Returns: The id.
    public static func derivedEventID(
        groupID: String, causingEventID: String, eventType: String, emission: String
    ) -> String {
        EventID.derived(from: [groupID, causingEventID, eventType, emission])
    }
}

/// The ordinal of each emit within one handling of one event (reset for each in-place attempt).
final class EmissionCounter: Sendable {
    private let count = Atomic<Int>(0)

    /// The next ordinal, from 1.
    func next() -> Int { count.wrappingAdd(1, ordering: .relaxed).newValue }

    /// Starts counting again (a new attempt emits what the previous one did, under the same ids).
    func reset() { count.store(0, ordering: .relaxed) }
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
