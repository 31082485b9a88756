import DabbaEvents
import Tracing

/// A handler's final error, with the event's consumer span (nil without a tracer) still open so that what happens to
/// the event next (held, parked in a retry tier, dead-lettered) is recorded on it. Whoever routes the failure ends
/// the span with ``end()`` once it has.
struct EventFailure: Sendable {
    /// The error of the handler's last attempt.
    let error: any Error
    /// The event's consumer span, open.
    let span: (any Span)?

    /// Records on the span what became of the event (a span event named `dabba.<outcome>`).
    func record(_ outcome: String, _ attributes: SpanAttributes = [:]) {
        span?.addEvent(SpanEvent(name: "dabba.\(outcome)", attributes: attributes))
    }

    /// Ends the span.
    func end() { span?.end() }
}

extension PipelineRunner {
    /// Runs one event's handling (its in-place retries included) in a consumer span, child of the span named by the
    /// record's trace context (the producer span of the service that sent it), with the OpenTelemetry messaging
    /// attributes for Kafka. Events the handler emits are sent from inside it, so their producer spans are its
    /// children: the trace follows the event from service to service.
    /// - Returns: The failure when `handle` returns an error, which the span records (`error.type`, error status);
    ///   the span is then left open for the failure's routing. On success the span is ended.
    func traceProcessing(
        _ decoded: DecodedEvent, tracer: any Tracer, _ handle: () async -> (any Error)?
    ) async -> EventFailure? {
        let message = decoded.message
        var parent = InstrumentationContext.topLevel
        tracer.extract(message, into: &parent, using: KafkaMessageExtractor())
        let span = tracer.startAnySpan("process \(message.topic)", context: parent, ofKind: .consumer)
        let envelope = decoded.envelope
        MessagingTracing.describe(
            span, operation: "process", topic: message.topic, key: message.keyString, id: envelope.id,
            correlationID: envelope.correlationID ?? envelope.id
        )
        span.attributes["messaging.destination.partition.id"] = String(message.partition)
        span.attributes["messaging.consumer.group.name"] = pipeline.groupID
        span.attributes["messaging.kafka.offset"] = Int(message.offset)
        span.attributes["dabba.delivery.attempt"] = Self.attempt(of: message)
        span.attributes["cloudevents.event_type"] = envelope.type
        // The handler runs with the span as its context: its database calls, HTTP calls and emits join the trace.
        let error = await InstrumentationContext.withValue(span.context) { await handle() }
        guard let error else {
            span.end()
            return nil
        }
        span.recordError(error)
        span.attributes["error.type"] = String(reflecting: type(of: error))
        span.setStatus(SpanStatus(code: .error))
        return EventFailure(error: error, span: span)
    }
}
