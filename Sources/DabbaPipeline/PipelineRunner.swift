import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaSchema
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Runs a ``Pipeline`` as one member of its consumer group: consume, decode, handle, park failures in retry and
/// dead-letter topics, record the inbox, commit.
///
/// Guarantees:
/// - At least once: an offset is committed only after its event was handled, parked in a retry topic, or
///   dead-lettered (parking waits for the broker's acknowledgement).
/// - Exactly-once effects with an inbox: the handler's database writes and the inbox mark commit together; a
///   redelivered event is skipped and counted.
/// - Exactly-once consume-transform-produce with ``PipelineConfiguration/exactlyOnce``: emitted events, parked
///   events and input offsets commit in one Kafka transaction per batch.
/// - Order per partition (or per key): a batch's offsets are committed only when all of its events are done.
/// - Non-blocking retries: an event in a retry tier that is not yet due pauses only its partition.
///
/// It is a swift-service-lifecycle `Service`: on SIGTERM/SIGINT it stops fetching, lets the batch in hand finish,
/// commits, flushes the producer and leaves the group.
public final class PipelineRunner: Service, Sendable {
    /// The pipeline definition.
    public let pipeline: Pipeline
    /// The topics it reads and writes.
    public let topology: PipelineTopology
    /// The runtime settings.
    public let configuration: PipelineConfiguration
    /// The consumer-group member.
    public let consumer: KafkaConsumer
    /// The producer for emitted, retried and dead-lettered events.
    public let producer: KafkaProducer
    /// Counters and latency, also served on the metrics endpoint.
    public let metrics: PipelineMetrics
    /// The lag, pause and breaker levels, refreshed while running.
    let gauges: PipelineGauges
    let events: EventProducer
    let decoder: EventDecoder
    let inbox: (any InboxStore)?
    let schemas: [String: JSONSchema]
    let logger: Logger
    let emitter: Emitter
    /// Every pause of the pipeline's partitions, by reason (retry delays, breakers, throttling, the operator).
    package let pauses: PartitionPauses
    /// Rate limits and the operator's pause (see ``AdmissionControl``).
    let admission: AdmissionControl
    /// The circuit breakers of the handlers' dependencies (see ``EventContext/breaker(_:)``).
    package let breakers: CircuitBreakers
    let stopped = Atomic<Bool>(false)
    let running = Atomic<Bool>(false)
    let failure = Mutex<String?>(nil)
    let keyGuard = Mutex<KeyOrderGuard?>(nil)
    /// Middleware around the handler of each event's type, composed once.
    let chain: @Sendable (DecodedEvent, EventContext) async throws -> Void
    /// The handlers by registry position (``DecodedEvent/typeIndex``): found per event without hashing its type.
    let handlerTable: [EventHandler?]
    /// Batches being processed: a revocation waits until they are done and marked (rebalance safety).
    let inFlight: InFlightBatches
    /// Publishes the outbox in outbox mode (``PipelineConfiguration/outbox``), nil otherwise.
    let outboxRelay: OutboxRelay?
    /// The tables the pipeline keeps in the inbox database (``Pipeline/table(_:from:_:)``), nil when none.
    let tables: PipelineTables?
    /// What handlers schedule durable timers with, and when the loop fires due ones (nil without an inbox).
    let timerEnvironment: TimerEnvironment?
    let dueTimers: DueWorkPoll?
    /// The metrics of the pipeline's windows, nil when it declares none.
    package let windowMetrics: WindowMetrics?

