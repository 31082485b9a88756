import DabbaEvents
import DabbaKafka
import DabbaTesting
import DemoKit
import DemoServiceKit
import DemoTestKit
import Foundation
import RidesDomain
import RidesRuntime
import Testing

let quietLogger = TestHelpers.quietLogger("rides.test")

/// The rides system for one test (on the kit's ``ExampleSystem``): the catalog's rides.* topics, the services as
/// processes (timers 30× faster, trips 120×, surge windows of 10 s), a fleet of drivers reporting every 2 s, and an observer.
final class RidesSystem: ExampleSystemHarness {
    static let timeScale = 30.0
    static let surgeWindow = 10

    let system: ExampleSystem
    let observer: RidesObserver
    let fleet: DriverFleet
    private let observing: Task<Void, any Error>
    private let reporting: Task<Void, Never>

    var services: [String: ServiceProcess] { system.services }

    static func start() async throws -> RidesSystem {
        let system = try await ExampleSystem.start(prefix: "rides.", name: "rides-test", logger: quietLogger)
        do {
            return try RidesSystem(system)
        } catch {
            await system.shutDown {}
            throw error
        }
    }

    private init(_ system: ExampleSystem) throws {
        self.system = system
        observer = try RidesObserver(
            bootstrap: system.broker.bootstrapServers, deadLetterTopics: system.deadLetterTopics,
            surgeWindow: .seconds(Self.surgeWindow), logger: quietLogger)
        let observer = self.observer
        observing = Task { try await observer.run() }
        let fleet = DriverFleet(events: system.events, drivers: 500, seed: 7)
        self.fleet = fleet
        reporting = Task { await fleet.run() }
    }

    /// The store file of a service.
    func store(_ name: String) -> String { system.store(name) }

    /// Starts every service.
    func startAll() throws {
        for name in rideServiceNames {
            var arguments = demoServiceArguments(
                bootstrap: system.broker.bootstrapServers, catalog: ExampleSystem.topicsDirectory.path,
                store: store(name), instanceID: "test", fetchWait: ridesFetchWait)
            arguments += ["--timer-time-scale", String(name == "rides-trips" ? Self.timeScale * 4 : Self.timeScale)]
            if name == "rides-surge" { arguments += ["--surge-window", String(Self.surgeWindow)] }
            try system.launch(name, arguments: arguments)
        }
    }

    /// Waits until every running service logged a partition assignment.
    func waitUntilJoined() async throws {
        let observer = self.observer
        try await system.waitUntilJoined { observer.isAssigned }
    }

    /// Sends requests at `rate` per second, each stamped when it leaves.
    func send(_ requests: [RideRequested], rate: Double) async throws {
        try await PacedSender(events: system.events).send(count: requests.count, rate: rate) { index in
            var request = requests[index]
            request.requestedAt = Date()
            return (request, EventMetadata(id: "\(request.rideId)/requested"))
        }
    }

    /// Waits until every ride ended and a surge window more closed, and the stores caught up; returns what was
    /// observed.
    func finish(_ ids: [String], timeout: Duration = .seconds(180)) async throws -> RidesRun {
        let observer = self.observer
        try await TestHelpers.eventually("every ride ended", timeout: timeout, pollInterval: .milliseconds(500)) {
            observer.snapshot(of: ids).unfinished.isEmpty
        }
        try await Task.sleep(for: .seconds(Self.surgeWindow + 10))
        let dispatch = try StoreReader(path: store("rides-dispatch"))
        let analytics = try StoreReader(path: store("rides-analytics"))
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(60))
        while true {
            let run = observer.snapshot(of: ids)
            let states = try await dispatch.read { try DispatchBook.states($0) }
            let totals = try await analytics.read { try RidesReport.totals($0) }
            // A window closed by the stream time the observer saw may not have reached surge yet: wait it out.
            if states["completed", default: 0] == run.count("completed") && totals.completed == run.count("completed")
                && totals.matched == run.matched && !run.surgeMismatches.contains(where: { $0.hasSuffix("no result") })
            {
                return run
            }
            guard clock.now < deadline else {
                Issue.record("the stores had not caught up after 60 s: dispatch \(states), analytics \(totals.line)")
                return run
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Waits until dispatch has read every driver's reports up to now (after a restart: its backlog), and returns
    /// when that was.
    func waitUntilDispatchCaughtUp() async throws -> Date {
        let since = Date()
        let dispatch = try StoreReader(path: store("rides-dispatch"))
        try await TestHelpers.eventually("dispatch caught up with the drivers' reports", timeout: .seconds(120)) {
            (try await dispatch.read { try DispatchBook.oldestLatestReport($0) } ?? .distantPast) > since
        }
        return Date()
    }

    /// Stops the fleet, waits until dispatch's table has every driver's last report, stops every service with
    /// SIGTERM and checks they exit cleanly.
    func stopAll() async {
        reporting.cancel()
        await reporting.value
        let observer = self.observer
        let dispatch = store("rides-dispatch")
        try? await TestHelpers.eventually("dispatch has every driver's last report", timeout: .seconds(60)) {
            let logged = observer.snapshot(of: []).lastPositions
            let drivers = try await StoreReader(path: dispatch).read { try DispatchBook.drivers($0) }
            return drivers.count == logged.count && drivers.allSatisfy { logged[$0.driverId] == $0.position }
        }
        for (name, result) in await system.stopAll() {
            #expect(result.status == 0, "\(name) exited with \(result.status): \(result.log)")
        }
    }

    func shutDown() async {
        let observer = self.observer
        let observing = self.observing
        reporting.cancel()
        await system.shutDown {
            await observer.stop()
            observing.cancel()
        }
    }

    /// The demo's invariants, from the stores and the log.
    func checkInvariants(_ run: RidesRun) async throws {
        #expect(run.unfinished.isEmpty, "unfinished: \(run.unfinished.prefix(5))")
        #expect(run.doubleAssignments == 0)
        #expect(run.invalidMatches.isEmpty, "\(run.invalidMatches.prefix(3))")
        #expect(run.wrongMultipliers.isEmpty, "\(run.wrongMultipliers.prefix(3))")
        #expect(run.wrongFares.isEmpty, "\(run.wrongFares.prefix(3))")
        #expect(run.lateExpiries == 0)
        #expect(run.surgeMismatches.isEmpty, "\(run.surgeMismatches.prefix(3))")
        #expect(run.undecodable == 0)
        #expect(run.deadLetters.isEmpty, "dead-lettered: \(run.deadLetters.prefix(3))")
        let drivers = try await StoreReader(path: store("rides-dispatch")).read { try DispatchBook.drivers($0) }
        #expect(drivers.allSatisfy { $0.rideId == nil }, "drivers still busy")
        // The fleet reported until stopAll(): the log's last positions are the ones read now.
        let logged = observer.snapshot(of: []).lastPositions
        #expect(drivers.count == logged.count)
        for driver in drivers where logged[driver.driverId] != driver.position {
            Issue.record("\(driver.driverId)'s last position: \(driver.position) in dispatch, \(String(describing: logged[driver.driverId])) in the log")
        }
        for name in rideServiceNames {
            #expect(try await StoreReader(path: store(name)).duplicateEffects() == 0, "duplicate effects in \(name)")
        }
    }
}
