// food-demo (`make demo`): the food-delivery platform end to end on one machine. Starts the embedded broker with
// the catalog's topics, launches the five services as separate processes, places a few thousand orders (good and
// bad), shows orders per state until every order has finished, prints a summary, stops everything with SIGTERM,
// and ends with one machine-readable line:
//   dabba-demo orders=… delivered=… rejected=… cancelled=… stuck=… dead_lettered=… duplicate_effects=… disagreeing=…
//   kills=… faults=… p99_ms=…
// It exits non-zero when an order is stuck, an effect was applied twice or a service's store disagrees with the log.
// With --chaos, services are SIGKILLed and restarted and broker faults injected while orders flow (DemoKit).
import ArgumentParser
import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
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

    @Option(help: "Orders per second (0: as fast as the broker acknowledges them, to measure throughput).")
    var rate: Double = 50

    @Option(help: "The random seed of the orders.")
    var seed: UInt64 = 42

    @Option(help: "Seconds to wait for every order to finish before counting the rest as stuck.")
    var timeout: Int = 240

    @OptionGroup var workspace: DemoRunOptions

    @OptionGroup var chaos: ChaosOptions

    func validate() throws {
        if rate < 0 { throw ValidationError("--rate must not be negative (0 places orders flat out), not \(rate)") }
        if orders < 1 { throw ValidationError("--orders must be at least 1, not \(orders)") }
        if timeout < 1 { throw ValidationError("--timeout must be at least 1 second, not \(timeout)") }
    }

    func run() async throws {
        var logger = Logger(label: "food-demo")
        logger.logLevel = .critical
        let directory = try workspace.makeWorkDirectory(for: "food-demo")
        let loaded = try workspace.loadCatalog()
        let catalog = workspace.catalog

        DemoConsole.step("Starting the embedded broker with the catalog's topics (\(catalog)/)")
        let broker = try EmbeddedBroker(brokers: chaos.brokers, logger: logger)
        for topic in loaded.allTopics {
            try await broker.createTopic(
                topic.name, partitions: Int32(topic.partitions), replicationFactor: Int32(broker.brokerCount))
        }
        let deadLetterTopics = loaded.allTopics.map(\.name).filter { $0.hasPrefix("food.") && $0.hasSuffix(".dlq") }
        DemoConsole.note(
            "\(broker.brokerCount) broker\(broker.brokerCount == 1 ? "" : "s") at \(broker.bootstrapServers); \(loaded.allTopics.count) topics (main, retry tiers, dead letters)"
        )

        DemoConsole.step("Launching the five services as separate processes")
        // Under chaos each service has a static group membership, so a restart within the session timeout takes its
        // partitions back without a rebalance of its group.
        let services = try DemoServices(names: foodServiceNames, logDirectory: directory) { name in
            foodServiceArguments(
                bootstrap: broker.bootstrapServers, catalog: catalog, store: "\(directory)/\(name).sqlite",
                instanceID: chaos.chaos ? "demo" : nil)
        }
        services.announce()
        let interrupt = services.forwardInterrupts()
        defer { interrupt.cancel() }

        let observer = try OrderObserver(
            bootstrap: broker.bootstrapServers, deadLetterTopics: deadLetterTopics, logger: logger)
        let observing = Task { try await observer.run() }
        try await services.waitUntilJoinedAnnounced(waiting: "orders")

        DemoConsole.step(
            "Placing \(orders) orders \(rate > 0 ? "at \(Int(rate))/s" : "flat out") (seed \(seed)): good ones, and bad ones that must be rejected or dead-lettered"
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
        let monkey = chaos.chaos ? startChaos(services: services, broker: broker, topics: loaded) : nil
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
                printProgress(snapshot, elapsed: clock.now - started)
            }
            if let plan, snapshot.unfinished.isEmpty {
                // Chaos ends with the orders: what it disturbed is put right before the final checks.
                await monkey?.stop()
                // Every malformed record is dead-lettered by each of the five groups.
                if Set(plan.invalidEventIDs).isSubset(of: Set(snapshot.deadLetters.map(\.eventID))) { break }
            }
        }
        await monkey?.stop()
        let finalPlan: LoadPlan
        if let plan {
            finalPlan = plan
        } else {
            production.cancel()
            finalPlan = (try? await production.value) ?? LoadPlan()
        }
        let elapsed = clock.now - started
        // Every service has handled the whole log before it is stopped (a service restarted late catches up).
        let readers = try foodServiceNames.map { ($0, try StoreReader(path: "\(directory)/\($0).sqlite")) }
        let settling = clock.now
        let settled = try await settle(readers, observer: observer, orders: finalPlan.orderIDs)
        let run = observer.snapshot(of: finalPlan.orderIDs)
        printProgress(run, elapsed: elapsed)
        DemoConsole.note(
            settled
                ? "every service's store caught up with the log "
                    + "(\(String(format: "%.1f", DemoConsole.seconds(clock.now - settling))) s)"
                : "the services' stores had not caught up with the log after 60 s")

        DemoConsole.step("Stopping the services (SIGTERM) and the broker")
        let exitCodes = await services.stopAll()
        await observer.stop()
        observing.cancel()
        try? await producer.flush()
        broker.stop()
        DemoConsole.note(foodServiceNames.map { "\($0) exited \(exitCodes[$0] ?? -1)" }.joined(separator: ", "))

        // Effects applied twice, from each service's own store (the stores record one row per effect).
        var duplicates = 0
        var notifications = 0
        var disagreements = 0
        var storeDuplicates: [String: Int] = [:]
        for (name, reader) in readers {
            let count = try await reader.duplicateEffects()
            storeDuplicates[name] = count
            duplicates += count
            if name == "food-notifications" {
                notifications = try await reader.integer("SELECT COUNT(*) FROM notifications")
            }
            disagreements += try await Self.disagreements(reader, run: run)
        }

        DemoConsole.step("Summary")
        let say = DemoConsole.say
        let stuck = run.unfinished.count
        let deadLettered = Set(run.deadLetters.map(\.eventID)).count
        let cancelledByCustomer = run.terminal[OrderState.cancelled.rawValue] ?? 0
        let paymentFailed = run.terminal[OrderState.paymentFailed.rawValue] ?? 0
        let record = monkey?.record ?? ChaosRecord()
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
        let seconds = max(0.001, DemoConsole.seconds(elapsed))
        say(
            "throughput               \(run.events) events in \(String(format: "%.1f", seconds)) s = \(Int(Double(run.events) / seconds)) events/s on food.orders"
        )
        // End to end: orders that reached a final state, over the log's span from the first order event to the last.
        let finished = finalPlan.orderIDs.count - stuck
        let ordersPerSecond = run.spanSeconds > 0 ? Int(Double(finished) / run.spanSeconds) : 0
        say(
            "orders end to end        \(ordersPerSecond) orders/s through all five services (\(finished) orders in \(String(format: "%.1f", run.spanSeconds)) s, first order event to last)"
        )
        if chaos.chaos {
            say("chaos                    kills \(record.kills) (SIGKILL, then a restart), broker faults \(record.faults)")
        }
        say(
            "duplicate effects        \(duplicates) (\(storeDuplicates.sorted(by: { $0.key < $1.key }).map { "\($0.key) \($0.value)" }.joined(separator: ", ")))"
        )
        say("redelivered records      \(run.duplicateDeliveries) (same event id seen again; skipped by the inboxes)")
        say("services disagreeing     \(disagreements) order states differ between a service's store and the log")

        var verdict = DemoVerdict(prefix: "dabba-demo")
        verdict.add("orders", finalPlan.orderIDs.count)
        verdict.add("delivered", run.count(bucket: "delivered"))
        verdict.add("rejected", run.count(bucket: "rejected"))
        verdict.add("cancelled", run.count(bucket: "cancelled"))
        verdict.require("stuck", stuck, equals: 0)
        verdict.add("dead_lettered", deadLettered)
        verdict.require("duplicate_effects", duplicates, equals: 0)
        verdict.require("disagreeing", disagreements, equals: 0)
        verdict.add("kills", record.kills)
        verdict.add("faults", record.faults)
        verdict.add("p99_ms", Int(run.p99Milliseconds))
        verdict.add("orders_per_s", ordersPerSecond)
        verdict.require(!finalPlan.orderIDs.isEmpty, "no order was placed")
        let kept = workspace.keep || !verdict.passed
        say("stores and logs          \(directory)\(kept ? "" : " (removed; --keep keeps them)")")
        say(verdict.line)
        if !kept { try? FileManager.default.removeItem(atPath: directory) }
        if !verdict.passed { throw ExitCode(verdict.exitStatus) }
    }

    /// Starts the chaos driver on the services and the broker, its actions printed as notes.
    private func startChaos(services: DemoServices, broker: EmbeddedBroker, topics: Catalog) -> ChaosRun {
        var leaderTopics: [String: Int32] = [:]
        for topic in topics.allTopics where ["food.orders", "food.partners"].contains(topic.name) {
            leaderTopics[topic.name] = Int32(topic.partitions)
        }
        let settings = chaos.settings(leaderTopics: leaderTopics)
        DemoConsole.step(
            "Chaos until every order has finished: every \(DemoConsole.seconds(settings.interval)) s a service is SIGKILLed and restarted, or a broker fault is injected (seed \(settings.seed))"
        )
        return ChaosRun(ChaosMonkey(settings: settings, services: services.all, broker: broker) { line in
            DemoConsole.note("chaos: \(line)")
        })
    }

    /// Waits until every service's store agrees with the log on every order's state (or 60 s passed).
    private func settle(_ readers: [(String, StoreReader)], observer: OrderObserver, orders: [String]) async throws
        -> Bool
    {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(60))
        while clock.now < deadline {
            let run = observer.snapshot(of: orders)
            var disagreeing = 0
            for (_, reader) in readers { disagreeing += try await Self.disagreements(reader, run: run) }
            if disagreeing == 0 { return true }
            try await Task.sleep(for: .milliseconds(500))
        }
        return false
    }

    /// Orders whose state in a service's store differs from the log's.
    private static func disagreements(_ reader: StoreReader, run: ObservedRun) async throws -> Int {
        let states = try await reader.orderStates()
        return run.passed.filter { order, passed in states[order] != passed.last?.rawValue }.count
    }

    private func printProgress(_ run: ObservedRun, elapsed: Duration) {
        let order: [String] = ["not_placed_yet"] + OrderState.allCases.map(\.rawValue)
        DemoConsole.progress(
            elapsed: elapsed, parts: order.map { ($0, run.byState[$0] ?? 0) },
            suffix: "| dead letters \(run.deadLetters.count)")
    }
}

/// The load plan, once the producing task has finished.
final class PlanBox: Sendable {
    private let plan = Mutex<LoadPlan?>(nil)
    func set(_ value: LoadPlan) { plan.withLock { $0 = value } }
    func get() -> LoadPlan? { plan.withLock { $0 } }
}
