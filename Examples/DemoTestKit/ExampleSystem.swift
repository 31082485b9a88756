import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DabbaTesting
import DemoKit
import Foundation
import Logging
import Synchronization

/// What every example system's end-to-end tests start: an embedded broker with the catalog's topics of the system,
/// a directory of stores and logs, a producer routed by the catalog, and the services as processes. One system at a
/// time per test process (``DemoSystemGate``): each test target's system wraps one of these.
public final class ExampleSystem: @unchecked Sendable {
    // @unchecked: `services` is only touched from the test's own task.

    /// The repository's Topics/ directory.
    public static let topicsDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Topics")

    /// The broker.
    public let broker: EmbeddedBroker
    /// The whole catalog.
    public let catalog: Catalog
    /// The system's topics (main, retry tiers, dead letters).
    public let topics: [TopicSpec]
    /// Where stores and logs go.
    public let directory: String
    /// A producer.
    public let producer: KafkaProducer
    /// The producer, typed and routed by the catalog.
    public let events: EventProducer
    /// The services started, by name (`name#instance` for named instances).
    public private(set) var services: [String: ServiceProcess] = [:]
    private let released = Atomic<Bool>(false)

    /// Waits until no other example system of this process runs, then starts one.
    /// - Parameters:
    ///   - prefix: The system's topic prefix (`upi.`); nil for every topic of the catalog.
    ///   - brokers: The embedded cluster's size; every topic is replicated on all of them.
    ///   - name: Names the directory and the producer's source.
    ///   - logger: The logger.
    public static func start(prefix: String?, brokers: Int = 1, name: String, logger: Logger) async throws
        -> ExampleSystem
    {
        await DemoSystemGate.lock.acquire()
        do {
            return try await ExampleSystem(prefix: prefix, brokers: brokers, name: name, logger: logger)
        } catch {
            DemoSystemGate.lock.release()
            throw error
        }
    }

    private init(prefix: String?, brokers: Int, name: String, logger: Logger) async throws {
        broker = try EmbeddedBroker(brokers: brokers, logger: logger)
        catalog = try Catalog.load(directory: Self.topicsDirectory)
        topics = catalog.allTopics.filter { prefix == nil || $0.name.hasPrefix(prefix ?? "") }
        for topic in topics {
            try await broker.createTopic(
                topic.name, partitions: Int32(topic.partitions), replicationFactor: Int32(brokers))
        }
        directory = NSTemporaryDirectory() + TestHelpers.uniqueName(name)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: logger)
        events = EventProducer(producer: producer, source: "/\(name)", routes: EventRoutes(catalog: catalog))
    }

    /// The system's dead-letter topics.
    public var deadLetterTopics: [String] { topics.map(\.name).filter { $0.hasSuffix(".dlq") } }

    /// The SQLite store of a service (instance).
    public func store(_ name: String, instance: String? = nil) -> String {
        "\(directory)/\(name)\(instance.map { "-\($0)" } ?? "").sqlite"
    }

    /// Starts a service process, its log in the directory.
    /// - Parameters:
    ///   - name: The executable.
    ///   - instance: A name for a second instance (its key in ``services`` is `name#instance`).
    ///   - arguments: Its arguments.
    @discardableResult
    public func launch(_ name: String, instance: String? = nil, arguments: [String]) throws -> ServiceProcess {
        let service = try ServiceProcess(
            name: name, arguments: arguments, logPath: "\(directory)/\(name)\(instance.map { "-\($0)" } ?? "").log")
        services[name + (instance.map { "#\($0)" } ?? "")] = service
        return service
    }

    /// Waits until every running service logged a partition assignment and `observerReady` holds.
    /// - Throws: ``WaitTimeout`` naming the services not joined, or one that exited (with its log).
    public func waitUntilJoined(timeout: Duration = .seconds(120), observerReady: @escaping @Sendable () -> Bool)
        async throws
    {
        let services = self.services
        do {
            try await TestHelpers.eventually(
                "every service joined its group", timeout: timeout, pollInterval: .milliseconds(200)
            ) {
                for service in services.values where !service.isRunning {
                    throw WaitTimeout("\(service.name) exited before joining its group: \(service.log.suffix(3000))")
                }
                return services.values.allSatisfy { $0.log.contains("partitions assigned") } && observerReady()
            }
        } catch let timeout as WaitTimeout {
            let waiting = services.values.filter { !$0.log.contains("partitions assigned") }.map(\.name)
            throw WaitTimeout("\(timeout.message); not joined: \(waiting.sorted())")
        }
    }

    /// Stops every running service with SIGTERM.
    /// - Returns: Each one's exit status and the end of its log, by key.
    public func stopAll(timeout: Duration = .seconds(60)) async -> [String: (status: Int32, log: String)] {
        var results: [String: (Int32, String)] = [:]
        for (key, service) in services where service.isRunning {
            let status = await service.stop(timeout: timeout)
            results[key] = (status, String(service.log.suffix(2000)))
        }
        return results
    }

    /// Kills what still runs, stops the broker, removes the directory and lets the next system start.
    /// - Parameter observer: Stops the system's observer first.
    public func shutDown(observer: () async -> Void) async {
        for service in services.values where service.isRunning { service.send(SIGKILL) }
        await observer()
        broker.stop()
        try? FileManager.default.removeItem(atPath: directory)
        if !released.exchange(true, ordering: .acquiringAndReleasing) { DemoSystemGate.lock.release() }
    }
}

/// A test's handle on one example system (its broker, services and observer): ``with(_:)`` runs a test body on a
/// started one and shuts it down on every path.
public protocol ExampleSystemHarness: Sendable {
    /// Waits until no other example system of this process runs, then starts one.
    static func start() async throws -> Self
    /// Stops everything and removes the work directory.
    func shutDown() async
}

extension ExampleSystemHarness {
    /// Runs a test body on a started system, shutting it down on every path.
    public static func with(_ body: (Self) async throws -> Void) async throws {
        let system = try await start()
        do {
            try await body(system)
        } catch {
            await system.shutDown()
            throw error
        }
        await system.shutDown()
    }
}
