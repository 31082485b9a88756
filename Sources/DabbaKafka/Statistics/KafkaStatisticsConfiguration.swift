import CoreMetrics

/// librdkafka's statistics (`statistics.interval.ms`), recorded through swift-metrics as `dabba_kafka_*` gauges and
/// counters (see ``KafkaStatistics``): broker round trips, request queues, producer queue depth, rebalances.
///
/// Set on ``ClientConfiguration/statistics``. Setting `statistics.interval.ms` through
/// ``ClientConfiguration/properties`` instead records them too, through the bootstrapped `MetricsSystem`.
public struct KafkaStatisticsConfiguration: Sendable {
    /// How often librdkafka reports. Each report is a JSON document of every broker, topic and partition the client
    /// knows, parsed on the client's poll thread: seconds, not milliseconds.
    public var interval: Duration
    /// Where the metrics go; nil: the factory bootstrapped in `MetricsSystem` when the client is made.
    public var factory: (any MetricsFactory)?
    /// Labels added to every series (a service's name, say), next to `client` (librdkafka's name of the handle,
    /// `<client.id>#consumer-1`) and, per broker, `broker`.
    public var labels: [String: String]

    /// Creates statistics settings.
    /// - Parameters:
    ///   - interval: How often librdkafka reports (15 s by default). At least 1 ms.
    ///   - factory: Where the metrics go (nil: the bootstrapped one).
    ///   - labels: Labels added to every series.
    public init(interval: Duration = .seconds(15), factory: (any MetricsFactory)? = nil, labels: [String: String] = [:]) {
        self.interval = interval
        self.factory = factory
        self.labels = labels
    }
}
