import Foundation
import RidesDomain
import Testing

@Suite("Rides domain rules, without Kafka")
struct RidesDomainTests {
    let reference = RideReference.standard
    let time = Date(timeIntervalSince1970: 1_796_644_800)

    @Test("distances, zones and vehicle compatibility")
    func geometry() throws {
        let bkc = try #require(reference.zone("BKC"))
        let bandra = try #require(reference.zone("Bandra"))
        let km = RideRules.distanceKm(bkc.centre, bandra.centre)
        #expect(km > 3.5 && km < 4.2, "BKC–Bandra \(km) km")
        #expect(RideRules.distanceKm(bkc.centre, bkc.centre) == 0)
        #expect(reference.zone(of: bkc.centre) == bkc)
        #expect(reference.zone(of: GeoPoint(latitude: 19.30, longitude: 73.05)) == nil)
        #expect(RideRules.compatible(.sedan, for: .mini) && !RideRules.compatible(.mini, for: .sedan))
        #expect(RideRules.compatible(.auto, for: .auto) && !RideRules.compatible(.sedan, for: .auto))
        #expect(RideRules.compatible(.suv, for: .sedan) && !RideRules.compatible(.sedan, for: .suv))
        #expect(RideRules.score(distanceKm: 1, rating: 5) < RideRules.score(distanceKm: 1, rating: 4))
    }

    @Test("requests are refused for malformed coordinates, unknown zones and unknown ride types")
    func refusals() {
        var request = RideLoad(seed: 1, runID: "T").requests(count: 1, in: "BKC")[0]
        request.rideType = "mini"
        #expect(RideRules.check(request, reference: reference) == nil)
        var far = request
        far.pickup.latitude = 999
        #expect(RideRules.check(far, reference: reference)?.0 == .malformedCoordinates)
        var unknown = request
        unknown.pickupZone = "Atlantis"
        #expect(RideRules.check(unknown, reference: reference)?.0 == .unknownZone)
        var elsewhere = request
        elsewhere.pickupZone = "Colaba"
        #expect(RideRules.check(elsewhere, reference: reference)?.0 == .unknownZone, "a BKC point is not in Colaba")
        var type = request
        type.rideType = "rickshaw-xl"
        #expect(RideRules.check(type, reference: reference)?.0 == .unknownRideType)
    }

    @Test("the surge multiplier: 1 when supply meets demand, rises with excess demand and unmatched, clamped to 3")
    func multiplier() {
        #expect(RideRules.multiplier(demand: 10, supply: 20, unmatched: 0) == 1)
        #expect(RideRules.multiplier(demand: 30, supply: 10, unmatched: 0) == 2)
        #expect(RideRules.multiplier(demand: 10, supply: 10, unmatched: 3) == 1.3)
        #expect(RideRules.multiplier(demand: 500, supply: 0, unmatched: 50) == 3)
        #expect(RideRules.multiplier(demand: 0, supply: 0, unmatched: 0) == 1)
    }

    @Test("fares: base plus per km by vehicle, times the multiplier, in whole rupees")
    func fares() {
        #expect(RideRules.farePaise(vehicle: .auto, tripKm: 2, multiplier: 1) == 6_000)
        #expect(RideRules.farePaise(vehicle: .sedan, tripKm: 10, multiplier: 1.5) == 45_000)
        #expect(RideRules.farePaise(vehicle: .mini, tripKm: 0, multiplier: 2) == 10_000)
    }

    @Test("a surge tally counts requests and unmatched and keeps the last supply sample")
    func tally() {
        let tally = [
            ZoneActivity(pickupZone: "BKC", requests: 1), ZoneActivity(pickupZone: "BKC", freeDrivers: 9),
            ZoneActivity(pickupZone: "BKC", requests: 1), ZoneActivity(pickupZone: "BKC", unmatched: 1),
            ZoneActivity(pickupZone: "BKC", freeDrivers: 4),
        ].reduce(SurgeTally()) { $0.adding($1) }
        #expect(tally.demand == 2 && tally.unmatched == 1 && tally.supply == 4)
        let result = tally.surge(zone: "BKC", start: time, end: time.addingTimeInterval(60))
        #expect(result.multiplier == RideRules.multiplier(demand: 2, supply: 4, unmatched: 1))
        #expect(SurgeTally().surge(zone: "BKC", start: time, end: time).supply == 0)
    }