    /// Creates the runner (and its consumer and producer) without connecting yet.
    /// - Parameters:
    ///   - pipeline: The handlers.
    ///   - topology: The topics (see ``PipelineTopology/init(catalog:groupID:)``).
    ///   - configuration: Runtime settings.
    ///   - routes: Which topic each emitted event type goes to (usually ``EventRoutes/init(catalog:)``).
    ///   - inbox: A durable inbox for exactly-once effects, or nil.
    ///   - schemas: JSON Schemas by event type to validate payloads against before handling (a violating payload
    ///     is a poison message and is dead-lettered). Usually from the catalog; empty skips validation.
    ///   - metrics: Where metrics are recorded: by default through the bootstrapped swift-metrics backend, labelled
    ///     with the pipeline's service.
    ///   - logger: The service's logger.
    /// - Throws: ``KafkaError`` for invalid client settings.
    public init(
        pipeline: Pipeline,
        topology: PipelineTopology,
        configuration: PipelineConfiguration,
        routes: EventRoutes = EventRoutes([:]),
        inbox: (any InboxStore)? = nil,
        schemas: [String: JSONSchema] = [:],
        metrics: PipelineMetrics? = nil,
        logger: Logger = Logger(label: "dabba.pipeline")
    ) throws {
        self.pipeline = pipeline
        self.topology = topology
        self.configuration = configuration
        if configuration.keyOrderGuard, inbox == nil {
            throw PipelineError(
                .configuration, "the per-key order guard keeps its queues in the inbox database: configure an inbox"
            )
        }
        if let refusal = Self.refusal(of: configuration, hasInbox: inbox != nil) {
            throw PipelineError(.configuration, refusal)
        }
        let problems = [
            configuration.throttle.problem, configuration.fetchBudget.problem, configuration.timers.problem,
            pipeline.windows.problem(hasInbox: inbox != nil, routes: routes),
        ]
        if let problem = problems.compactMap({ $0 }).first {
            throw PipelineError(.configuration, problem)
        }
        self.inbox = inbox
        self.schemas = schemas
        let runnableHandlers = pipeline.runnableHandlers
        timerEnvironment = inbox.map { _ in TimerEnvironment(configuration.timers, handledTypes: runnableHandlers.keys) }
        dueTimers = inbox.map { _ in DueWorkPoll(interval: configuration.timers.pollInterval) }
        var handlerTable = [EventHandler?](repeating: nil, count: pipeline.registry.typeCount)
        for (type, handler) in runnableHandlers {
            if let index = pipeline.registry.index(of: type) { handlerTable[index] = handler }
        }
        self.handlerTable = handlerTable
        let handlers = handlerTable
        var chain: @Sendable (DecodedEvent, EventContext) async throws -> Void = { event, context in
            guard event.typeIndex < handlers.count, let handler = handlers[event.typeIndex] else { return }
            try await handler.invoke(event, context)
        }
        for middleware in pipeline.middleware.reversed() {
            let next = chain
            chain = { event, context in try await middleware.handle(event, context: context, next: next) }
        }
        self.chain = chain
        let metrics = metrics ?? PipelineMetrics(service: pipeline.service)
        self.metrics = metrics
        gauges = PipelineGauges(metrics)
        self.logger = logger
        tables = try PipelineTables.make(for: pipeline, hasInbox: inbox != nil, metrics: metrics)
        let windowNames = pipeline.windows.names
        windowMetrics = windowNames.isEmpty ? nil : WindowMetrics(names: windowNames, metrics: metrics)
        var consumerConfiguration = ConsumerConfiguration(client: configuration.client, groupID: pipeline.groupID)
        consumerConfiguration.instanceID = configuration.instanceID
        consumerConfiguration.commitsStoredOffsets = !configuration.exactlyOnce
        consumerConfiguration.batchSize = configuration.throttle.batchLimit(configuration.batchSize)
        consumerConfiguration.properties = configuration.fetchBudget.consumerProperties.merging(
            configuration.consumerProperties
        ) { $1 }
        consumerConfiguration.revocationTimeout = configuration.shutdownTimeout
        // Every record's envelope is in its headers: parse them on the fetch thread, off the handlers' path.
        consumerConfiguration.parsesHeadersOnFetch = true
        let inFlight = InFlightBatches()
        self.inFlight = inFlight
        let pauses = PartitionPauses { [logger] in logger.debug("\($0)") }
        self.pauses = pauses
        admission = AdmissionControl(configuration: configuration, group: pipeline.groupID, pauses: pauses, logger: logger)
        consumer = try KafkaConsumer(
            configuration: consumerConfiguration, logger: logger, onRevoke: { _ in inFlight.isIdle },
            pausedOnAssignment: { pauses.pausedOnAssignment($0) }
        )
        pauses.bind(consumer)
        let breakers = try Self.makeBreakers(pipeline, pauses: pauses, metrics: metrics, logger: logger)
        self.breakers = breakers
        var producerConfiguration = ProducerConfiguration(client: configuration.client)
        producerConfiguration.client.properties.merge(configuration.producerProperties) { $1 }
        if configuration.exactlyOnce {
            // The transactional id must survive a restart: that is how the restarted instance fences its
            // predecessor's open transaction (a per-process id would leave a zombie's transaction to time out).
            guard let instance = configuration.instanceID, !instance.isEmpty else {
                throw PipelineError(
                    .configuration,
                    "exactly-once needs a stable instance id (--instance-id, PipelineConfiguration.instanceID): the "
                        + "transactional id <group>-<instance id> is how a restarted instance fences its predecessor"
                )
            }
            producerConfiguration.transactionalID = "\(pipeline.groupID)-\(instance)"
        }
        producer = try KafkaProducer(configuration: producerConfiguration, logger: logger)
        events = EventProducer(
            producer: producer, source: "/\(pipeline.service)", routes: routes, tracer: configuration.tracer
        )
        let outbox = try Self.makeOutbox(
            configuration: configuration, inbox: inbox, group: pipeline.groupID, metrics: metrics, logger: logger
        )
        outboxRelay = outbox?.relay
        emitter = Emitter(events: events, transactional: configuration.exactlyOnce, outbox: outbox?.writer)
        decoder = EventDecoder(registry: pipeline.registry)
    }

