import DabbaInbox
import DabbaInboxPostgres
import DabbaTestingPostgres
import DemoKit
import DemoServiceKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation
import Testing

@Suite("Food delivery: two delivery instances", .serialized)
struct FoodScalingTests {
    @Test(
        "two delivery instances share the partitions and one PostgreSQL store: no partner assigned twice, every order finished",
        .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason)
    )
    func twoDeliveryInstances() async throws {
        try await runTwoInstances(LoadSettings(orders: 150, seed: 23, runID: "scale")) { _, _, _ in }
    }

    @Test(
        "a delivery instance frozen past its session timeout mid-batch (a starved machine), then resumed: the store still follows the log",
        .enabled(if: TestPostgres.isAvailable, TestPostgres.unavailableReason)
    )
    func frozenInstance() async throws {
        try await runTwoInstances(LoadSettings(orders: 150, seed: 29, rate: 30, runID: "frozen")) { system, first, _ in
            // While orders flow, d1 stops in the middle of its work (its transaction open, its partner lock held):
            // the group expels it and hands its partitions to d2, which handles the same events while d1 resumes.
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(60))
            while clock.now < deadline, system.observer.snapshot(of: []).events < 300 {
                try await Task.sleep(for: .milliseconds(50))
            }
            first.send(SIGSTOP)
            try await Task.sleep(for: .seconds(10))
            first.send(SIGCONT)
        }
    }

    /// Runs the five services with two delivery instances on one PostgreSQL store, produces a load while `disturb`
    /// does its harm, and checks that every order finished once, no partner was busy with two orders at once, and
    /// the delivery store agrees with the log.
    private func runTwoInstances(
        _ settings: LoadSettings,
        disturb: @escaping @Sendable (FoodSystem, ServiceProcess, ServiceProcess) async throws -> Void
    ) async throws {
        let server = try await TestPostgres.start()
        let system = try await FoodSystem.start()
        let schema = "food_scaling_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(12).lowercased())"
        do {
            _ = try await server.adminQuery("CREATE SCHEMA \(schema)")
            let url = try server.url(searchPath: schema)
            for name in foodServiceNames where name != "food-delivery" { try system.start(name) }
            let first = try system.start("food-delivery", instance: "d1", inbox: url)
            try await system.waitUntilJoined()
            // The second instance joins once the first has created the tables (concurrent CREATE TABLE races).
            let second = try system.start("food-delivery", instance: "d2", inbox: url)
            try await system.waitUntilJoined()
            // Both take part: after the rebalance each instance owns some of food.orders' partitions.
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(60))
            while clock.now < deadline, first.log.components(separatedBy: "partitions assigned").count < 3 {
                try await Task.sleep(for: .milliseconds(200))
            }

            let disturbing = Task { try await disturb(system, first, second) }
            let plan = try await system.produce(settings)
            try await disturbing.value
            let run = try await system.waitUntilFinished(plan)
            // Every order finished in the log; the services still handle the last events (delivery its own
            // `delivered`, which releases the partner): stop them only once every store has caught up.
            let shared = try await PostgresInbox.connect(connectionString: url)
            let stores = foodServiceNames.filter { $0 != "food-delivery" }.map { system.store($0) }
            try await system.waitUntilSettled(
                plan, readers: try stores.map { try StoreReader(path: $0) } + [StoreReader(store: shared)])
            // Neither instance gave up on the way (the other one would have taken its partitions over).
            #expect(first.isRunning, "d1 exited: \(first.log.suffix(2000))")
            #expect(second.isRunning, "d2 exited: \(second.log.suffix(2000))")
            await system.stopAll()

            try await checkInvariants(system, plan: plan, run: run, stores: stores)
            let delivery = StoreReader(store: shared)
            #expect(try await delivery.duplicateEffects() == 0)
            let passed = try await delivery.passedStates()
            for order in plan.orderIDs {
                #expect(passed[order] == run.passed[order]?.map(\.rawValue), "the shared store disagrees on \(order)")
            }
            // No partner was handed an order while busy with another one, and both instances assigned partners.
            let overlaps = try await delivery.rows(
                "SELECT a.partner_id, a.order_id, b.order_id FROM assignments a JOIN assignments b ON a.partner_id = b.partner_id AND a.order_id < b.order_id AND a.assigned_ms < COALESCE(b.released_ms, 9000000000000000000) AND b.assigned_ms < COALESCE(a.released_ms, 9000000000000000000)"
            )
            #expect(overlaps.isEmpty, "partners busy with two orders at once: \(overlaps.prefix(5))")
            let byInstance = try await delivery.rows(
                "SELECT assigned_by, COUNT(*) FROM assignments GROUP BY assigned_by")
            #expect(Set(byInstance.map { $0[0] }) == ["d1", "d2"], "assignments per instance: \(byInstance)")
            try await checkDeliveryStore(delivery, plan: plan, run: run)
            // An assignment the customer's cancellation overtook (its `assigned` event came after the cancellation and
            // was refused by every service) is recorded apart, as refused.
            let refused = Set(try await delivery.rows("SELECT order_id FROM refused_assignments").map { $0[0] })
            let refusedByLog = Set(
                try await delivery.rows(
                    "SELECT order_id FROM illegal_transitions WHERE event_type = '\(DeliveryAssigned.eventType)' AND state = 'cancelled'"
                ).map { $0[0] })
            #expect(refused == refusedByLog)
        } catch {
            await system.shutDown()
            _ = try? await server.adminQuery("DROP SCHEMA \(schema) CASCADE")
            await server.stop()
            throw error
        }
        await system.shutDown()
        _ = try? await server.adminQuery("DROP SCHEMA \(schema) CASCADE")
        await server.stop()
    }
}
