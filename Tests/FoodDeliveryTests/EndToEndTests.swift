import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation
import Testing

/// Checks what every run must satisfy, whatever happened during it.
func checkInvariants(_ system: FoodSystem, plan: LoadPlan, run: ObservedRun, stores: [String]) async throws {
    // Every order finished, exactly once: one terminal state each (the observer applies the state machine).
    #expect(run.unfinished.isEmpty, "unfinished orders: \(run.unfinished.prefix(10))")
    #expect(run.terminal.values.reduce(0, +) == plan.orderIDs.count)
    for order in plan.orderIDs {
        let passed = run.passed[order] ?? []
        #expect(passed.filter(\.isTerminal).count == 1, "\(order) passed \(passed)")
    }
    // Every service saw the same life of every order, and applied each effect once.
    for path in stores {
        let reader = try StoreReader(path: path)
        #expect(try await reader.duplicateEffects() == 0, "duplicate effects in \(path)")
        let passed = try await reader.passedStates()
        var disagreeing: [String] = []
        for order in plan.orderIDs where passed[order] != run.passed[order]?.map(\.rawValue) {
            disagreeing.append(order)
        }
        #expect(disagreeing.isEmpty, "\(path) disagrees with the log on \(disagreeing.prefix(5))")
    }
}

/// Checks the delivery store at the end of a run: its assignments are the log's (every order that reached a partner,
/// and no other), all closed, no partner left busy and no order left waiting.
func checkDeliveryStore(_ delivery: StoreReader, plan: LoadPlan, run: ObservedRun) async throws {
    #expect(try await delivery.integer("SELECT COUNT(*) FROM assignments WHERE released_ms IS NULL") == 0)
    #expect(try await delivery.integer("SELECT COUNT(*) FROM partners WHERE busy_order IS NOT NULL") == 0)
    #expect(try await delivery.integer("SELECT COUNT(*) FROM waiting") == 0)
    let reachedPartner = Set(plan.orderIDs.filter { run.passed[$0]?.contains(.assigned) == true })
    let assigned = Set(try await delivery.rows("SELECT DISTINCT order_id FROM assignments").map { $0[0] })
    let differing = assigned.symmetricDifference(reachedPartner).sorted()
    #expect(
        differing.isEmpty,
        "assignments and the log differ on \(differing.map { "\($0) \(run.passed[$0]?.map(\.rawValue) ?? [])" })")
}

/// Checks the notifications store: exactly one customer message per state each order passed through.
func checkNotifications(store: String, plan: LoadPlan, run: ObservedRun) async throws {
    let reader = try StoreReader(path: store)
    var customerMessages: [String: [String: Int]] = [:]
    for row in try await reader.rows(
        "SELECT order_id, state, COUNT(*) FROM notifications WHERE audience = 'customer' GROUP BY order_id, state")
    {
        customerMessages[row[0], default: [:]][row[1]] = Int(row[2]) ?? 0
    }
    for order in plan.orderIDs {
        let expected = Dictionary(uniqueKeysWithValues: (run.passed[order] ?? []).map { ($0.rawValue, 1) })
        #expect(customerMessages[order] ?? [:] == expected, "notifications of \(order)")
    }
}

