import DabbaKafka
import DabbaTesting
import DemoKit
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation
import Testing

@Suite("Food delivery: chaos", .serialized)
struct FoodChaosTests {
    @Test(
        "services SIGKILLed and restarted, brokers down, request errors and leaders moved while orders flow: every order finishes once, no effect twice, every store agrees with the log"
    )
    func chaos() async throws {
        let system = try await FoodSystem.start(brokers: 3)
        do {
            // Static members, as under `food-demo --chaos`: a restarted service takes its partitions back at once.
            for name in foodServiceNames { try system.start(name, instance: "chaos") }
            try await system.waitUntilJoined()
            var leaderTopics: [String: Int32] = [:]
            for topic in system.catalog.allTopics where ["food.orders", "food.partners"].contains(topic.name) {
                leaderTopics[topic.name] = Int32(topic.partitions)
            }
            let settings = ChaosSettings(
                interval: .seconds(3), seed: 7, restartDelay: .milliseconds(500), brokerDowntime: .seconds(2),
                leaderTopics: leaderTopics)
            let monkey = ChaosMonkey(settings: settings, services: Array(system.services.values), broker: system.broker)
            #expect(Set(monkey.possibleFaults) == Set(ChaosFault.Kind.allCases))
            let chaos = ChaosRun(monkey)
            let plan = try await system.produce(LoadSettings(orders: 80, seed: 31, rate: 10, runID: "chaos"))
            // Chaos lasts until every order has finished and it did both kinds of harm at least twice.
            let clock = ContinuousClock()
            let deadline = clock.now.advanced(by: .seconds(150))
            while clock.now < deadline {
                let record = chaos.record
                let finished = system.observer.snapshot(of: plan.orderIDs).unfinished.isEmpty
                if record.kills >= 2, record.faults >= 2, finished { break }
                try await Task.sleep(for: .milliseconds(250))
            }
            await chaos.stop()
            let record = chaos.record
            #expect(record.kills >= 2 && record.faults >= 2, "chaos did: \(record.actions)")
            #expect(!record.actions.contains { $0.hasPrefix("could not") }, "chaos did: \(record.actions)")
            for service in system.services.values { #expect(service.isRunning, "\(service.name) is not running") }

            let stores = foodServiceNames.map { system.store($0, instance: "chaos") }
            let run = try await system.waitUntilFinished(plan, timeout: .seconds(120))
            try await system.waitUntilSettled(plan, stores: stores)
            await system.stopAll()
            try await checkInvariants(system, plan: plan, run: run, stores: stores)
            try await checkNotifications(
                store: system.store("food-notifications", instance: "chaos"), plan: plan, run: run)
            try await checkDeliveryStore(
                try StoreReader(path: system.store("food-delivery", instance: "chaos")), plan: plan, run: run)
        } catch {
            await system.shutDown()
            throw error
        }
        await system.shutDown()
    }
}
