import DabbaCatalog
import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaTesting
import DemoKit
import DemoTestKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation
import Logging
import Testing

let quietLogger = TestHelpers.quietLogger("food.test")

/// The food-delivery system for one test (on the kit's ``ExampleSystem``): its own embedded broker with the catalog's
/// food.* topics, its own directory of stores and logs, services as real processes, and an observer on the topics.
final class FoodSystem: Sendable {
    /// The repository's Topics/.
    static let topics = ExampleSystem.topicsDirectory

    let system: ExampleSystem
    let observer: OrderObserver
    private let observing: Task<Void, any Error>

    var broker: EmbeddedBroker { system.broker }
    var catalog: Catalog { system.catalog }
    var directory: String { system.directory }
    var services: [String: ServiceProcess] { system.services }
    var producer: KafkaProducer { system.producer }
    var events: EventProducer { system.events }

    /// Waits until no other example system of this process runs, then starts one (``shutDown()`` lets the next one
    /// start).
    /// - Parameter brokers: How many brokers the embedded cluster has; every topic is replicated on all of them.
    static func start(brokers: Int = 1) async throws -> FoodSystem {
        let system = try await ExampleSystem.start(
            prefix: "food.", brokers: brokers, name: "food-test", logger: quietLogger)
        do {
            return try FoodSystem(system)
        } catch {
            await system.shutDown {}
            throw error
        }
    }

    private init(_ system: ExampleSystem) throws {
        self.system = system
        observer = try OrderObserver(
            bootstrap: system.broker.bootstrapServers, deadLetterTopics: system.deadLetterTopics, logger: quietLogger)
        let observer = self.observer
        observing = Task { try await observer.run() }
    }

    /// The store file of a service instance.
    func store(_ name: String, instance: String? = nil) -> String { system.store(name, instance: instance) }

    /// Starts a service instance (static member `instance` when given).
    @discardableResult
    func start(_ name: String, instance: String? = nil, inbox: String? = nil) throws -> ServiceProcess {
        var arguments = foodServiceArguments(
            bootstrap: broker.bootstrapServers, catalog: ExampleSystem.topicsDirectory.path,
            store: store(name, instance: instance), instanceID: instance
        )
        if let inbox, let index = arguments.firstIndex(of: "--inbox") { arguments[index + 1] = inbox }
        return try system.launch(name, instance: instance, arguments: arguments)
    }

    /// Starts the five services, one instance each.
    func startAll() throws {
        for name in foodServiceNames { try start(name) }
    }

    /// Waits until every running service logged a partition assignment.
    func waitUntilJoined(timeout: Duration = .seconds(120)) async throws {
        let observer = self.observer
        try await system.waitUntilJoined(timeout: timeout) { observer.isAssigned }
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
        try await waitUntilSettled(plan, readers: try stores.map { try StoreReader(path: $0) }, timeout: timeout)
    }

    /// Waits until every store's view of every order is the log's (SQLite files or a shared PostgreSQL store).
    func waitUntilSettled(_ plan: LoadPlan, readers: [StoreReader], timeout: Duration = .seconds(60)) async throws {
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
        for (name, result) in await system.stopAll() {
            #expect(result.status == 0, "\(name) exited with \(result.status): \(result.log)")
        }
    }

    /// Stops everything and removes the directory.
    func shutDown() async {
        let observer = self.observer
        let observing = self.observing
        await system.shutDown {
            await observer.stop()
            observing.cancel()
        }
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