    /// Why a configuration cannot run as asked, or nil: combinations that would silently not do what they say.
    /// - Parameters:
    ///   - configuration: The runtime settings.
    ///   - hasInbox: Whether an inbox is configured.
    /// - Returns: The reason, naming the options involved.
    public static func refusal(of configuration: PipelineConfiguration, hasInbox: Bool) -> String? {
        // With the outbox, its own refusal of exactly-once says more (see `makeOutbox`).
        if configuration.exactlyOnce, hasInbox, !configuration.outbox.enabled {
            // The inbox database and the Kafka transaction would commit separately: if the Kafka commit failed after
            // the database's, the re-read batch would be skipped as processed and its emitted events never sent.
            return "exactly-once (--exactly-once) with an inbox is refused: the inbox database and the Kafka "
                + "transaction cannot commit atomically, so a failed Kafka commit would leave events recorded as "
                + "processed whose emitted events were aborted. Use --exactly-once with --inbox none when the "
                + "handlers' state lives in Kafka, or the inbox with --outbox (emitted events commit in the same "
                + "database transaction as the handlers' writes and the inbox mark, and a relay publishes them)"
        }
        if case .key = configuration.concurrency.kind, hasInbox {
            // One inbox transaction per batch runs its handlers in order: per-key concurrency would be ignored.
            return "per-key concurrency (--concurrency key:N) with an inbox is refused: a batch's handlers run in "
                + "one inbox transaction, one after the other, so the setting would have no effect. Use "
                + "--concurrency key:N with --inbox none, or more partitions for more parallelism with the inbox"
        }
        return nil
    }

    /// Creates what the inbox database needs before the first batch: the key-order guard, the outbox, tables,
    /// timers and windows.
    private func prepareStores() async throws {
        if configuration.keyOrderGuard, let inbox {
            let created = try await KeyOrderGuard(store: inbox, group: pipeline.groupID)
            keyGuard.withLock { $0 = created }
        }
        if let outboxRelay { try await outboxRelay.store.prepareOutbox() }
        if let tables, let inbox { try await tables.prepare(inbox) }
        if windowMetrics != nil { try await inbox?.migrate(WindowStore.schema) }
        try await inbox?.migrate(TimerStore.schema)
    }

