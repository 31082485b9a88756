import DabbaEvents
import DabbaTesting
import DemoKit
import DemoServiceKit
import DemoTestKit
import Foundation
import Testing
import TrafficDomain
import TrafficRuntime

@Suite("Traffic status rule, without Kafka")
struct TrafficRuleTests {
    let start = Date(timeIntervalSince1970: 1_796_614_200)

    func reports(_ heavy: [Bool], every seconds: TimeInterval = 60) -> [(heavy: Bool, at: Date)] {
        heavy.enumerated().map { ($0.element, start.addingTimeInterval(Double($0.offset) * seconds)) }
    }

    @Test("heavy when seven of the last ten say so; light otherwise; unknown with none")
    func rule() {
        #expect(TrafficRules.status(of: []).status == .unknown)
        #expect(TrafficRules.status(of: reports([true])).status == .light)
        let seven = reports(Array(repeating: true, count: 7) + Array(repeating: false, count: 4))
        #expect(TrafficRules.status(of: seven).status == .light, "the last ten hold six heavy")
        let heavy = reports(Array(repeating: false, count: 3) + Array(repeating: true, count: 7))
        let result = TrafficRules.status(of: heavy)
        #expect(result.status == .heavy && result.heavy == 7 && result.counted == 10)
    }

    @Test("reports count for an hour from the zone's newest; a stale one does not count")
    func hour() {
        var old = reports(Array(repeating: true, count: 9))
        old.append((false, start.addingTimeInterval(2 * 3600)))
        let result = TrafficRules.status(of: old)
        #expect(result.counted == 1 && result.status == .light)
        var stale = reports(Array(repeating: true, count: 10))
        stale.append((false, start.addingTimeInterval(-3 * 3600)))
        #expect(TrafficRules.status(of: stale).status == .heavy, "a report two hours stale is not among the ten")
    }

    @Test("the load: every zone, some resends, a quiet hour, deterministic")
    func load() {
        let first = TrafficLoad(seed: 1, runID: "L").reports(perZone: 100)
        #expect(first == TrafficLoad(seed: 1, runID: "L").reports(perZone: 100))
        #expect(Set(first.map(\.zone)) == Set(TrafficRules.zones))
        #expect(first.count > Set(first.map(\.reportId)).count, "no resends")
        #expect(TrafficRules.subscribers(of: "WEH-Andheri").count >= 3)
    }
}

@Suite("Traffic end to end: the two services as processes", .serialized, .timeLimit(.minutes(6)))
struct TrafficEndToEndTests {
    @Test("every change announced with its previous status, every subscriber alerted once, through a SIGKILL")
    func morning() async throws {
        let system = try await ExampleSystem.start(prefix: "traffic.", name: "traffic-test", logger: TestHelpers.quietLogger("traffic.test"))
        let observer = try TrafficObserver(
            bootstrap: system.broker.bootstrapServers, deadLetterTopics: system.deadLetterTopics,
            logger: TestHelpers.quietLogger("traffic.test"))
        let observing = Task { try await observer.run() }
        do {
            for name in trafficServiceNames {
                try system.launch(
                    name,
                    arguments: demoServiceArguments(
                        bootstrap: system.broker.bootstrapServers, catalog: ExampleSystem.topicsDirectory.path,
                        store: system.store(name), instanceID: "test", fetchWait: "20ms"))
            }
            try await system.waitUntilJoined { observer.isAssigned }
            let reports = TrafficLoad(seed: 61, runID: "E").reports(perZone: 80)
            let sender = PacedSender(events: system.events)
            let half = reports.count / 2
            try await sender.send(count: half, rate: 0) { (reports[$0], EventMetadata(id: "\(reports[$0].reportId)/\($0)")) }
            let status = try #require(system.services["traffic-status"])
            status.send(SIGKILL)
            _ = await status.waitForExit(timeout: .seconds(10))
            try status.restart()
            try await sender.send(count: reports.count - half, rate: 0) {
                (reports[half + $0], EventMetadata(id: "\(reports[half + $0].reportId)/\(half + $0)"))
            }
            try await TestHelpers.eventually("every change announced and alerted", timeout: .seconds(120)) {
                let run = observer.snapshot()
                return run.reports + run.resends == reports.count && run.changes == run.expectedChanges
                    && run.missingAlerts == 0
            }
            for (name, result) in await system.stopAll() {
                #expect(result.status == 0, "\(name) exited with \(result.status): \(result.log)")
            }
            let run = observer.snapshot()
            #expect(run.statusMismatches.isEmpty, "\(run.statusMismatches.prefix(3))")
            #expect(run.changes > 8, "\(run.changes) changes")
            #expect(run.duplicateAlerts == 0 && run.strayAlerts == 0 && run.missingAlerts == 0)
            #expect(run.deadLetters.isEmpty && run.undecodable == 0)
            for name in trafficServiceNames {
                #expect(try await StoreReader(path: system.store(name)).duplicateEffects() == 0, "duplicate effects in \(name)")
            }
        } catch {
            await system.shutDown { await observer.stop(); observing.cancel() }
            throw error
        }
        await system.shutDown { await observer.stop(); observing.cancel() }
    }
}
