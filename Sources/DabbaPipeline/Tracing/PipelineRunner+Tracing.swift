import DabbaEvents
import Tracing

extension PipelineRunner {
    /// Runs one event's handling (its in-place retries included) in a consumer span, child of the span named by the
    /// record's trace context (the producer span of the service that sent it), with the OpenTelemetry messaging
    /// attributes for Kafka. Events the handler emits are sent from inside it, so their producer spans are its
    /// children: the trace follows the event from service to service.
    /// - Returns: What `handle` returns: the final error, which the span records (`error.type`, error status).
    func traceProcessing(
        _ decoded: DecodedEvent, tracer: some Tracer, _ handle: () async -> (any Error)?
    ) async -> (any Error)? {
        let message = decoded.message
        var parent = InstrumentationContext.topLevel
        tracer.extract(message, into: &parent, using: KafkaMessageExtractor())
        return await tracer.withSpan("process \(message.topic)", context: parent, ofKind: .consumer) { span in
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
            guard let error = await handle() else { return nil }
            span.recordError(error)
            span.attributes["error.type"] = String(reflecting: type(of: error))
            span.setStatus(SpanStatus(code: .error))
            return error
        }
    }
}