    /// Closes the producer and the consumer, each within the shutdown timeout.
    private func closeClients() async {
        try? await producer.close(timeout: configuration.shutdownTimeout)
        try? await consumer.close(timeout: configuration.shutdownTimeout)
    }

    /// Whether the member is running and healthy (for the health endpoint).
    public var health: (healthy: Bool, reason: String) {
        if let failure = failure.withLock({ $0 }) { return (false, failure) }
        return (true, "ok")
    }

    /// Whether the member has started consuming (for the readiness endpoint).
    public var isReady: Bool { readiness.ready }

    /// Whether the member is ready, and why not: not consuming yet, failed, the brokers unreachable (from librdkafka
    /// reporting every broker down until one answers again), or (outbox mode) a stalled relay. Ready
    /// but degraded while a circuit breaker is not closed: the reason then starts with `degraded:` and names it.
    public var readiness: (ready: Bool, reason: String) {
        let health = self.health
        guard health.healthy else { return (false, health.reason) }
        guard running.load(ordering: .acquiring) else { return (false, "not consuming yet") }
        var problems: [String] = []
        if !consumer.brokersReachable {
            let cause = consumer.lastConnectionError.map { ": \($0.message)" } ?? ""
            problems.append("the Kafka brokers cannot be reached\(cause)")
        }
        if let stall = outboxRelay?.stall { problems.append(stall) }
        guard problems.isEmpty else { return (false, problems.joined(separator: "; ")) }
        // Degraded is still ready: a restart fixes neither a downstream outage nor an operator's pause.
        let degradations = [breakers.degradation, admission.degradedReason].compactMap { $0 }
        guard !degradations.isEmpty else { return (true, "ok") }
        return (true, "degraded: " + degradations.map { $0.dropFirst("degraded: ".count) }.joined(separator: "; "))
    }

    /// Consumes until graceful shutdown or a fatal error, then shuts down cleanly.
    /// - Throws: ``PipelineError`` when a failed event cannot be parked, or a fatal ``KafkaError``.
    public func run() async throws {
        do {
            try await prepareStores()
            try consumer.subscribe(topics: topology.consumedTopics)
        } catch {
            // Unhealthy from now on, and the clients closed: a runner that could not start is a failed runner.
            failure.withLock { $0 = "\(error)" }
            await closeClients()
            throw error
        }
        running.store(true, ordering: .releasing)
        logger.info(
            "pipeline \(pipeline.service) started",
            metadata: ["group": "\(pipeline.groupID)", "topics": "\(topology.consumedTopics)"]
        )
        var loopError: (any Error)?
        await withDiscardingTaskGroup { group in
            group.addTask { await self.releaseExpiredPauses() }
            group.addTask {
                await self.admission.run(client: self.configuration.client) { self.stopped.load(ordering: .acquiring) }
            }
            group.addTask { await self.commitWhenOperatorPauses() }
            group.addTask { await self.refreshGaugesUntilStopped() }
            if let outboxRelay { group.addTask { await outboxRelay.relayUntilStopped() } }
            do {
                try await withGracefulShutdownHandler {
                    try await self.processLoop()
                } onGracefulShutdown: {
                    self.consumer.stopFetching()
                }
            } catch {
                loopError = error
            }
            // After the last batch committed: what it wrote to the outbox is published before the relay stops.
            outboxRelay?.stop(drainingFor: configuration.shutdownTimeout)
            stopped.store(true, ordering: .releasing)
            pauses.releaseEverything()
        }
        running.store(false, ordering: .releasing)
        if let loopError {
            failure.withLock { $0 = "\(loopError)" }
            // The failed batch will not be marked, and nobody drains the fetched ones: closing must not wait for
            // either until its timeout. None of them is marked processed, so all are redelivered.
            consumer.abandonMessageInHand()
            consumer.stopFetching()
        }
        await closeClients()
        logger.info("pipeline \(pipeline.service) stopped")
        if let loopError { throw loopError }
    }

    // MARK: - The loop