@Suite("Food delivery: the five services end to end", .serialized)
struct FoodEndToEndTests {
    @Test(
        "every order ends in exactly one terminal state, one notification per state, analytics match, bad orders rejected or dead-lettered"
    )
    func endToEnd() async throws {
        let system = try await FoodSystem.start()
        do {
            try system.startAll()
            try await system.waitUntilJoined()
            var plan = try await system.produce(LoadSettings(orders: 120, seed: 11, runID: "e2e"))
            // Bad ones for sure: an order for a restaurant that does not exist, and a payload the schema refuses.
            let ghost = OrderPlaced(
                orderId: "e2e-ghost", customerId: "cus-x", restaurantId: "ben-ghost-kitchen", city: "bengaluru",
                items: [OrderItem(itemId: "idli", quantity: 1)], deliveryLocation: Location(lat: 12.97, lon: 77.59),
                paymentToken: "tok_ok", placedAt: Date()
            )
            try await system.events.send(
                ghost,
                metadata: EventMetadata(id: FoodEventID.make(orderId: ghost.orderId, type: OrderPlaced.eventType)))
            plan.orderIDs.append(ghost.orderId)
            let malformedID = "e2e-malformed/food.order.placed"
            let malformed = try system.events.message(
                type: OrderPlaced.eventType, version: 1,
                payload: Array(#"{"orderId":"e2e-malformed","items":[]}"#.utf8),
                key: "e2e-malformed", metadata: EventMetadata(id: malformedID)
            )
            try await system.producer.send(malformed)
            plan.invalidEventIDs.append(malformedID)

            let run = try await system.waitUntilFinished(plan)
            // The services still handle the last events the log shows: stop them once their stores caught up.
            try await system.waitUntilSettled(plan, stores: foodServiceNames.map { system.store($0) })
            await system.stopAll()
            try await checkInvariants(system, plan: plan, run: run, stores: foodServiceNames.map { system.store($0) })
            try await checkNotifications(store: system.store("food-notifications"), plan: plan, run: run)

            // Bad orders: the platform's refusals are rejections with their reason; payment failures end there.
            var placed: [String: OrderPlaced] = [ghost.orderId: ghost]
            for record in LoadGenerator(settings: LoadSettings(orders: 120, seed: 11, runID: "e2e")).records() {
                if case .order(let order) = record { placed[order.orderId] = order }
            }
            let cancelled = Set(plan.cancelledOrderIDs)
            var refusedByPlatform = 0
            for order in plan.orderIDs {
                let final = run.passed[order]?.last
                guard let placedOrder = placed[order] else { continue }
                switch platformOutcome(placedOrder) {
                case .some(let outcome) where outcome.hasPrefix("rejected:"):
                    refusedByPlatform += 1
                    if final == .rejected {
                        #expect(run.rejectionReasons[order] == String(outcome.dropFirst("rejected:".count)))
                    } else {
                        #expect(
                            final == .cancelled && cancelled.contains(order),
                            "\(order) should be rejected (\(outcome)), is \(String(describing: final))")
                    }
                case .some:
                    #expect(final == .paymentFailed || (final == .cancelled && cancelled.contains(order)))
                case .none:
                    let fine =
                        final == .delivered || (final == .cancelled && cancelled.contains(order))
                        || (final == .rejected && run.rejectionReasons[order] == "out_of_stock")
                    #expect(fine, "\(order) ended \(String(describing: final)) (\(run.rejectionReasons[order] ?? ""))")
                }
            }
            #expect(refusedByPlatform > 0)
            #expect(run.rejectionReasons[ghost.orderId] == "unknown_restaurant")
            // The malformed record is in every group's dead-letter topic, with the schema's complaint.
            let deadLetters = run.deadLetters.filter { $0.eventID == malformedID }
            #expect(Set(deadLetters.map(\.group)) == Set(foodServiceNames))
            #expect(deadLetters.allSatisfy { $0.reason.contains("customerId") }, "\(deadLetters.map(\.reason))")

            // Analytics totals equal what the log says.
            let report = try await system.analyticsReport(store: system.store("food-analytics"))
            #expect(report["orders"] == plan.orderIDs.count)
            for state in [OrderState.delivered, .rejected, .cancelled, .paymentFailed] {
                #expect(report[state.rawValue] == (run.terminal[state.rawValue] ?? 0), "analytics \(state)")
            }
            #expect((report["revenue_minor"] ?? 0) > 0)
        } catch {
            await system.shutDown()
            throw error
        }
        await system.shutDown()
    }

    @Test(
        "SIGKILL of a service mid-run, then a restart: every order still finishes, no effect twice",
        arguments: ["food-delivery", "food-restaurants"]
    )
    func killAndRestart(victim: String) async throws {
        let system = try await FoodSystem.start()
        do {
            for name in foodServiceNames where name != victim { try system.start(name) }
            let killed = try system.start(victim, instance: "victim-1")
            try await system.waitUntilJoined()
            let settings = LoadSettings(orders: 150, seed: 5, rate: 40, runID: "kill")
            let production = Task { try await system.produce(settings) }
            // Kill it while orders flow (some delivered, many not yet).
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(60))
            while clock.now < deadline, (system.observer.snapshot(of: []).events) < 200 {
                try await Task.sleep(for: .milliseconds(50))
            }
            let orderIDs = (1...settings.orders).map { "kill-\(String(format: "%06d", $0))" }
            let finishedAtKill = system.observer.snapshot(of: orderIDs).terminal.values.reduce(0, +)
            killed.send(SIGKILL)
            _ = await killed.waitForExit(timeout: .seconds(10))
            try await Task.sleep(for: .seconds(1))
            try killed.restart()
            let plan = try await production.value
            #expect(plan.orderIDs == orderIDs)
            #expect(finishedAtKill < plan.orderIDs.count, "the kill came after every order had finished")
            let run = try await system.waitUntilFinished(plan)
            var stores = foodServiceNames.filter { $0 != victim }.map { system.store($0) }
            stores.append(system.store(victim, instance: "victim-1"))
            // The services still handle the last events the log shows: stop them once their stores caught up.
            try await system.waitUntilSettled(plan, stores: stores)
            await system.stopAll()
            try await checkInvariants(system, plan: plan, run: run, stores: stores)
            try await checkNotifications(store: system.store("food-notifications"), plan: plan, run: run)
            // The same final state as without the fault: the platform's decisions by the domain rules, and every
            // order that reached a partner delivered (unless cancelled in time).
            var placed: [String: OrderPlaced] = [:]
            for record in LoadGenerator(settings: settings).records() {
                if case .order(let order) = record { placed[order.orderId] = order }
            }
            let cancelled = Set(plan.cancelledOrderIDs)
            for order in plan.orderIDs {
                guard let placedOrder = placed[order] else { continue }
                let final = run.passed[order]?.last
                if final == .cancelled { #expect(cancelled.contains(order)); continue }
                switch platformOutcome(placedOrder) {
                case .some(let outcome) where outcome.hasPrefix("rejected:"): #expect(final == .rejected)
                case .some: #expect(final == .paymentFailed)
                case .none:
                    #expect(
                        final == .delivered || (final == .rejected && run.rejectionReasons[order] == "out_of_stock"))
                    if run.passed[order]?.contains(.ready) == true { #expect(final == .delivered) }
                }
            }
        } catch {
            await system.shutDown()
            throw error
        }
        await system.shutDown()
    }
}
