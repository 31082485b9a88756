import DabbaCatalog
import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaTesting
import DemoKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation
import Logging
import Synchronization
import Testing

let quietLogger = TestHelpers.quietLogger("food.test")

/// The food-delivery system for one test: its own embedded broker with the catalog's topics, its own directory
/// of stores and logs, services as real processes, and an observer on the topics.
final class FoodSystem: @unchecked Sendable {
    // @unchecked: `services` is only touched from the test's own task.
    static let topics = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Topics")

    let broker: EmbeddedBroker
    let catalog: Catalog
    let directory: String
    let observer: OrderObserver
    private let observing: Task<Void, any Error>
    private(set) var services: [String: ServiceProcess] = [:]
    let producer: KafkaProducer
    let events: EventProducer

    /// One system at a time in the test process (``DemoSystemGate``); the suites of other test targets still run
    /// alongside.
    private static let oneAtATime = DemoSystemGate.lock
    private let released = Atomic<Bool>(false)

    /// Waits until no other system of this process runs, then starts one (``shutDown()`` lets the next one start).
    /// - Parameter brokers: How many brokers the embedded cluster has; every topic is replicated on all of them.
    static func start(brokers: Int = 1) async throws -> FoodSystem {
        await oneAtATime.acquire()
        do {
            return try await FoodSystem(brokers: brokers)
        } catch {
            oneAtATime.release()
            throw error
        }
    }