    private func processLoop() async throws {
        // With an inbox a batch is handled on one core (one transaction, events in order), so the next batch is
        // fetched and decoded meanwhile: decoding is a large share of an event's cost. (Without one, partitions
        // are decoded and handled concurrently already; decoding ahead on one task would be slower.) Calls to
        // `nextMessages` stay sequential (the next one starts only after the previous one returned), and a batch
        // decoded ahead is only a set of values: what happens to its records (stale after a revocation, deferred
        // retries) is decided when it is processed, exactly as before.
        var upcoming = fetchAndDecode()
        while true {
            let pending = upcoming
            // The fetch runs in its own task: cancelling this one must reach it.
            let fetched = try await withTaskCancellationHandler {
                try await nextBatch(pending)
            } onCancel: {
                pending.cancel()
            }
            guard let (batch, decoded) = fetched else { return }
            upcoming = fetchAndDecode()
            do {
                try await DecodedAhead.$current.withValue(decoded.isEmpty ? nil : decoded) { try await process(batch) }
            } catch {
                upcoming.cancel()
                throw error
            }
        }
    }

    private func fetchAndDecode() -> Task<([KafkaMessage], DecodedAhead)?, any Error> {
        Task {
            let batchSize = configuration.throttle.batchLimit(configuration.batchSize)
            guard var batch = try await consumer.nextMessages(upTo: batchSize) else { return nil }
            guard inbox != nil else { return (batch, DecodedAhead([])) }
            // Group commit: what is already fetched behind this batch joins it (never waiting for more), so a backlog
            // is processed in fewer, larger inbox transactions. Each event dirties about one database page, written
            // once per commit however many events share it: larger transactions write less per event.
            // A throttled batch stays within the burst: no group commit.
            let limit = configuration.throttle.isEnabled ? batchSize : batchSize * Self.inboxGroupCommitBatches
            while batch.count < limit {
                let more = consumer.bufferedMessages(upTo: min(batchSize, limit - batch.count))
                if more.isEmpty { break }
                batch += more
            }
            return (batch, DecodedAhead(batch.map { ($0, decodeNow($0)) }))
        }
    }

    /// How many batches (of ``PipelineConfiguration/batchSize``) one inbox transaction takes at most, when that many
    /// are already fetched.
    static let inboxGroupCommitBatches = 4

    func process(_ messages: [KafkaMessage]) async throws {
        inFlight.begin()
        defer { inFlight.end() }
        // A revocation that happened after these were handed out but before `begin` did not wait for us.
        let batch = messages.filter { !consumer.isStale($0) }
        var runnable: [KafkaMessage] = []
        runnable.reserveCapacity(batch.count)
        var now: Int64?
        // Per partition rather than per record: librdkafka hands out runs of one partition.
        for run in Self.partitionRuns(batch) {
            guard topology.isRetryTopic(run.partition.topic) else {
                runnable += run.messages
                continue
            }
            for message in run.messages {
                let current = now ?? Self.nowMilliseconds()
                now = current
                if let due = message.header(RetryHeaders.dueAt).flatMap({ Int64($0) }), due > current {
                    try await deferPartition(run.partition, at: message.offset, until: due)
                    break
                }
                runnable.append(message)
            }
        }
        runnable = try await holdBackPaused(runnable)
        guard !runnable.isEmpty else { return }
        defer { debitAdmitted(runnable) }
        metrics.consumed.increment(by: runnable.count)
        try await BreakerHolds.$current.withValue(BreakerHolds()) {
            if configuration.exactlyOnce {
                try await processTransactionally(runnable)
            } else {
                try await processAcknowledged(runnable)
            }
        }
    }

