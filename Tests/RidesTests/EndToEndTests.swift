import DabbaTesting
import DemoKit
import Foundation
import RidesDomain
import RidesRuntime
import Testing

@Suite("Rides end to end: the five services as processes", .serialized, .timeLimit(.minutes(6)))
struct RidesEndToEndTests {
    @Test("a demand spike in BKC: every ride ends once, no driver twice, surge and fares as the log says")
    func spike() async throws {
        try await RidesSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            try await Task.sleep(for: .seconds(3))
            let base = RideLoad(seed: 51, runID: "A").requests(count: 60)
            let rush = RideLoad(seed: 52, runID: "BKC").requests(count: 200, in: "BKC")
            try await system.send(base, rate: 10)
            try await system.send(rush, rate: 25)
            let ids = (base + rush).map(\.rideId)
            let run = try await system.finish(ids)
            await system.stopAll()
            try await system.checkInvariants(run)
            #expect(run.count("completed") > 0 && run.count("expired") > 0 && run.count("rejected") > 0)
            #expect(run.surgeResults > 0 && run.maxMultiplier > 1, "surge never rose")
        }
    }

    @Test("SIGKILL of dispatch and surge mid-window: no driver twice, one surge result per window, fares right")
    func killDispatchAndSurge() async throws {
        try await RidesSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            try await Task.sleep(for: .seconds(3))
            let rush = RideLoad(seed: 53, runID: "K").requests(count: 250, in: "BKC")
            let sending = Task { try await system.send(rush, rate: 20) }
            try await TestHelpers.eventually("matches under way", timeout: .seconds(60)) {
                system.observer.snapshot(of: rush.map(\.rideId)).matched >= 30
            }
            let killedAt = Date()
            for name in ["rides-dispatch", "rides-surge"] {
                let service = try #require(system.services[name])
                service.send(SIGKILL)
                _ = await service.waitForExit(timeout: .seconds(10))
            }
            for name in ["rides-dispatch", "rides-surge"] {
                let service = try #require(system.services[name])
                let joins = service.log.components(separatedBy: "partitions assigned").count
                try service.restart()
                try await TestHelpers.eventually("\(name) has its partitions again", timeout: .seconds(60)) {
                    service.log.components(separatedBy: "partitions assigned").count > joins
                }
            }
            // Deadlines that fall while dispatch is down, or reads its backlog, are met once it has caught up.
            system.observer.noteDispatchOutage(from: killedAt, to: try await system.waitUntilDispatchCaughtUp())
            try await sending.value
            let run = try await system.finish(rush.map(\.rideId))
            await system.stopAll()
            try await system.checkInvariants(run)
            #expect(run.count("completed") > 0)
        }
    }
}
