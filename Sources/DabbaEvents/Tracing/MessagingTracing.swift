import DabbaKafka
import Instrumentation
import Tracing

/// Dabba's use of swift-distributed-tracing: a producer span per event sent, a consumer span per event handled, with
/// the OpenTelemetry messaging conventions for Kafka, and the W3C trace context in the record headers naming the
/// producer span.
///
/// Dabba never bootstraps a tracer: the application does (`InstrumentationSystem.bootstrap`, for example with
/// swift-otel), or passes one to ``EventProducer/tracer`` and `PipelineConfiguration.tracer`. With none (the no-op
/// tracer) no span is made and the records carry the `traceparent` of the event that caused them, as before.
public enum MessagingTracing {
    /// The tracer to use: the given one, else the bootstrapped one; nil when that is the no-op tracer (no spans).
    public static func activeTracer(_ configured: (any Tracer)?) -> (any Tracer)? {
        let tracer = configured ?? InstrumentationSystem.tracer
        return tracer is NoOpTracer ? nil : tracer
    }

    /// A producer span for handing one record to the producer, whose context is injected into the record's headers.
    static func traceSend(
        _ tracer: some Tracer, topic: String, key: String?, id: String, correlationID: String?,
        headers: inout [KafkaHeader]
    ) {
        tracer.withSpan("send \(topic)", ofKind: .producer) { span in
            describe(span, operation: "send", topic: topic, key: key, id: id, correlationID: correlationID)
            tracer.inject(span.context, into: &headers, using: KafkaHeaderInjector())
        }
    }

    /// Sets the attributes every Dabba messaging span carries.
    /// - Parameters:
    ///   - span: The span.
    ///   - operation: `send` or `process` (`messaging.operation.type` and `.name`).
    ///   - topic: The destination topic.
    ///   - key: The record key.
    ///   - envelope: The event's id and correlation id.
    package static func describe(
        _ span: any Span, operation: String, topic: String, key: String?, id: String, correlationID: String?
    ) {
        span.attributes["messaging.system"] = "kafka"
        span.attributes["messaging.operation.type"] = operation
        span.attributes["messaging.operation.name"] = operation
        span.attributes["messaging.destination.name"] = topic
        if let key { span.attributes["messaging.kafka.message.key"] = key }
        span.attributes["messaging.message.id"] = id
        if let correlationID { span.attributes["messaging.message.conversation_id"] = correlationID }
    }
}

/// Writes trace context into a record's headers (replacing a header of the same name).
public struct KafkaHeaderInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout [KafkaHeader]) {
        carrier.removeAll { $0.name == key }
        carrier.append(KafkaHeader(name: key, string: value))
    }
}

/// Reads trace context from a fetched record's headers.
public struct KafkaMessageExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: KafkaMessage) -> String? { carrier.header(key) }
}