    /// Processes a batch outside exactly-once mode: the events its handlers emit are acknowledged together before
    /// its offsets are stored (see ``BatchDeliveries``); a partition with an unacknowledged emit is rewound instead.
    private func processAcknowledged(_ messages: [KafkaMessage]) async throws {
        let deliveries = BatchDeliveries()
        var rewound: Set<TopicPartition> = []
        do {
            try await BatchDeliveries.$current.withValue(deliveries) { try await processCore(messages) }
        } catch let refused as EmitNotAcknowledged {
            // An inbox transaction refused its commit: what it covered is not recorded and is read again.
            logger.warning("batch not committed, it will be read again: \(refused)")
            rewound = Set(messages.map(\.topicPartition))
        }
        for (partition, error) in await deliveries.settle() {
            logger.warning(
                "an event emitted while handling \(partition.topic)[\(partition.partition)] was not acknowledged; the partition is read again from the batch's first record: \(error)"
            )
            rewound.insert(partition)
        }
        // Offsets are positions: marking each partition's last message covers the ones before it.
        for run in Self.partitionRuns(messages) {
            guard let first = run.messages.first else { continue }
            if rewound.contains(run.partition) {
                metrics.batchesRewound.increment()
                try await rewind(run.partition, to: first.offset, because: "an emit was not acknowledged")
            } else {
                try await markProcessedUpToHold(run.messages, of: run.partition)
            }
        }
    }

    /// The inbox's commit gate: every event emitted so far in this batch must be acknowledged.
    @Sendable static func emitsAcknowledged() async throws {
        try await BatchDeliveries.current?.requireAcknowledged()
    }

    func processCore(_ messages: [KafkaMessage]) async throws {
        if let inbox, let keyGuard = keyGuard.withLock({ $0 }) {
            for message in messages { try await handleGuarded(message, inbox: inbox, keyGuard: keyGuard) }
        } else if let inbox {
            try await processWithInbox(messages, inbox: inbox)
        } else {
            try await processConcurrently(messages)
        }
    }

    private func processConcurrently(_ messages: [KafkaMessage]) async throws {
        let partitions = Self.partitionRuns(messages)
        if partitions.count == 1, configuration.concurrency == .perPartition {
            try await handleInOrder(messages)
            return
        }
        try await withThrowingDiscardingTaskGroup { group in
            for partition in partitions {
                group.addTask {
                    switch self.configuration.concurrency.kind {
                    case .partition:
                        try await self.handleInOrder(partition.messages)
                    case .key(let maxInFlight):
                        try await self.handleByKey(partition.messages, maxInFlight: maxInFlight)
                    }
                }
            }
        }
    }

    /// Handles records one after the other, recording their metrics together at the end.
    private func handleInOrder(_ messages: some Collection<KafkaMessage>) async throws {
        var tally = HandleTally()
        defer { tally.record(into: metrics) }
        for message in messages { try await handle(message, tally: &tally) }
    }