    private init(brokers: Int) async throws {
        broker = try EmbeddedBroker(brokers: brokers, logger: quietLogger)
        catalog = try Catalog.load(directory: Self.topics)
        for topic in catalog.allTopics {
            try await broker.createTopic(
                topic.name, partitions: Int32(topic.partitions), replicationFactor: Int32(brokers))
        }
        directory = NSTemporaryDirectory() + TestHelpers.uniqueName("food-test")
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let deadLetters = catalog.allTopics.map(\.name).filter { $0.hasPrefix("food.") && $0.hasSuffix(".dlq") }
        observer = try OrderObserver(
            bootstrap: broker.bootstrapServers, deadLetterTopics: deadLetters, logger: quietLogger)
        let observer = self.observer
        observing = Task { try await observer.run() }
        producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: quietLogger)
        events = EventProducer(producer: producer, source: "/food-test", routes: EventRoutes(catalog: catalog))
    }

    /// The store file of a service instance.
    func store(_ name: String, instance: String? = nil) -> String {
        "\(directory)/\(name)\(instance.map { "-\($0)" } ?? "").sqlite"
    }

    /// Starts a service instance (static member `instance` when given).
    @discardableResult
    func start(_ name: String, instance: String? = nil, inbox: String? = nil) throws -> ServiceProcess {
        var arguments = foodServiceArguments(
            bootstrap: broker.bootstrapServers, catalog: Self.topics.path, store: store(name, instance: instance),
            instanceID: instance
        )
        if let inbox, let index = arguments.firstIndex(of: "--inbox") { arguments[index + 1] = inbox }
        let service = try ServiceProcess(
            name: name, arguments: arguments, logPath: "\(directory)/\(name)\(instance.map { "-\($0)" } ?? "").log"
        )
        services[name + (instance.map { "#\($0)" } ?? "")] = service
        return service
    }

    /// Starts the five services, one instance each.
    func startAll() throws {
        for name in foodServiceNames { try start(name) }
    }

    /// Waits until every running service logged a partition assignment.
    func waitUntilJoined(timeout: Duration = .seconds(120)) async throws {
        let services = self.services
        do {
            try await TestHelpers.eventually("every service joined its group", timeout: timeout, pollInterval: .milliseconds(200)) {
                for service in services.values where !service.isRunning {
                    throw WaitTimeout("\(service.name) exited before joining its group: \(service.log)")
                }
                return services.values.allSatisfy { $0.log.contains("partitions assigned") } && observer.isAssigned
            }
        } catch let timeout as WaitTimeout {
            let waiting = services.values.filter { !$0.log.contains("partitions assigned") }.map(\.name)
            throw WaitTimeout("\(timeout.message); not joined: \(waiting.sorted())")
        }
    }

    /// Produces a load run.
    func produce(_ settings: LoadSettings) async throws -> LoadPlan {
        try await LoadGenerator(settings: settings).produce(with: events)
    }

    /// Waits until every order of the plan finished and every malformed record reached `groups` dead-letter
    /// topics, then returns what was observed (the caller checks it).
    func waitUntilFinished(_ plan: LoadPlan, deadLetterGroups: Int = 5, timeout: Duration = .seconds(240)) async throws
        -> ObservedRun
    {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            let run = observer.snapshot(of: plan.orderIDs)
            let deadLettered = run.deadLetters.filter { Set(plan.invalidEventIDs).contains($0.eventID) }.count
            if run.unfinished.isEmpty, deadLettered >= plan.invalidEventIDs.count * deadLetterGroups {
                // Let a last straggler (a redelivery, a late notification) arrive before the services stop.
                try await Task.sleep(for: .seconds(1))
                return observer.snapshot(of: plan.orderIDs)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return observer.snapshot(of: plan.orderIDs)
    }

    /// Waits until every store's view of every order is the log's: the services have handled everything, so
    /// stopping them now leaves nothing half-done (a service restarted late catches up first).
    func waitUntilSettled(_ plan: LoadPlan, stores: [String], timeout: Duration = .seconds(60)) async throws {
        let readers = try stores.map { try StoreReader(path: $0) }
        let observer = self.observer
        try await TestHelpers.eventually(
            "every store agrees with the log", timeout: timeout, pollInterval: .milliseconds(500)
        ) {
            let run = observer.snapshot(of: plan.orderIDs)
            for reader in readers {
                let states = try await reader.orderStates()
                for order in plan.orderIDs where states[order] != run.passed[order]?.last?.rawValue { return false }
            }
            return true
        }
    }

    /// Stops every service with SIGTERM and checks they exit cleanly.
    func stopAll() async {
        for (name, service) in services where service.isRunning {
            let status = await service.stop(timeout: .seconds(60))
            #expect(status == 0, "\(name) exited with \(status): \(service.log.suffix(2000))")
        }
    }

    /// Stops everything and removes the directory.
    func shutDown() async {
        for service in services.values where service.isRunning { service.send(SIGKILL) }
        await observer.stop()
        observing.cancel()
        broker.stop()
        try? FileManager.default.removeItem(atPath: directory)
        if !released.exchange(true, ordering: .acquiringAndReleasing) { Self.oneAtATime.release() }
    }

    /// Runs `food-analytics --report` on a store and returns its last line's fields.
    func analyticsReport(store: String) async throws -> [String: Int] {
        let report = try await TestProcess(
            executable: TestProcess.executable(named: "food-analytics"), arguments: ["--report", "--inbox", "sqlite:\(store)"]
        ).waitForExit()
        #expect(report.exitCode == 0, "food-analytics --report: \(report.stderr)")
        let line = try #require(report.lines.last { $0.hasPrefix("analytics ") })
        var fields: [String: Int] = [:]
        for part in line.split(separator: " ").dropFirst() {
            let pair = part.split(separator: "=")
            if pair.count == 2, let value = Int(pair[1]) { fields[String(pair[0])] = value }
        }
        return fields
    }
}

/// The outcome the platform's own rules decide for a placed order (nil: it reaches the restaurant).
func platformOutcome(_ order: OrderPlaced) -> String? {
    do {
        let priced = try OrderPricer().price(order)
        return PaymentProvider.charge(token: order.paymentToken, amountMinor: priced.totalMinor) == nil
            ? nil : "payment_failed"
    } catch {
        return "rejected:\(error.reason.rawValue)"
    }
}
