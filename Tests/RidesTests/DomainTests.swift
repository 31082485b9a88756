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