    private func handleByKey(_ messages: [KafkaMessage], maxInFlight: Int) async throws {
        let keys = Self.grouped(messages) { $0.keyString ?? "" }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var started = 0
            for keyMessages in keys {
                if started >= maxInFlight {
                    try await group.next()
                }
                started += 1
                group.addTask {
                    try await self.handleInOrder(keyMessages)
                }
            }
            try await group.waitForAll()
        }
    }

    // MARK: - One event

    /// Handles one record to completion: handled, ignored, parked in a retry tier, or dead-lettered.
    /// - Parameter tally: Where the handled count and the handler's latency go (recorded once per run of records).
    /// - Throws: ``PipelineError`` only when the record could not be parked.
    func handle(_ message: KafkaMessage, tally: inout HandleTally) async throws {
        guard !skipsHeld(message) else { return }
        switch decode(message) {
        case .failure(let error):
            try await handleUndecodable(message, error)
        case .success(let decoded):
            guard hasHandler(decoded) else {
                metrics.ignored.increment()
                return
            }
            if let failure = await invoke(decoded, database: nil) {
                defer { failure.end() }
                guard !holdIfUnavailable(message, failure: failure) else { return }
                try await routeFailure(message, failure: failure, attempt: Self.attempt(of: message), eventType: decoded.eventType)
            } else {
                tally.handled += 1
            }
        }
    }

    /// Whether the pipeline handles the event's type.
    @inline(__always)
    func hasHandler(_ event: DecodedEvent) -> Bool {
        event.typeIndex < handlerTable.count && handlerTable[event.typeIndex] != nil
    }

    private func handleUndecodable(_ message: KafkaMessage, _ error: EventDecodingError) async throws {
        if error.code == .unknownEventType, let type = error.eventType, pipeline.ignored[type] != nil {
            metrics.ignored.increment()
            return
        }
        metrics.failed.increment()
        logger.warning("poison message: \(error)")
        try await deadLetter(
            message, errorType: "DabbaEvents.EventDecodingError.\(error.code)", errorMessage: error.reason,
            attempt: Self.attempt(of: message)
        )
    }

    /// Calls the middleware chain and handler with in-place retries, in the event's consumer span when a tracer is
    /// active; returns the final error (nil on success) with the span left open for routing the failure: the caller
    /// calls ``EventFailure/end()`` once it has (held, parked or dead-lettered the event).
    /// Each call's duration is recorded (one observation per attempt, backoff not included).
    func invoke(
        _ decoded: DecodedEvent,
        database: (any InboxTransaction)?,
    ) async -> EventFailure? {
        guard let tracer = events.tracer else {
            return await invokeUntraced(decoded, database: database).map { EventFailure(error: $0, span: nil) }
        }
        return await traceProcessing(decoded, tracer: tracer) {
            await invokeUntraced(decoded, database: database)
        }
    }

    /// ``invoke(_:database:)`` without a span.
    private func invokeUntraced(_ decoded: DecodedEvent, database: (any InboxTransaction)?) async -> (any Error)? {
        let emissions = EmissionCounter()
        let context = EventContext(
            event: decoded, groupID: pipeline.groupID, baseLogger: logger, database: database,
            emitter: emitter.within(database), emissions: emissions, breakers: breakers,
            timerEnvironment: timerEnvironment, windowMetrics: windowMetrics
        )
        let chain = self.chain
        let clock = ContinuousClock()
        for inPlace in 1...configuration.retry.inPlaceAttempts {
            emissions.reset()
            let start = clock.now
            do {
                try await chain(decoded, context)
                metrics.recordHandlerDuration(clock.now - start)
                return nil
            } catch {
                metrics.recordHandlerDuration(clock.now - start)
                guard FailureKind(error) == .transient, inPlace < configuration.retry.inPlaceAttempts else {
                    return error
                }
                metrics.retriedInPlace.increment()
                context.logger.info("transient failure, retrying in place (\(inPlace)): \(error)")
                try? await Task.sleep(for: configuration.retry.backoff(after: inPlace))
                // The next attempt starts from a clean slate: what this one wrote is undone, not added to.
                if let database {
                    do { try database.discardWrites() } catch { return error }
                }
            }
        }
        return nil
    }

    /// Decodes a record (or takes the result decoded ahead for it).
    func decode(_ message: KafkaMessage) -> Result<DecodedEvent, EventDecodingError> {
        DecodedAhead.current?.result(for: message) ?? decodeNow(message)
    }

    /// Decodes a record and, when a schema is known for its type, validates the payload against it.
    func decodeNow(_ message: KafkaMessage) -> Result<DecodedEvent, EventDecodingError> {
        let result = decoder.decode(message)
        guard !schemas.isEmpty, case .success(let decoded) = result, let schema = schemas[decoded.eventType] else {
            return result
        }
        let payload: JSONValue
        do {
            payload = try JSONValue.parse(message.withUnsafeValue { bytes in bytes.map { Data($0) } ?? Data() })
        } catch {
            return .failure(
                EventDecodingError(
                    .invalidPayload, "payload is not JSON: \(error)", message: message,
                    eventType: decoded.eventType, eventID: decoded.envelope.id
                )
            )
        }
        let violations = schema.validate(payload)
        guard violations.isEmpty else {
            return .failure(
                EventDecodingError(
                    .schemaViolation, violations.map(\.message).joined(separator: "; "), message: message,
                    eventType: decoded.eventType, eventID: decoded.envelope.id
                )
            )
        }
        return result
    }

    /// The delivery number a record carries (`dabba-attempt`; 1 when absent or not a number). The header comes with
    /// the record: a value below 1 counts as 1 and one above `Int32.max` as `Int32.max`, so counting the next attempt
    /// can never overflow.
    package static func attempt(of message: KafkaMessage) -> Int {
        let carried = message.header(RetryHeaders.attempt).flatMap { Int($0) } ?? 1
        return min(max(carried, 1), Int(Int32.max))
    }

    static func nowMilliseconds() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    /// A batch's records by partition, in order within each, partitions in order of first appearance. librdkafka
    /// hands out runs of one partition, so this compares neighbours and hashes a partition once per run.
    static func partitionRuns(_ messages: [KafkaMessage]) -> [(partition: TopicPartition, messages: [KafkaMessage])] {
        var runs: [(partition: TopicPartition, messages: [KafkaMessage])] = []
        var positions: [TopicPartition: Int] = [:]
        var start = 0
        while start < messages.count {
            let first = messages[start]
            var end = start + 1
            while end < messages.count, messages[end].isSamePartition(as: first) { end += 1 }
            let partition = first.topicPartition
            if let position = positions[partition] {
                runs[position].messages += messages[start..<end]
            } else {
                positions[partition] = runs.count
                runs.append((partition, Array(messages[start..<end])))
            }
            start = end
        }
        return runs
    }

    /// Groups items by a key, keeping first-appearance order of keys and item order within each group.
    static func grouped<Item, Key: Hashable>(_ items: [Item], by key: (Item) -> Key) -> [[Item]] {
        var order: [Key] = []
        var groups: [Key: [Item]] = [:]
        for item in items {
            let itemKey = key(item)
            if groups[itemKey] == nil { order.append(itemKey) }
            groups[itemKey, default: []].append(item)
        }
        return order.compactMap { groups[$0] }
    }
}


