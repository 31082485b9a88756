import ArgumentParser
import DabbaCatalog
import DabbaContracts
import DabbaEvents
import DabbaInbox
import DabbaInboxPostgres
import DabbaKafka
import DabbaHTTP
import DabbaPipeline
import DabbaSchema
import Foundation
import Logging
import ServiceLifecycle

/// Runs a pipeline as a service executable: loads the catalog, checks (or creates) its topics, opens the inbox,
/// serves `/health`, `/ready` and `/metrics`, and runs until SIGTERM or SIGINT, then shuts down gracefully.
///
/// ```swift
/// @main struct OrdersService: AsyncParsableCommand {
///     @OptionGroup var options: PipelineOptions
///     func run() async throws {
///         var pipeline = Pipeline(service: "orders", groupID: "food-orders")
///         pipeline.on(OrderPlaced.self) { event, context in … }
///         try await PipelineService.run(pipeline, options: options, migrations: ["CREATE TABLE IF NOT EXISTS …"])
///     }
/// }
/// ```
public enum PipelineService {
    /// Runs the pipeline until a shutdown signal.
    /// - Parameters:
    ///   - pipeline: The handlers (its group may be overridden by `--group`).
    ///   - options: The parsed standard options.
    ///   - migrations: Schema statements for the service's own tables in the inbox database.
    ///   - metrics: Where the metrics go and what `/metrics` serves (see ``ServiceMetrics``): by default the
    ///     application's bootstrapped swift-metrics backend, else swift-prometheus bootstrapped and served. Record the
    ///     service's own metrics through its ``ServiceMetrics/factory`` to publish them next to the pipeline's.
    ///   - configure: Adjusts the runtime settings derived from the options.
    /// - Throws: ArgumentParser's `ValidationError` for missing bootstrap servers, a malformed `--property` or
    ///   properties file, or an invalid `--inbox`;
    ///   `PipelineError` for an invalid catalog, an unhandled event type, missing topics (`missingTopic`), a SQLite
    ///   inbox in use by another process, or (from the runner) an event that cannot be parked; `InboxError` when the
    ///   inbox cannot be opened or a migration fails; `ServiceHTTPServerError` when the metrics port cannot be bound;
    ///   `KafkaError` for an invalid librdkafka property (`invalidConfiguration`), failed authentication or TLS
    ///   (`authenticationFailed`, `tlsFailed`), when the brokers cannot be reached, topics cannot be created, or the
    ///   runner fails fatally;
    ///   `ExitCode.failure` after printing a failing `--contract-report`.
    public static func run(
        _ pipeline: Pipeline,
        options: PipelineOptions,
        migrations: [String] = [],
        metrics: ServiceMetrics = .standard(),
        configure: (inout PipelineConfiguration) -> Void = { _ in }
    ) async throws {
        AllocatorTuning.apply()
        var pipeline = pipeline
        if let group = options.group { pipeline.groupID = group }
        for (name, breaker) in try options.resolvedBreakers(for: pipeline) { pipeline.breaker(name, breaker) }
        if options.contractReport {
            try printContractReport(pipeline, catalogDirectory: options.resolvedCatalog)
            return
        }
        let logger = makeLogger(service: pipeline.service, level: options.logLevel)
        let client = try kafkaClient(options, clientID: "\(pipeline.service)-\(options.instanceID ?? "\(getpid())")",
                                     logger: logger)
        let catalog = try loadCatalog(options.resolvedCatalog)
        let topology = try PipelineTopology(catalog: catalog, groupID: pipeline.groupID)
        try checkHandlers(pipeline, catalog: catalog)
        try await ensureTopics(topology, catalog: catalog, client: client, create: options.createTopics, logger: logger)

        let (inbox, inboxLock) = try await openInbox(
            options.inbox, pipeline: pipeline, instanceID: options.instanceID
        )
        // Held until the service stops: a second process on the same SQLite file has already failed above.
        defer { withExtendedLifetime(inboxLock) {} }
        if let inbox, !migrations.isEmpty { try await inbox.migrate(migrations) }

        var configuration = PipelineConfiguration(client: client)
        configuration.client.statistics = try options.resolvedStatisticsInterval().map {
            KafkaStatisticsConfiguration(interval: $0, factory: metrics.factory, labels: ["service": pipeline.service])
        }
        configuration.instanceID = options.instanceID
        configuration.concurrency = try options.resolvedConcurrency()
        configuration.exactlyOnce = options.exactlyOnce
        configuration.keyOrderGuard = options.keyOrderGuard
        configuration.outbox.enabled = options.outbox
        configuration.throttle = try options.resolvedThrottle()
        configuration.fetchBudget = try options.resolvedFetchBudget()
        configuration.controlTopic = options.resolvedControlTopic
        configuration.timers.timeScale = try options.resolvedTimerTimeScale()
        configure(&configuration)

        let pipelineMetrics = PipelineMetrics(service: pipeline.service, factory: metrics.factory)
        let schemas = Dictionary(catalog.events.map { ($0.type, $0.payloadSchema) }, uniquingKeysWith: { first, _ in first })
        let runner = try PipelineRunner(
            pipeline: pipeline, topology: topology, configuration: configuration, routes: EventRoutes(catalog: catalog),
            inbox: inbox, schemas: schemas, metrics: pipelineMetrics, logger: logger
        )
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        // The endpoint binds before the runner joins the group: a port in use stops the service before it consumes.
        var endpoint: ServiceHTTPServer?
        if options.metricsPort >= 0 {
            let server = try ServiceHTTPServer(
                port: options.metricsPort, metrics: metrics.registry,
                health: {
                    let health = runner.health
                    return health.healthy ? .ok : .unhealthy(health.reason)
                },
                readiness: {
                    // Degraded (a circuit breaker open) is still ready: 200, with the reason in the body.
                    let readiness = runner.readiness
                    return HealthStatus(isHealthy: readiness.ready, reason: readiness.reason)
                },
                routes: FlowRoutes.routes(for: runner, instance: options.instanceID ?? "\(getpid())", logger: logger),
                logger: logger
            )
            endpoint = server
            services.append(.init(service: server))
        }
        if let inbox {
            services.append(.init(service: InboxRetentionService(inbox: inbox, retention: try options.resolvedRetention(), logger: logger)))
        }
        // Started last, stopped first: the runner finishes its batch and commits before the endpoints go away.
        services.append(.init(service: RunnerAfterEndpoint(runner: runner, endpoint: endpoint, logger: logger)))
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger
            )
        )
        try await group.run()
    }

    /// Parses the standard options from the command line and runs the pipeline: the whole `main` of a service
    /// that needs no options of its own. Exits with a message and a non-zero status on any error.
    ///
    /// ```swift
    /// var pipeline = Pipeline(service: "orders", groupID: "food-orders")
    /// pipeline.on(OrderPlaced.self) { event, context in … }
    /// await PipelineService.main(pipeline)
    /// ```
    /// - Parameters:
    ///   - pipeline: The handlers.
    ///   - migrations: Schema statements for the service's own tables in the inbox database.
    public static func main(_ pipeline: Pipeline, migrations: [String] = []) async {
        let options = PipelineOptions.parseOrExit()
        do {
            try await run(pipeline, options: options, migrations: migrations)
        } catch {
            PipelineOptions.exit(withError: error)
        }
    }

    /// Prints the contract report as one JSON line on standard output.
    /// - Throws: `ExitCode.failure` after printing when a check failed; ``PipelineError`` for an invalid catalog.
    static func printContractReport(_ pipeline: Pipeline, catalogDirectory: String) throws {
        let catalog = try loadCatalog(catalogDirectory)
        let report = ContractChecks.check(pipeline, against: catalog)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(report)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
        if !report.passed { throw ExitCode.failure }
    }

    static func makeLogger(service: String, level: String) -> Logger {
        var logger = Logger(label: "dabba.\(service)")
        logger.logLevel = Logger.Level(rawValue: level) ?? .info
        return logger
    }

    static func loadCatalog(_ directory: String) throws -> Catalog {
        do {
            return try Catalog.load(directory: URL(fileURLWithPath: directory))
        } catch let errors as CatalogErrors {
            throw PipelineError(.configuration, "the catalog in \(directory) is invalid:\n\(errors)")
        }
    }

    /// Every event type the catalog routes to the group must have a handler or an explicit ignore.
    static func checkHandlers(_ pipeline: Pipeline, catalog: Catalog) throws {
        let routed = Set(catalog.consumerGroups.filter { $0.groupID == pipeline.groupID }.flatMap(\.eventTypes))
        let covered = Set(pipeline.handledEventTypes).union(pipeline.ignoredEventTypes.keys)
        let missing = routed.subtracting(covered).sorted()
        guard missing.isEmpty else {
            throw PipelineError(
                .configuration,
                "the catalog routes \(missing.joined(separator: ", ")) to group '\(pipeline.groupID)' but \(pipeline.service) has no handler: add one, or pipeline.ignore(_:because:)"
            )
        }
    }

    /// The Kafka settings every client of the service uses: `--bootstrap`, `--config`, `DABBA_KAFKA_*` and
    /// `--property` merged (see ``ClientProperties``), each property checked by librdkafka, logged with secrets
    /// redacted.
    static func kafkaClient(
        _ options: PipelineOptions, clientID: String, logger: Logger
    ) throws -> ClientConfiguration {
        let properties = try options.kafkaProperties()
        guard properties.bootstrapServers != nil else { throw PipelineOptions.missingBootstrap }
        let client = try properties.clientConfiguration(clientID: clientID)
        logger.info("Kafka client settings: \(client.redactedDescription)")
        if !properties.entries.isEmpty {
            logger.debug("Kafka properties by source (\(properties.redactedDescription))")
        }
        return client
    }

    /// Checks that the topology's topics exist (creating them with `create`), through the service's own settings.
    static func ensureTopics(
        _ topology: PipelineTopology, catalog: Catalog, client: ClientConfiguration, create: Bool, logger: Logger
    ) async throws {
        let metadata = try KafkaMetadata(configuration: client, logger: logger)
        var missing: [String] = []
        for topic in topology.allTopics where try await metadata.topicPartitionCount(topic: topic) == nil {
            missing.append(topic)
        }
        guard !missing.isEmpty else { return }
        guard create else {
            throw PipelineError(
                .missingTopic,
                "missing topics: \(missing.joined(separator: ", ")) — run `dabba topics apply`, or start with --create-topics"
            )
        }
        let admin = try KafkaAdmin(configuration: client, logger: logger)
        let specs = missing.compactMap { name in catalog.allTopics.first { $0.name == name } }
        try await admin.createTopics(
            specs.map { NewTopic(name: $0.name, partitions: Int32($0.partitions), replicationFactor: Int32($0.replicas), configs: $0.configs) }
        )
        logger.info("created topics \(missing.joined(separator: ", "))")
    }

    /// Opens the inbox the `--inbox` option names; a SQLite inbox comes with the exclusive lock on its file.
    static func openInbox(
        _ option: String?, pipeline: Pipeline, instanceID: String?
    ) async throws -> (inbox: (any InboxStore)?, lock: InboxFileLock?) {
        let value = option ?? "sqlite:.dabba/\(pipeline.groupID)-\(instanceID ?? "default").sqlite"
        if value == "none" { return (nil, nil) }
        if value.hasPrefix("postgres://") || value.hasPrefix("postgresql://") {
            // Connects on a thread of its own: a server that is slow to answer holds no cooperative thread.
            return (try await PostgresInbox.connect(connectionString: value), nil)
        }
        guard value.hasPrefix("sqlite:") else {
            throw ValidationError("--inbox must be sqlite:PATH, a postgres:// URL, or none, not '\(value)'")
        }
        let path = String(value.dropFirst("sqlite:".count))
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let lock = try InboxFileLock(inboxPath: path)
        return (try SQLiteInbox(path: path), lock)
    }
}

/// Runs the pipeline once the HTTP endpoint listens (at once without one), logging where it is.
struct RunnerAfterEndpoint: Service {
    let runner: PipelineRunner
    let endpoint: ServiceHTTPServer?
    let logger: Logger

    func run() async throws {
        if let endpoint {
            let port: Int
            do {
                port = try await endpoint.boundPort()
            } catch is CancellationError {
                return  // shut down before the endpoint listened: nothing was consumed
            }
            logger.info("health and metrics on http://\(endpoint.host):\(port)/metrics")
        }
        try await runner.run()
    }
}

/// Deletes inbox entries older than the retention, hourly.
struct InboxRetentionService: Service {
    let inbox: any InboxStore
    let retention: Duration
    let logger: Logger

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let removed = try await inbox.purge(olderThan: retention)
                    if removed > 0 { logger.info("purged \(removed) inbox entries older than \(retention)") }
                } catch {
                    logger.warning("inbox purge failed: \(error)")
                }
                try? await Task.sleep(for: .seconds(3600))
            }
        }
    }
}
