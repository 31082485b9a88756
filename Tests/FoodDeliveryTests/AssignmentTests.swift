import DabbaEvents
import DabbaTesting
import DemoKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation
import Testing

/// The delivery service decides an assignment from its own store, but the log decides what happened: its store must
/// follow the log when the two differ (the races behind the scaling test's assignment count, made deterministic by
/// putting the log's events in place before the delivery service starts).
@Suite("Food delivery: the delivery store follows the log", .serialized)
struct FoodAssignmentTests {
    @Test(
        "an assignment the customer's earlier cancellation refused is recorded as refused; an assignment the log names for another partner replaces the service's own choice"
    )
    func assignmentsFollowTheLog() async throws {
        let system = try await FoodSystem.start()
        do {
            for name in foodServiceNames where name != "food-delivery" { try system.start(name) }
            try await system.waitUntilJoined()
            let settings = LoadSettings(orders: 2, seed: 8, runID: "log", includeBadOrders: false)
            let plan = try await system.produce(settings)
            #expect(plan.orderIDs.count == 2)
            let (cancelled, reassigned) = (plan.orderIDs[0], plan.orderIDs[1])
            try await waitForState(.ready, of: plan.orderIDs, system)

            // The customer cancels the first order after it is ready, before the delivery service handled `ready`:
            // the service will assign a partner and emit `assigned` after the cancellation, which every service
            // refuses.
            try await system.events.send(
                OrderCancelled(
                    orderId: cancelled, reason: "customer_request", cancelledBy: "customer", cancelledAt: Date()))
            // For the second order the log already names a partner (as when a batch that emitted its assignment
            // was rolled back and ran again with other partners free): not the one the service will choose.
            var placed: [String: OrderPlaced] = [:]
            for record in LoadGenerator(settings: settings).records() {
                if case .order(let order) = record { placed[order.orderId] = order }
            }
            let order = try #require(placed[reassigned])
            let catalog = ReferenceCatalog.standard
            let restaurant = try #require(catalog.restaurants.first { $0.id == order.restaurantId })
            let farthest = try #require(
                catalog.partners.filter { $0.city == order.city }
                    .max { $0.home.distanceKm(to: restaurant.location) < $1.home.distanceKm(to: restaurant.location) })
            try await system.events.send(
                DeliveryAssigned(
                    orderId: reassigned, partnerId: farthest.id,
                    distanceToRestaurantKm: farthest.home.distanceKm(to: restaurant.location), assignedAt: Date()))
            try await waitForState(.cancelled, of: [cancelled], system)
            try await waitForState(.assigned, of: [reassigned], system)

            try system.start("food-delivery")
            let run = try await system.waitUntilFinished(plan, timeout: .seconds(120))
            // The services still handle the last events the log shows: stop them once their stores caught up.
            try await system.waitUntilSettled(plan, stores: foodServiceNames.map { system.store($0) })
            await system.stopAll()
            #expect(run.passed[cancelled] == [.placed, .accepted, .confirmed, .preparing, .ready, .cancelled])
            #expect(run.passed[reassigned]?.last == .delivered)
            try await checkInvariants(system, plan: plan, run: run, stores: foodServiceNames.map { system.store($0) })
            try await checkNotifications(store: system.store("food-notifications"), plan: plan, run: run)

            let delivery = try StoreReader(path: system.store("food-delivery"))
            // The refused assignment is not an assignment: it is kept apart, and its partner is free again.
            #expect(try await delivery.rows("SELECT order_id FROM assignments ORDER BY order_id") == [[reassigned]])
            #expect(try await delivery.rows("SELECT order_id FROM refused_assignments") == [[cancelled]])
            #expect(
                try await delivery.integer(
                    "SELECT COUNT(*) FROM illegal_transitions WHERE order_id = '\(cancelled)' AND event_type = '\(DeliveryAssigned.eventType)'"
                ) == 1)
            // The log's partner delivered the second order, and the store says so.
            #expect(
                try await delivery.rows("SELECT partner_id FROM assignments WHERE order_id = '\(reassigned)'")
                    == [[farthest.id]])
            #expect(try await delivery.integer("SELECT COUNT(*) FROM assignments WHERE released_ms IS NULL") == 0)
            #expect(try await delivery.integer("SELECT COUNT(*) FROM partners WHERE busy_order IS NOT NULL") == 0)
            #expect(try await delivery.integer("SELECT COUNT(*) FROM waiting") == 0)
        } catch {
            await system.shutDown()
            throw error
        }
        await system.shutDown()
    }

    private func waitForState(_ state: OrderState, of orders: [String], _ system: FoodSystem) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(90))
        while clock.now < deadline {
            let run = system.observer.snapshot(of: orders)
            if orders.allSatisfy({ run.passed[$0]?.contains(state) == true }) { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("orders \(orders) did not reach \(state): \(system.observer.snapshot(of: orders).passed)")
        throw WaitTimeout("orders did not reach \(state)")
    }
}