    @Test("a driver's next ride in another zone, read before the previous drop, is not a double assignment")
    func nextRideReadBeforeDrop() {
        // rides-demo --rate 0 --requests 6000: dispatch read d0042's drop of A (BKC, partition 0) and matched B
        // (Bandra, partition 6) in the same transaction; the observer read partition 6 ahead of partition 0.
        let matchA = time
        let dropA = time.addingTimeInterval(300)
        let matchB = dropA.addingTimeInterval(0.004)
        var shifts = DriverShifts()
        shifts.matched("A", driver: "d0042", at: matchA)
        shifts.matched("B", driver: "d0042", at: matchB)
        shifts.completed("A", driver: "d0042", at: dropA)
        shifts.completed("B", driver: "d0042", at: matchB.addingTimeInterval(300))
        #expect(shifts.overlaps.isEmpty)
        // Read in the order dispatch wrote them, the same.
        var inOrder = DriverShifts()
        inOrder.matched("A", driver: "d0042", at: matchA)
        inOrder.completed("A", driver: "d0042", at: dropA)
        inOrder.matched("B", driver: "d0042", at: matchB)
        #expect(inOrder.overlaps.isEmpty)
        // A match at the very millisecond of the drop (the times are whole milliseconds on the wire) is after it.
        var sameMillisecond = DriverShifts()
        sameMillisecond.matched("A", driver: "d0042", at: matchA)
        sameMillisecond.completed("A", driver: "d0042", at: dropA)
        sameMillisecond.matched("B", driver: "d0042", at: dropA)
        #expect(sameMillisecond.overlaps.isEmpty)
    }

    @Test("a match before the driver's previous drop, or while it has none, is a double assignment in any read order")
    func doubleAssignments() {
        let drop = time.addingTimeInterval(300)
        // B matched a second before A's drop: counted whichever of the two partitions is read first.
        for dropFirst in [false, true] {
            var shifts = DriverShifts()
            shifts.matched("A", driver: "d0042", at: time)
            if dropFirst { shifts.completed("A", driver: "d0042", at: drop) }
            shifts.matched("B", driver: "d0042", at: drop.addingTimeInterval(-1))
            if !dropFirst { shifts.completed("A", driver: "d0042", at: drop) }
            shifts.completed("B", driver: "d0042", at: drop.addingTimeInterval(400))
            #expect(shifts.overlaps.map(\.description) == ["B: d0042 still on A"])
        }
        // A never dropped: every later match of its driver is a double assignment; another driver's is not.
        var open = DriverShifts()
        open.matched("A", driver: "d0042", at: time)
        open.matched("B", driver: "d0042", at: drop)
        open.completed("B", driver: "d0042", at: drop.addingTimeInterval(60))
        open.matched("C", driver: "d0042", at: drop.addingTimeInterval(120))
        open.matched("D", driver: "d0007", at: drop)
        #expect(open.overlaps.map(\.description) == ["B: d0042 still on A", "C: d0042 still on A"])
        // A long ride A overlapping B and C (B dropped before C): C is still during A.
        var long = DriverShifts()
        long.matched("A", driver: "d0042", at: time)
        long.completed("A", driver: "d0042", at: drop.addingTimeInterval(600))
        long.matched("B", driver: "d0042", at: drop)
        long.completed("B", driver: "d0042", at: drop.addingTimeInterval(60))
        long.matched("C", driver: "d0042", at: drop.addingTimeInterval(120))
        #expect(long.overlaps.map(\.description) == ["B: d0042 still on A", "C: d0042 still on A"])
        // A match read twice (a resent record) is one ride.
        var resent = DriverShifts()
        resent.matched("A", driver: "d0042", at: time)
        resent.matched("A", driver: "d0042", at: time)
        resent.completed("A", driver: "d0042", at: drop)
        #expect(resent.overlaps.isEmpty && resent.rides(of: "d0042").count == 1)
    }

    @Test("the load is deterministic, picks up where asked, and about one in fifty is malformed")
    func load() {
        let first = RideLoad(seed: 3, runID: "L").requests(count: 1000)
        #expect(first == RideLoad(seed: 3, runID: "L").requests(count: 1000))
        let refused = first.filter { RideRules.check($0, reference: reference) != nil }.count
        #expect((5...45).contains(refused), "\(refused) refused")
        #expect(first.allSatisfy { $0.pickupZone != $0.dropZone })
        let bkc = RideLoad(seed: 4, runID: "K").requests(count: 100, in: "BKC")
        #expect(bkc.filter { $0.pickupZone == "BKC" }.count >= 95)
        let profiles = reference.drivers.map { reference.profile(of: $0) }
        #expect(Set(profiles.map(\.vehicle)) == Set(RideType.allCases))
        #expect(profiles.allSatisfy { (3.5...5).contains($0.rating) })
    }
}
