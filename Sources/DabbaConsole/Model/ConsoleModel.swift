import DabbaCatalog
import DabbaKafka
import Foundation
import Logging
import Synchronization

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// What the console knows: the catalog, clients of the cluster, and what its sampler saw lately (topic ends for
/// rates, lag for trends, DLQ sizes, drift, the services' endpoints). Pages read it; only the sampler and actions
/// write.
final class ConsoleModel: Sendable {
    /// One sample of a number over time.
    struct Point: Sendable {
        var at: Date
        var value: Int64
    }

    /// What the sampler keeps.
    struct Samples: Sendable {
        /// Per topic, the sum of its partitions' high watermarks.
        var topicEnds: [String: [Point]] = [:]
        /// Per group and topic (``ConsoleModel/lagKey(_:_:)``), the total lag in records.
        var groupLag: [String: [Point]] = [:]
        /// Per dead-letter topic, records in it (high − low).
        var deadLetterCounts: [String: Int64] = [:]
        /// Per service, the last snapshot of each instance's endpoint.
        var services: [String: [ServiceSnapshot]] = [:]
        /// The snapshots before those (for rates).
        var previousServices: [String: [ServiceSnapshot]] = [:]
        /// Catalog topics the cluster does not have.
        var missingTopics: [String] = []
        /// Catalog topics whose partition count differs from the cluster's.
        var partitionDrift: [String: (catalog: Int, cluster: Int)] = [:]
        /// Services whose contract check failed at start (service → first failures), when contract checks are
        /// configured.
        var contractFailures: [String: String] = [:]
        /// Why the cluster could not be sampled, if it could not.
        var clusterFailure: String?
        var sampledAt: Date?
    }

    /// An action taken through the console, for the Status page and the log.
    struct ActionRecord: Sendable {
        var at: Date
        var action: String
        var detail: String
    }

    let configuration: ConsoleConfiguration
    let catalog: Catalog
    let map: SystemMap
    let admin: KafkaAdmin
    let logger: Logger
    let samples = Mutex(Samples())
    let actions = Mutex<[ActionRecord]>([])
    /// The most points kept per series (the trend's length).
    static let trendLength = 30

    init(configuration: ConsoleConfiguration, catalog: Catalog, logger: Logger) throws {
        self.configuration = configuration
        self.catalog = catalog
        self.map = SystemMap(catalog: catalog)
        self.admin = try KafkaAdmin(configuration: configuration.client, logger: logger)
        self.logger = logger
    }

    /// Runs `body` with a producer for one action, closed on every path.
    func withProducer<Result: Sendable>(_ body: (KafkaProducer) async throws -> Result) async throws -> Result {
        let producer = try KafkaProducer(configuration: ProducerConfiguration(client: configuration.client), logger: logger)
        let result: Result
        do {
            result = try await body(producer)
        } catch {
            try? await producer.close()
            throw error
        }
        try await producer.close()
        return result
    }

    /// A reader for one request (its consumer handle is used by one task at a time).
    func makeReader() throws -> KafkaTailReader {
        try KafkaTailReader(configuration: configuration.client, logger: logger)
    }

    /// Records an action in the log and for the Status page.
    func record(_ action: String, _ detail: String) {
        logger.notice("console action \(action): \(detail)")
        actions.withLock { list in
            list.append(ActionRecord(at: Date(), action: action, detail: detail))
            if list.count > 200 { list.removeFirst(list.count - 200) }
        }
    }

    // MARK: - Sampling

    /// Samples until cancelled; checks the services' contracts once, beside the first samples.
    func runSampler() async {
        let contracts = Task { await checkContracts() }
        defer { contracts.cancel() }
        while !Task.isCancelled {
            await sampleOnce()
            try? await Task.sleep(for: configuration.sampleInterval)
        }
    }

