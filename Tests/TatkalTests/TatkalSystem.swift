import DabbaEvents
import DabbaKafka
import DabbaTesting
import DemoKit
import DemoServiceKit
import DemoTestKit
import Foundation
import TatkalDomain
import TatkalRuntime
import Testing

let quietLogger = TestHelpers.quietLogger("tatkal.test")

/// The Tatkal system for one test (on the kit's ``ExampleSystem``): the catalog's tatkal.* topics, the gateways'
/// control file, the services as processes (timers 60× faster: 5 s holds), an observer, and the window opened when
/// the system starts.
final class TatkalSystem: ExampleSystemHarness {
    let system: ExampleSystem
    let observer: TatkalObserver
    private let observing: Task<Void, any Error>
    let sender: PacedSender
    let opensAt = Date()

    var services: [String: ServiceProcess] { system.services }
    var gatewayControl: String { "\(system.directory)/gateways.json" }

    /// Waits until no other example system of this process runs, then starts one.
    static func start() async throws -> TatkalSystem {
        let system = try await ExampleSystem.start(prefix: "tatkal.", name: "tatkal-test", logger: quietLogger)
        do {
            return try TatkalSystem(system)
        } catch {
            await system.shutDown {}
            throw error
        }
    }

    private init(_ system: ExampleSystem) throws {
        self.system = system
        observer = try TatkalObserver(
            bootstrap: system.broker.bootstrapServers, deadLetterTopics: system.deadLetterTopics, logger: quietLogger)
        let observer = self.observer
        observing = Task { try await observer.run() }
        sender = PacedSender(events: system.events)
        try ControlFile.write(GatewayConditions.healthy, to: "\(system.directory)/gateways.json")
    }

    /// The store file of a service.
    func store(_ name: String) -> String { system.store(name) }

    /// Starts every service.
    func startAll() throws {
        for name in tatkalServiceNames {
            var arguments = demoServiceArguments(
                bootstrap: system.broker.bootstrapServers, catalog: ExampleSystem.topicsDirectory.path,
                store: store(name), instanceID: "test", fetchWait: tatkalFetchWait)
            arguments += ["--timer-time-scale", String(tatkalTimeScale)]
            if name == "tatkal-gate" { arguments += ["--opens-at", String(opensAt.timeIntervalSince1970 - 1)] }
            if name == "tatkal-payments" { arguments += ["--gateway-control", gatewayControl] }
            try system.launch(name, arguments: arguments)
        }
    }

    /// Waits until every running service logged a partition assignment.
    func waitUntilJoined() async throws {
        let observer = self.observer
        try await system.waitUntilJoined { observer.isAssigned }
    }

    /// Sends requests as fast as the producer goes.
    func send(_ requests: [TatkalRequest]) async throws {
        try await sender.send(count: requests.count, rate: 0) { index in
            var event = requests[index].event
            event.requestedAt = Date()
            return (event, EventMetadata(id: requests[index].eventID))
        }
    }

    /// Waits until every hold is resolved, asks for every chart, waits until every request is terminal and
    /// analytics caught up, and returns what was observed.
    func finish(_ requestIDs: [String], timeout: Duration = .seconds(180)) async throws -> TatkalRun {
        let observer = self.observer
        try await TestHelpers.eventually("every hold resolved", timeout: timeout, pollInterval: .milliseconds(300)) {
            let run = observer.snapshot(of: requestIDs)
            return run.liveHolds == 0 && run.unfinished.allSatisfy { run.states[$0] == "waitlisted" }
        }
        let reference = TatkalReference.standard
        try await sender.send(count: reference.inventories.count, rate: 0) { index in
            let inventory = reference.inventories[index]
            return (
                ChartRequested(
                    trainNumber: inventory.train.number, journeyDate: reference.journeyDate,
                    travelClass: inventory.travelClass.code, requestedAt: Date()),
                EventMetadata(id: "chart/\(inventory.key)")
            )
        }
        let analytics = store("tatkal-analytics")
        try await TestHelpers.eventually("every request finished, analytics caught up", timeout: .seconds(60)) {
            let run = observer.snapshot(of: requestIDs)
            guard run.unfinished.isEmpty, run.charts.count == reference.inventories.count else { return false }
            let totals = try await StoreReader(path: analytics).read { try TatkalReport.totals($0) }
            return totals.confirmed == run.count("confirmed") && totals.refunds == run.refunds
        }
        return observer.snapshot(of: requestIDs)
    }

    /// Stops every service with SIGTERM and checks they exit cleanly.
    func stopAll() async {
        for (name, result) in await system.stopAll() {
            #expect(result.status == 0, "\(name) exited with \(result.status): \(result.log)")
        }
    }

    /// Stops everything and removes the directory.
    func shutDown() async {
        let observer = self.observer
        let observing = self.observing
        await system.shutDown {
            await observer.stop()
            observing.cancel()
        }
    }

    /// The demo's invariants, from the stores and the log.
    func checkInvariants(_ run: TatkalRun) async throws {
        #expect(run.unfinished.isEmpty, "unfinished: \(run.unfinished.prefix(10))")
        let audits = try await StoreReader(path: store("tatkal-inventory")).read { try InventoryBook.audit($0) }
        for (key, audit) in audits {
            #expect(audit.held + audit.booked <= audit.quota, "\(key) oversold")
            #expect(audit.free + audit.held + audit.booked == audit.quota, "\(key) seats do not add up")
            #expect(audit.orphans == 0, "\(key) has seats of no live booking")
            #expect(audit.held == 0, "\(key) still holds seats")
            #expect(run.freeSeats[key] == audit.free, "\(key): the log and the store disagree on free seats")
        }
        #expect(run.seatConflicts == 0)
        #expect(run.waitlistedWhileFree == 0)
        #expect(run.promotionsOutOfOrder == 0)
        #expect(run.missedPromotions == 0)
        #expect(run.lateExpiries == 0)
        #expect(run.unrefundedLatePayments == 0)
        #expect(run.chartMismatches == 0)
        #expect(run.undecodable == 0)
        #expect(run.deadLetters.isEmpty, "dead-lettered: \(run.deadLetters.prefix(3))")
        let confirmed = audits.values.reduce(0) { $0 + $1.confirmed }
        #expect(confirmed == run.count("confirmed"))
        let totals = try await StoreReader(path: store("tatkal-analytics")).read { try TatkalReport.totals($0) }
        #expect(totals.revenuePaise == audits.values.reduce(0) { $0 + $1.revenuePaise })
        for name in tatkalServiceNames {
            #expect(try await StoreReader(path: store(name)).duplicateEffects() == 0, "duplicate effects in \(name)")
        }
    }
}
