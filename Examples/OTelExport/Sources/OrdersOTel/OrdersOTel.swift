// orders-otel: a pipeline service that exports Dabba's traces and metrics over OTLP with swift-otel (README.md).
//
// It consumes `food.orders` as the `food-orders` group of Topics/food-delivery.asyncapi.yaml (run it with the
// repository's Topics/ as its catalog): it handles `food.order.placed` and ignores the other order events the catalog
// routes to that group.
import ArgumentParser
import DabbaEvents
import DabbaPipeline
import DabbaService
import CoreMetrics
import Logging
import OTel
import ServiceLifecycle
import Tracing

/// `food.order.placed`, the fields this service reads (decoding ignores the others the catalog's schema has).
struct OrderPlaced: Event {
    static let eventType = "food.order.placed"

    struct Item: Codable, Sendable {
        var itemId: String
        var quantity: Int
    }

    var orderId: String
    var customerId: String
    var restaurantId: String
    var city: String
    var items: [Item]

    var partitionKey: String? { orderId }
}

@main
struct OrdersOTel: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orders-otel", abstract: "Counts placed orders; exports traces and metrics over OTLP."
    )

    @OptionGroup var options: PipelineOptions

    @Flag(help: "Export logs over OTLP instead of printing them (swift-otel's own diagnostics are still printed).")
    var otlpLogs = false

    func run() async throws {
        // `dabba contract verify` runs the service with --contract-report: no exporter needed for a JSON line.
        if options.contractReport { return try await PipelineService.run(Self.makePipeline(), options: options) }

        var configuration = OTel.Configuration.default
        configuration.serviceName = "orders-otel"
        // OTLP/HTTP+protobuf to http://localhost:4318 (/v1/traces, /v1/metrics, /v1/logs) unless the OTEL_* variables
        // say otherwise: they are applied over this configuration when it is bootstrapped.
        configuration.traces.exporter = .otlp
        configuration.metrics.exporter = .otlp
        configuration.metrics.exportInterval = .seconds(10)  // the default is 60 s; OTEL_METRIC_EXPORT_INTERVAL wins
        configuration.logs.enabled = otlpLogs
        if !otlpLogs {
            // Logs stay on standard error, with the trace_id and span_id of the span they are written in.
            LoggingSystem.bootstrap(
                StreamLogHandler.standardError(label:metadataProvider:),
                metadataProvider: OTel.makeLoggingMetadataProvider()
            )
        }
        // Bootstraps InstrumentationSystem (the tracer Dabba's producer and consumer spans use) and MetricsSystem (and
        // LoggingSystem with --otlp-logs); returns the service that batches and exports, to run next to the pipeline.
        let observability = try OTel.bootstrap(configuration: configuration)
        // Made after the bootstrap: a swift-metrics metric binds to the backend bootstrapped when it is created.
        let pipeline = Self.makePipeline()

        // `PipelineService.run` records through `ServiceMetrics.standard()` by default, which takes the backend
        // bootstrapped in `MetricsSystem`: swift-otel's, just bootstrapped. So Dabba's metrics (dabba_events_*,
        // dabba_consumer_lag, dabba_kafka_*) are exported over OTLP with the application's own, and `/metrics`
        // answers 404 (there is no Prometheus registry to serve); /health and /ready are served as usual.
        //
        // The pipeline service handles SIGTERM and SIGINT itself and returns once drained; this outer group (no
        // signals of its own) then shuts the exporters down gracefully, which flushes the last spans and metrics.
        // Services stop in reverse order: the pipeline first, the exporters after it.
        var group = ServiceGroupConfiguration(
            services: [
                // A failing exporter does not stop the pipeline (swift-otel logs why), nor fails its shutdown.
                .init(service: observability, failureTerminationBehavior: .ignore),
                .init(
                    service: PipelineRun(pipeline: pipeline, options: options),
                    successTerminationBehavior: .gracefullyShutdownGroup,
                    failureTerminationBehavior: .gracefullyShutdownGroup
                ),
            ],
            logger: Logger(label: "orders-otel")
        )
        // The exporters retry their last export while the collector does not answer (about 20 s): give them 10 s
        // once the pipeline has stopped, then cancel them.
        group.maximumGracefulShutdownDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
    }

    static func makePipeline() -> Pipeline {
        let placed = Counter(label: "orders_placed_total")
        var pipeline = Pipeline(service: "orders-otel", groupID: "food-orders")
        pipeline.on(OrderPlaced.self) { order, context in
            // The handler runs inside Dabba's consumer span (`process food.orders`), whose parent is the producer
            // span of the service that sent the event: this span joins the same trace.
            withSpan("count order", ofKind: .internal) { span in
                span.attributes["food.order.id"] = order.orderId
                span.attributes["food.order.items"] = order.items.reduce(0) { $0 + $1.quantity }
                placed.increment()
            }
            context.logger.info("order \(order.orderId) placed in \(order.city) at \(order.restaurantId)")
        }
        for eventType in [
            "food.order.accepted", "food.order.rejected", "food.payment.failed", "food.order.confirmed",
            "food.order.preparing", "food.order.ready", "food.delivery.assigned", "food.order.picked-up",
            "food.order.delivered", "food.order.cancelled",
        ] {
            pipeline.ignore(eventType, because: "this example counts placed orders only")
        }
        return pipeline
    }
}

/// `PipelineService.run` as a swift-service-lifecycle service, for the group above.
struct PipelineRun: Service {
    let pipeline: Pipeline
    let options: PipelineOptions

    func run() async throws {
        try await PipelineService.run(pipeline, options: options)
    }
}
