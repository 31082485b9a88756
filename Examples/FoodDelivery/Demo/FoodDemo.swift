// food-demo (`make demo`): the food-delivery platform end to end on one machine. Starts the embedded broker with
// the catalog's topics, launches the five services as separate processes, places a few thousand orders (good and
// bad), shows orders per state until every order has finished, prints a summary, stops everything with SIGTERM,
// and ends with one machine-readable line:
//   dabba-demo orders=… delivered=… rejected=… cancelled=… stuck=… dead_lettered=… duplicate_effects=… p99_ms=…
// It exits non-zero when an order is stuck or an effect was applied twice.
import ArgumentParser
import DabbaCatalog
import DabbaEvents
import DabbaKafka
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation
import Logging
import Synchronization

@main
struct FoodDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "food-demo",
        abstract: "Runs the food-delivery services on the embedded broker and checks every order finishes exactly once."
    )

    @Option(help: "Well-formed orders to place (bad payloads and cancellations come on top).")
    var orders = 2000

    @Option(help: "Orders per second.")
    var rate: Double = 50

    @Option(help: "The random seed of the orders.")
    var seed: UInt64 = 42

    @Option(help: "Seconds to wait for every order to finish before counting the rest as stuck.")
    var timeout: Int = 240

    @Option(help: "The Topics/ catalog directory.")
    var catalog = "Topics"

    @Option(
        name: .customLong("work-dir"),
        help: "Where the services' stores and logs go (default: a new temporary directory).")
    var workDirectory: String?

    @Flag(help: "Keep the work directory (stores and logs) after a successful run.")
    var keep = false

    func run() async throws {
        var logger = Logger(label: "food-demo")
        logger.logLevel = .critical
        let directory = workDirectory ?? NSTemporaryDirectory() + "food-demo-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let loaded: Catalog
        do {
            loaded = try Catalog.load(directory: URL(fileURLWithPath: catalog))
        } catch let errors as CatalogErrors {
            throw ValidationError("the catalog in \(catalog) is invalid:\n\(errors)")
        }

        step("Starting the embedded broker with the catalog's topics (\(catalog)/)")
        let broker = try EmbeddedBroker(logger: logger)
        for topic in loaded.allTopics {
            try broker.createTopic(topic.name, partitions: Int32(topic.partitions))
        }
        let deadLetterTopics = loaded.allTopics.map(\.name).filter { $0.hasPrefix("food.") && $0.hasSuffix(".dlq") }
        note("broker at \(broker.bootstrapServers); \(loaded.allTopics.count) topics (main, retry tiers, dead letters)")

        step("Launching the five services as separate processes")
        var services: [ServiceProcess] = []
        for name in foodServiceNames {
            let service = try ServiceProcess(
                name: name,
                arguments: foodServiceArguments(
                    bootstrap: broker.bootstrapServers, catalog: catalog, store: "\(directory)/\(name).sqlite"),
                logPath: "\(directory)/\(name).log"
            )
            services.append(service)
            note(
                "\(name.padding(toLength: 19, withPad: " ", startingAt: 0)) pid \(service.pid)  log \(service.logPath)")
        }
        let children = services
        let interrupt = InterruptHandler { for service in children { service.send(SIGTERM) } }
        defer { interrupt.cancel() }

        let observer = try OrderObserver(
            bootstrap: broker.bootstrapServers, deadLetterTopics: deadLetterTopics, logger: logger)
        let observing = Task { try await observer.run() }
        try await waitForGroups(services)

        step(
            "Placing \(orders) orders at \(Int(rate))/s (seed \(seed)): good ones, and bad ones that must be rejected or dead-lettered"
        )
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: logger)
        let events = EventProducer(producer: producer, source: "/food-loadgen", routes: EventRoutes(catalog: loaded))
        let generator = LoadGenerator(settings: LoadSettings(orders: orders, seed: seed, rate: rate, runID: "ord"))
        let clock = ContinuousClock()
        let started = clock.now
        let produced = PlanBox()
        let production = Task {
            let plan = try await generator.produce(with: events)
            produced.set(plan)
            return plan
        }
        let expectedOrders = generator.records().compactMap { record -> String? in
            if case .order(let order) = record { return order.orderId }
            return nil
        }
        var plan: LoadPlan?
        var lastLine = clock.now
        let deadline = started.advanced(by: .seconds(timeout))
        while clock.now < deadline {
            try await Task.sleep(for: .milliseconds(250))
            if plan == nil { plan = produced.get() }
            let snapshot = observer.snapshot(of: plan?.orderIDs ?? expectedOrders)
            if clock.now - lastLine >= .seconds(1) {
                lastLine = clock.now
                printProgress(snapshot, elapsed: clock.now - started, total: expectedOrders.count)
            }
            if let plan, snapshot.unfinished.isEmpty {
                // Every malformed record is dead-lettered by each of the five groups.
                let seen = run(deadLetters: snapshot)
                if Set(plan.invalidEventIDs).isSubset(of: seen) { break }
            }
        }
        let finalPlan: LoadPlan
        if let plan {
            finalPlan = plan
        } else {
            production.cancel()
            finalPlan = (try? await production.value) ?? LoadPlan()
        }
        // A last moment for stragglers (a dead-letter record from a slower group).
        try await Task.sleep(for: .milliseconds(500))
        let run = observer.snapshot(of: finalPlan.orderIDs)
        let elapsed = clock.now - started
        printProgress(run, elapsed: elapsed, total: finalPlan.orderIDs.count)

        step("Stopping the services (SIGTERM) and the broker")
        var exitCodes: [String: Int32] = [:]
        for service in services.reversed() {
            exitCodes[service.name] = await service.stop(timeout: .seconds(30))
        }
        await observer.stop()
        observing.cancel()
        try? await producer.flush()
        broker.stop()
        note(services.map { "\($0.name) exited \(exitCodes[$0.name] ?? -1)" }.joined(separator: ", "))

        // Effects applied twice, from each service's own store (the stores record one row per effect).
        var duplicates = 0
        var notifications = 0
        var disagreements = 0
        var storeDuplicates: [String: Int] = [:]
        for name in foodServiceNames {
            let reader = try StoreReader(path: "\(directory)/\(name).sqlite")
            let count = try await reader.duplicateEffects()
            storeDuplicates[name] = count
            duplicates += count
            if name == "food-notifications" {
                notifications = try await reader.integer("SELECT COUNT(*) FROM notifications")
            }
            let states = try await reader.orderStates()
            for (order, passed) in run.passed where states[order] != passed.last?.rawValue { disagreements += 1 }
        }

        step("Summary")
        let stuck = run.unfinished.count
        let deadLettered = Set(run.deadLetters.map(\.eventID)).count
        let cancelledByCustomer = run.terminal[OrderState.cancelled.rawValue] ?? 0
        let paymentFailed = run.terminal[OrderState.paymentFailed.rawValue] ?? 0
        say(
            "orders placed            \(finalPlan.orderIDs.count) (+ \(finalPlan.invalidEventIDs.count) malformed records, \(finalPlan.cancelledOrderIDs.count) cancellation requests, \(finalPlan.partnerUpdates) partner moves)"
        )
        say("  delivered              \(run.count(bucket: "delivered"))")
        say("  rejected               \(run.count(bucket: "rejected"))")
        say(
            "  cancelled              \(run.count(bucket: "cancelled")) (by the customer \(cancelledByCustomer), payment failed \(paymentFailed))"
        )
        say(
            "  stuck                  \(stuck)\(stuck > 0 ? "  e.g. " + run.unfinished.prefix(5).joined(separator: ", ") : "")"
        )
        say("notifications sent       \(notifications)")
        say("dead-lettered events     \(deadLettered) (\(run.deadLetters.count) dead-letter records over the groups)")
        for (reason, records) in Dictionary(grouping: run.deadLetters, by: \.reason).sorted(by: { $0.key < $1.key }) {
            say("  \(records.count) × \(reason)  [\(Set(records.map(\.group)).sorted().joined(separator: ", "))]")
        }
        say("latency placed→final     p50 \(Int(run.p50Milliseconds)) ms, p99 \(Int(run.p99Milliseconds)) ms")
        let seconds = max(0.001, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        say(
            "throughput               \(run.events) events in \(String(format: "%.1f", seconds)) s = \(Int(Double(run.events) / seconds)) events/s on food.orders"
        )
        say(
            "duplicate effects        \(duplicates) (\(storeDuplicates.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(separator: ", ")))"
        )
        say("redelivered records      \(run.duplicateDeliveries) (same event id seen again; skipped by the inboxes)")
        say("services disagreeing     \(disagreements) order states differ between a service's store and the log")
        say(
            "stores and logs          \(directory)\(keep || stuck > 0 || duplicates > 0 ? "" : " (removed; --keep keeps them)")"
        )
        say(
            "dabba-demo orders=\(finalPlan.orderIDs.count) delivered=\(run.count(bucket: "delivered")) rejected=\(run.count(bucket: "rejected")) cancelled=\(run.count(bucket: "cancelled")) stuck=\(stuck) dead_lettered=\(deadLettered) duplicate_effects=\(duplicates) p99_ms=\(Int(run.p99Milliseconds))"
        )
        if !keep, stuck == 0, duplicates == 0 { try? FileManager.default.removeItem(atPath: directory) }
        if stuck > 0 || duplicates > 0 || finalPlan.orderIDs.isEmpty { throw ExitCode(1) }
    }

    private func waitForGroups(_ services: [ServiceProcess]) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(60))
        var pending = Set(services.map(\.name))
        while !pending.isEmpty, clock.now < deadline {
            for service in services where pending.contains(service.name) {
                if service.log.contains("partitions assigned") { pending.remove(service.name) }
                if !service.isRunning {
                    throw ValidationError(
                        "\(service.name) exited at start; its log (\(service.logPath)):\n\(service.log)")
                }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        if pending.isEmpty {
            note("every service joined its consumer group")
        } else {
            note("still joining: \(pending.sorted().joined(separator: ", ")) (orders wait on the topic meanwhile)")
        }
    }

    private func run(deadLetters snapshot: ObservedRun) -> Set<String> { Set(snapshot.deadLetters.map(\.eventID)) }

    private func printProgress(_ run: ObservedRun, elapsed: Duration, total: Int) {
        let order: [String] = ["not_placed_yet"] + OrderState.allCases.map(\.rawValue)
        let parts = order.compactMap { state in run.byState[state].map { "\(state) \($0)" } }
        say(
            "  \(String(format: "%5.1f", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))s  \(parts.joined(separator: " · "))  | dead letters \(run.deadLetters.count)"
        )
    }

    private func step(_ text: String) {
        say("\n== \(text)")
    }

    private func note(_ text: String) {
        say("   \(text)")
    }
}

/// The load plan, once the producing task has finished.
final class PlanBox: Sendable {
    private let plan = Mutex<LoadPlan?>(nil)
    func set(_ value: LoadPlan) { plan.withLock { $0 = value } }
    func get() -> LoadPlan? { plan.withLock { $0 } }
}

/// Forwards SIGINT/SIGTERM to the children, then exits.
final class InterruptHandler {
    private let sources: [any DispatchSourceSignal]

    init(_ onSignal: @escaping @Sendable () -> Void) {
        sources = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                onSignal()
                Thread.sleep(forTimeInterval: 2)
                exit(130)
            }
            source.resume()
            return source
        }
    }

    func cancel() { for source in sources { source.cancel() } }
}

/// Writes a line to standard output at once (no buffering, so progress shows when piped through make).
func say(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
