import DabbaTesting
import DemoKit
import Foundation
import TatkalDomain
import TatkalRuntime
import Testing

@Suite("Tatkal end to end: the five services as processes", .serialized, .timeLimit(.minutes(6)))
struct TatkalEndToEndTests {
    @Test("a burst: no seat sold twice, holds expire on time, the waitlist promoted in order, every request ends once")
    func burst() async throws {
        try await TatkalSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            let load = TatkalLoad(requests: 2500, seed: 31, runID: "B").requests()
            let ids = TatkalLoad.distinct(load)
            try await system.send(load)
            let run = try await system.finish(ids)
            await system.stopAll()
            try await system.checkInvariants(run)
            #expect(run.count("confirmed") > 0 && run.count("expired") > 0 && run.count("not_confirmed") > 0)
            #expect(run.rejections["at_capacity", default: 0] > 0)
            #expect(run.refreshes == load.count - ids.count)
            #expect(run.latePayments > 0 && run.refunds == run.latePayments)
            let totals = try await StoreReader(path: system.store("tatkal-analytics")).read { try TatkalReport.totals($0) }
            #expect(totals.promoted > 0, "no one was promoted from the waitlist")
        }
    }

    @Test("SIGKILL of the inventory at the peak, then a restart: no seat sold twice, every hold still expires once")
    func killInventory() async throws {
        try await TatkalSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            let load = TatkalLoad(requests: 2500, seed: 32, runID: "K").requests()
            let ids = TatkalLoad.distinct(load)
            let sending = Task { try await system.send(load) }
            let inventory = try #require(system.services["tatkal-inventory"])
            try await TestHelpers.eventually("the inventory placed some requests", timeout: .seconds(60)) {
                let run = system.observer.snapshot(of: ids)
                return (run.byState["held"] ?? 0) + (run.byState["waitlisted"] ?? 0) >= 100
            }
            let killedAt = Date()
            let joins = inventory.log.components(separatedBy: "partitions assigned").count
            inventory.send(SIGKILL)
            _ = await inventory.waitForExit(timeout: .seconds(10))
            try inventory.restart()
            // Holds due while it was down expire once it is back: that is when their lateness is measured from.
            try await TestHelpers.eventually("the inventory has its partitions again", timeout: .seconds(60)) {
                inventory.log.components(separatedBy: "partitions assigned").count > joins
            }
            system.observer.noteInventoryOutage(from: killedAt, to: Date())
            try await sending.value
            let run = try await system.finish(ids)
            await system.stopAll()
            try await system.checkInvariants(run)
            #expect(run.count("expired") > 0)
        }
    }

    @Test("a gateway outage longer than a hold: holds expire, the waitlist is promoted, late payments refunded")
    func gatewayOutage() async throws {
        try await TatkalSystem.with { system in
            try ControlFile.write(GatewayConditions(down: ["gw-a", "gw-b"]), to: system.gatewayControl)
            try system.startAll()
            try await system.waitUntilJoined()
            let load = TatkalLoad(requests: 1200, seed: 33, runID: "G").requests()
            let ids = TatkalLoad.distinct(load)
            try await system.send(load)
            // Nobody can pay: every first hold expires (5 s) and the waitlist moves up.
            try await TestHelpers.eventually("holds expired and the waitlist was promoted", timeout: .seconds(60)) {
                let run = system.observer.snapshot(of: ids)
                return run.count("expired") >= 50
            }
            try ControlFile.write(GatewayConditions.healthy, to: system.gatewayControl)
            let run = try await system.finish(ids)
            await system.stopAll()
            try await system.checkInvariants(run)
            let totals = try await StoreReader(path: system.store("tatkal-analytics")).read { try TatkalReport.totals($0) }
            #expect(totals.promoted > 0)
            #expect(run.latePayments > 0, "payments delayed by the outage past their holds")
            #expect(run.refunds == run.latePayments)
        }
    }

    @Test("the same request id sent three times is booked once")
    func duplicateRequests() async throws {
        try await TatkalSystem.with { system in
            try system.startAll()
            try await system.waitUntilJoined()
            let request = BookingRequested(
                requestId: "DUP1", userId: "u1", trainNumber: "12002", journeyDate: "2026-12-08", travelClass: "EC",
                passengers: [Passenger(name: "Meera", age: 40)], requestedAt: Date())
            let first = TatkalRequest(event: request, submission: 1)
            let refresh = TatkalRequest(event: request, submission: 2)
            try await system.send([first, refresh, first])
            let run = try await system.finish(["DUP1"])
            await system.stopAll()
            try await system.checkInvariants(run)
            #expect(run.refreshes == 1)
            #expect(run.duplicateDeliveries == 1)
            let rows = try await StoreReader(path: system.store("tatkal-inventory")).integer(
                "SELECT COUNT(*) FROM bookings WHERE request_id = 'DUP1'")
            #expect(rows == 1)
        }
    }
}