    /// One round: the catalog's topics' ends, DLQ sizes and drift, the groups' lag, the services' endpoints.
    func sampleOnce() async {
        let now = Date()
        var ends: [String: Int64] = [:]
        var deadLetters: [String: Int64] = [:]
        var lags: [String: Int64] = [:]
        var missing: [String] = []
        var drift: [String: (catalog: Int, cluster: Int)] = [:]
        var failure: String?
        do {
            var present: Set<String> = []
            for spec in catalog.allTopics {
                let topic: TopicDescription
                do {
                    guard let found = try await admin.describeTopics([spec.name], timeout: configuration.timeout).first
                    else { continue }
                    topic = found
                } catch let error as KafkaError where error.code == .unknownTopicOrPartition {
                    missing.append(spec.name)
                    continue
                }
                present.insert(spec.name)
                if topic.partitions.count != spec.partitions { drift[spec.name] = (spec.partitions, topic.partitions.count) }
                var total: Int64 = 0
                var held: Int64 = 0
                for partition in topic.partitions {
                    let marks = try await admin.watermarks(
                        topic: topic.name, partition: partition.id, timeout: configuration.timeout)
                    total += marks.high
                    held += marks.high - marks.low
                }
                ends[topic.name] = total
                if case .deadLetter = spec.kind { deadLetters[topic.name] = held }
            }
            for group in catalog.consumerGroups where present.contains(group.topic) {
                let lag = try await admin.groupLag(group: group.groupID, topics: [group.topic], timeout: configuration.timeout)
                lags[Self.lagKey(group.groupID, group.topic)] = lag.map(\.lag).reduce(0, +)
            }
        } catch {
            failure = "\(error)"
        }
        var services: [String: [ServiceSnapshot]] = [:]
        for (name, urls) in configuration.services {
            for url in urls { services[name, default: []].append(await Self.scrape(url, timeout: configuration.timeout)) }
        }
        samples.withLock { samples in
            for (topic, total) in ends {
                Self.append(Point(at: now, value: total), to: &samples.topicEnds[topic, default: []])
            }
            for (key, lag) in lags { Self.append(Point(at: now, value: lag), to: &samples.groupLag[key, default: []]) }
            if failure == nil {
                samples.deadLetterCounts = deadLetters
                samples.missingTopics = missing
                samples.partitionDrift = drift
            }
            samples.previousServices = samples.services
            samples.services = services
            samples.clusterFailure = failure
            samples.sampledAt = now
        }
    }

    /// Runs the configured contract checks and keeps the failures for the overview's attention list.
    func checkContracts() async {
        guard let run = configuration.contractReports else { return }
        var failures: [String: String] = [:]
        for result in await run() {
            switch result.report {
            case .success(let report) where !report.passed:
                failures[result.service] = report.failures.prefix(2).map { $0.line(service: report.service) }.joined(separator: "; ")
            case .failure(let error):
                failures[result.service] = error.message
            default:
                continue
            }
        }
        samples.withLock { $0.contractFailures = failures }
    }

    static func lagKey(_ group: String, _ topic: String) -> String { "\(group)@\(topic)" }

    private static func append(_ point: Point, to series: inout [Point]) {
        series.append(point)
        if series.count > trendLength { series.removeFirst(series.count - trendLength) }
    }

    /// How fast a growing count grew over its last five samples, per second (nil before two samples).
    private static func perSecond(_ series: [Point]) -> Double? {
        guard series.count >= 2, let last = series.last else { return nil }
        let first = series[max(0, series.count - 5)]
        let seconds = last.at.timeIntervalSince(first.at)
        return seconds > 0 ? Double(last.value - first.value) / seconds : nil
    }

    /// Records per second into a topic over the last few samples (nil before two samples).
    func rate(of topic: String) -> Double? {
        samples.withLock { Self.perSecond($0.topicEnds[topic] ?? []) }
    }

    /// Records per second a group commits on a topic (its consumption), from the topic's ends less its lag over
    /// the last few samples (nil before two samples).
    func consumptionRate(group: String, topic: String) -> Double? {
        samples.withLock { samples in
            guard let ends = samples.topicEnds[topic], let lags = samples.groupLag[Self.lagKey(group, topic)] else { return nil }
            // Both series are appended in the same rounds: pair them by time.
            let committed = lags.compactMap { lag in ends.first { $0.at == lag.at }.map { Point(at: lag.at, value: $0.value - lag.value) } }
            return Self.perSecond(committed)
        }
    }

    /// The lag series of a group on a topic.
    func lagTrend(group: String, topic: String) -> [Point] {
        samples.withLock { $0.groupLag[Self.lagKey(group, topic)] ?? [] }
    }

    /// Reads a service's endpoint: `/ready`, `/health`, `/metrics` and `/flow`.
    static func scrape(_ base: URL, timeout: Duration) async -> ServiceSnapshot {
        var snapshot = ServiceSnapshot(url: base, takenAt: Date(), metrics: [])
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        func fetch(_ path: String) async -> (status: Int, body: String)? {
            var request = URLRequest(url: base.appendingPathComponent(path))
            request.timeoutInterval = seconds
            guard let (data, response) = try? await URLSession.shared.data(for: request),
                let http = response as? HTTPURLResponse
            else { return nil }
            return (http.statusCode, String(decoding: data, as: UTF8.self))
        }
        guard let ready = await fetch("ready") else {
            snapshot.failure = "\(base) does not answer"
            return snapshot
        }
        snapshot.ready = (ready.status == 200, ready.body.trimmingCharacters(in: .whitespacesAndNewlines))
        if let health = await fetch("health") {
            snapshot.health = (health.status == 200, health.body.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        if let metrics = await fetch("metrics"), metrics.status == 200 {
            snapshot.metrics = PrometheusSample.parse(metrics.body)
        }
        if let flow = await fetch("flow"), flow.status == 200 { snapshot.flow = flow.body }
        return snapshot
    }
}
