import DabbaInbox
import DabbaInboxPostgres
import DabbaTestingPostgres
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
        let server = try await TestPostgres.start()
        let system = try FoodSystem()
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

            let plan = try await system.produce(LoadSettings(orders: 150, seed: 23, runID: "scale"))
            let run = try await system.waitUntilFinished(plan)
            await system.stopAll()

            let shared = try PostgresInbox(connectionString: url)
            var stores = foodServiceNames.filter { $0 != "food-delivery" }.map { system.store($0) }
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
            #expect(try await delivery.integer("SELECT COUNT(*) FROM assignments WHERE released_ms IS NULL") == 0)
            let byInstance = try await delivery.rows(
                "SELECT assigned_by, COUNT(*) FROM assignments GROUP BY assigned_by")
            #expect(Set(byInstance.map { $0[0] }) == ["d1", "d2"], "assignments per instance: \(byInstance)")
            #expect(try await delivery.integer("SELECT COUNT(*) FROM partners WHERE busy_order IS NOT NULL") == 0)
            let reachedPartner = plan.orderIDs.filter { run.passed[$0]?.contains(.assigned) == true }.count
            #expect(try await delivery.integer("SELECT COUNT(DISTINCT order_id) FROM assignments") == reachedPartner)
            stores.removeAll()
            _ = second
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
