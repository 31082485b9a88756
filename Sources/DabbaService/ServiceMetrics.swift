import CoreMetrics
import Prometheus
import Synchronization

/// Where a service's metrics go, and what its `/metrics` endpoint serves.
///
/// Dabba records through swift-metrics; the application chooses the backend:
/// - ``standard()`` (the default of ``PipelineService``): the backend the application bootstrapped in
///   `MetricsSystem` (StatsD, OTLP through swift-otel, …), or, when it bootstrapped none, swift-prometheus,
///   bootstrapped once per process and served on `/metrics` — so the application's own metrics and those of its other
///   libraries (Hummingbird, postgres-nio, …) appear next to Dabba's;
/// - ``prometheus(_:)``: swift-prometheus for this service only, leaving `MetricsSystem` alone (the opt-out);
/// - ``factory(_:)``: any backend, without touching `MetricsSystem`.
///
/// `/metrics` is served only when the metrics are in a swift-prometheus registry (``registry``); with another backend it
/// answers `404`, naming why.
///
/// ```swift
/// let metrics = ServiceMetrics.standard()
/// let placed = Meter(label: "food_orders_placed", factory: metrics.factory)  // on the same /metrics
/// try await PipelineService.run(pipeline, options: options, metrics: metrics)
/// ```
public struct ServiceMetrics: Sendable {
    /// Where Dabba's (and, if the application wishes, its own) metrics are recorded.
    public let factory: any MetricsFactory
    /// The swift-prometheus registry served on `/metrics`, or nil when the backend is another.
    public let registry: PrometheusCollectorRegistry?

    private init(factory: any MetricsFactory, registry: PrometheusCollectorRegistry?) {
        self.factory = factory
        self.registry = registry
    }

    /// The registry this module bootstrapped, once, shared by every service of the process.
    private static let bootstrapped = Mutex<PrometheusCollectorRegistry?>(nil)

    /// The application's bootstrapped backend; or, when there is none, swift-prometheus, bootstrapped as the
    /// process's backend (once: later calls share its registry) and served on `/metrics`.
    public static func standard() -> ServiceMetrics {
        bootstrapped.withLock { registry in
            if let registry { return ServiceMetrics(factory: MetricsSystem.factory, registry: registry) }
            guard MetricsSystem.factory is NOOPMetricsHandler else {
                // The application's own: served when it is swift-prometheus.
                let own = (MetricsSystem.factory as? PrometheusMetricsFactory)?.registry
                return ServiceMetrics(factory: MetricsSystem.factory, registry: own)
            }
            let prometheus = PrometheusCollectorRegistry()
            MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: prometheus))
            registry = prometheus
            return ServiceMetrics(factory: MetricsSystem.factory, registry: prometheus)
        }
    }

    /// swift-prometheus for this service only, served on `/metrics`; `MetricsSystem` is left as it is.
    /// - Parameter registry: The registry (a new one by default).
    public static func prometheus(_ registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry()) -> ServiceMetrics {
        ServiceMetrics(factory: PrometheusMetricsFactory(registry: registry), registry: registry)
    }

    /// Another backend, not served on `/metrics`; `MetricsSystem` is left as it is.
    /// - Parameter factory: The backend.
    public static func factory(_ factory: any MetricsFactory) -> ServiceMetrics {
        ServiceMetrics(factory: factory, registry: nil)
    }
}