/// The handled count of a run of records, recorded into the metrics once: per record, the shared counter would be
/// contended by every partition's task.
struct HandleTally {
    var handled = 0

    func record(into metrics: PipelineMetrics) {
        metrics.handled.increment(by: handled)
    }
}

/// Counts batches in progress, so a revocation can wait for them.
final class InFlightBatches: Sendable {
    private let count = Atomic<Int>(0)
    func begin() { count.add(1, ordering: .sequentiallyConsistent) }
    func end() { count.subtract(1, ordering: .sequentiallyConsistent) }
    var isIdle: Bool { count.load(ordering: .sequentiallyConsistent) == 0 }
}

/// The decoding results of a batch, made while the previous batch was processed.
struct DecodedAhead: Sendable {
    /// The results for the batch being processed by the current task (and the tasks it starts).
    @TaskLocal static var current: DecodedAhead?

    /// The results of consecutive records of one fetch batch, by their position there: a record's result is found
    /// without hashing (a batch taken from the consumer is one or a few such runs).
    private struct Run: Sendable {
        let batch: ObjectIdentifier
        let firstIndex: Int
        var results: [Result<DecodedEvent, EventDecodingError>?]
    }

    private var runs: [Run] = []

    init(_ decoded: [(KafkaMessage, Result<DecodedEvent, EventDecodingError>)]) {
        for (message, result) in decoded {
            let position = message.fetchPosition
            if let last = runs.indices.last, runs[last].batch == position.batch,
                position.index >= runs[last].firstIndex
            {
                let offset = position.index - runs[last].firstIndex
                if offset >= runs[last].results.count {
                    runs[last].results += Array(repeating: nil, count: offset - runs[last].results.count + 1)
                }
                runs[last].results[offset] = result
            } else {
                runs.append(Run(batch: position.batch, firstIndex: position.index, results: [result]))
            }
        }
    }

    var isEmpty: Bool { runs.isEmpty }

    /// The result decoded for this record, if it was in the batch.
    func result(for message: KafkaMessage) -> Result<DecodedEvent, EventDecodingError>? {
        let position = message.fetchPosition
        for run in runs where run.batch == position.batch {
            let offset = position.index - run.firstIndex
            if offset >= 0, offset < run.results.count, let result = run.results[offset] { return result }
        }
        return nil
    }
}
