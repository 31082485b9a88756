import DabbaInbox
import Foundation
import TatkalDomain
import TatkalRuntime
import Testing

@Suite("Tatkal: the domain's rules, without Kafka")
struct TatkalDomainTests {
    let reference = TatkalReference.standard
    let opens = Date(timeIntervalSince1970: 1_800_000_000)

    func request(
        _ id: String = "R1", train: String = "12951", travelClass: String = "3A", passengers: Int = 2, age: Int = 30,
        at offset: Double = 1
    ) -> BookingRequested {
        BookingRequested(
            requestId: id, userId: "u1", trainNumber: train, journeyDate: reference.journeyDate, travelClass: travelClass,
            passengers: (0..<passengers).map { Passenger(name: "P\($0)", age: age) },
            requestedAt: opens.addingTimeInterval(offset))
    }

    func reason(_ decision: GateDecision) -> TatkalRejection? {
        if case .reject(let reason, _, _) = decision { return reason }
        return nil
    }

    @Test("fares: base by class and distance plus the Tatkal charge within its minimum and maximum")
    func fares() throws {
        let rajdhani = try #require(reference.trains["12951"])
        let threeA = try #require(rajdhani.classes.first { $0.code == "3A" })
        // 1386 km × ₹1.70 = ₹2356.20; 30 % is ₹706.86, above the ₹400 maximum: ₹2756.20, rounded to ₹2756.
        #expect(TatkalFares.perPassenger(threeA, distanceKm: 1386) == 275_600)
        #expect(TatkalFares.total(threeA, distanceKm: 1386, passengers: 3) == 826_800)
        let shatabdi = try #require(reference.trains["12002"])
        let chairCar = try #require(shatabdi.classes.first { $0.code == "CC" })
        // 707 km × ₹1.30 = ₹919.10; 30 % is ₹275.73, above the ₹150 maximum: ₹1069.10 → ₹1069.
        #expect(TatkalFares.perPassenger(chairCar, distanceKm: 707) == 106_900)
        var cheap = chairCar
        cheap.paisePerKm = 10
        // ₹70.70 base; 30 % is below the ₹100 minimum: ₹170.70 → ₹171.
        #expect(TatkalFares.perPassenger(cheap, distanceKm: 707) == 17_100)
    }

    @Test("the gate: the window, unknown trains, classes not on the train, invalid passengers, admission")
    func gate() throws {
        let rules = GateRules(window: BookingWindow(opensAt: opens, closesAt: opens.addingTimeInterval(3600)))
        #expect(reason(rules.decide(request(at: -1), admittedPassengers: 0)) == .windowClosed)
        #expect(reason(rules.decide(request(at: 3600), admittedPassengers: 0)) == .windowClosed)
        #expect(reason(rules.decide(request(train: "99999"), admittedPassengers: 0)) == .unknownTrain)
        #expect(reason(rules.decide(request(travelClass: "CC"), admittedPassengers: 0)) == .classNotOnTrain)
        #expect(reason(rules.decide(request(passengers: 5), admittedPassengers: 0)) == .invalidPassengers)
        #expect(reason(rules.decide(request(age: 0), admittedPassengers: 0)) == .invalidPassengers)
        guard case .admit(let fare, let passengers) = rules.decide(request(), admittedPassengers: 0) else {
            Issue.record("a good request was refused")
            return
        }
        #expect(fare == 551_200 && passengers == 2)
        // 3A: 240 seats and a waitlist of 240: 480 passengers admitted at most.
        #expect(reason(rules.decide(request(passengers: 2), admittedPassengers: 478)) == nil)
        guard case .reject(.atCapacity, _, let retry) = rules.decide(request(passengers: 3), admittedPassengers: 478)
        else {
            Issue.record("over capacity was admitted")
            return
        }
        #expect(retry == 300)
    }

    @Test("seat numbers follow coaches, in allocation order")
    func seats() throws {
        let threeA = try #require(reference.trains["12951"]?.classes.first { $0.code == "3A" })
        let seats = TatkalReference.seats(of: threeA)
        #expect(seats.count == 240 && Set(seats).count == 240)
        #expect(seats.prefix(2) == ["B1-1", "B1-2"] && seats[64] == "B2-1" && seats.last == "B4-48")
        #expect(reference.inventories.count == 5)
    }

    @Test("passengers' behaviour is fixed per request id, with every kind present")
    func behaviour() {
        let behaviours = (1...5000).map { PassengerBehaviour.of(requestId: "R\($0)") }
        #expect(behaviours == (1...5000).map { PassengerBehaviour.of(requestId: "R\($0)") })
        let counts = Dictionary(grouping: behaviours, by: \.outcome).mapValues(\.count)
        #expect(counts[.pays, default: 0] > 3000)
        for outcome in PassengerBehaviour.Outcome.allCases { #expect(counts[outcome, default: 0] > 200, "\(outcome)") }
        for behaviour in behaviours where behaviour.outcome == .pays || behaviour.outcome == .declined {
            #expect(behaviour.paysAfterSeconds < 300)
        }
        for behaviour in behaviours where behaviour.outcome == .paysLate { #expect(behaviour.paysAfterSeconds > 300) }
        #expect(Set(behaviours.map(\.gateway)) == ["gw-a", "gw-b"])
    }

    @Test("the load is deterministic: refreshes, invalid requests, 1 to 4 passengers mostly")
    func load() {
        let load = TatkalLoad(requests: 5000, seed: 3)
        let requests = load.requests()
        #expect(requests == TatkalLoad(requests: 5000, seed: 3).requests())
        #expect(TatkalLoad.distinct(requests).count == 5000)
        #expect(requests.contains { $0.submission == 2 })
        #expect(requests.contains { $0.event.trainNumber == "99999" })
        #expect(requests.contains { $0.event.passengers.count > 4 })
        #expect(requests.filter { (1...4).contains($0.event.passengers.count) }.count > 4900)
    }

    @Test("the inventory's store: seats seeded per class, an audit that adds up")
    func inventoryStore() async throws {
        let path = NSTemporaryDirectory() + "inventory-\(UUID().uuidString).sqlite"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try SQLiteInbox(path: path)
        try await store.migrate(InventoryBook.migrations(reference: reference))
        // A second start seeds nothing twice.
        try await store.migrate(InventoryBook.migrations(reference: reference))
        let audits = try await store.withConnection { database -> [String: InventoryBook.Audit] in
            let free = try InventoryBook.freeSeats("12951/2026-12-08/3A", limit: 3, in: database)
            #expect(free == ["B1-1", "B1-2", "B1-3"])
            try InventoryBook.setSeats(free, of: "12951/2026-12-08/3A", to: "held", request: "R1", in: database)
            #expect(throws: InboxError.self) {
                try InventoryBook.setSeats(["Z9-9"], of: "12951/2026-12-08/3A", to: "held", request: "R1", in: database)
            }
            return try InventoryBook.audit(database)
        }
        let threeA = try #require(audits["12951/2026-12-08/3A"])
        #expect(threeA.quota == 240 && threeA.held == 3 && threeA.free == 237 && threeA.booked == 0)
        // Held for a request with no booking row: a leak the audit reports.
        #expect(threeA.orphans == 3)
        #expect(audits.count == 5)
    }
}
