// rides-demo (`make demo DEMO=rides`): Ola-style ride matching on one machine. Starts the embedded broker with the
// catalog's rides.* topics and the five services as separate processes (timers 30× faster: a 2-minute deadline is
// 4 s; trips 120× faster; surge windows of 15 s), a fleet of 1,000 drivers reporting every 2 s, and riders: a base load across the
// zones, then rush hour in BKC with a GPS flood (ten times the report rate), stale and malformed fixes, malformed
// requests, riders cancelling and drivers going off duty after a match; with --chaos dispatch and surge are
// SIGKILLed mid-window and restarted. With --rate 0 the three phases' requests (--requests in all) go as fast as the
// broker acknowledges them and trips run 1,200× faster, to measure the whole system's throughput (the burst counts as
// an outage of dispatch for the expiries' timeliness, as after a kill). When every ride has ended it checks the rides,
// the drivers, the surge windows and the fares against the log, prints a summary and one line:
//   dabba-demo system=rides requests=… matched=… expired=… completed=… stuck=… double_assignments=…
//   surge_mismatch=… duplicate_effects=… p99_match_ms=… rides_per_s=…
// It exits 1 when an invariant fails (see Examples/README.md).
import ArgumentParser
import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import RidesDomain
import RidesRuntime

@main
struct RidesDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rides-demo",
        abstract: "Runs the rides services through rush hour in BKC and checks matches, surge and fares against the log."
    )

    @Option(
        help: ArgumentHelp(
            "Requests per second across the zones, before and after rush hour.",
            discussion:
                "0 sends each phase as fast as the broker acknowledges it (--requests in all; --rush-rate and the phases' seconds are then unused), to measure the system's throughput. Trips then run 40 × --time-scale; the fleet, the GPS flood and the surge windows keep their wall-clock timing; expiries made late by the burst are excused and counted, as in an outage of dispatch."
        ))
    var rate: Double = 4

    @Option(
        help: "Requests in all at --rate 0 (default \(Self.flatOutRequests)): a sixth before rush hour, half in BKC and a sixth elsewhere at rush hour, a sixth after.")
    var requests: Int?

    @Option(name: .customLong("base-seconds"), help: "Seconds of base load before and after rush hour (each).")
    var baseSeconds: Double = 25

    @Option(name: .customLong("rush-rate"), help: "Requests per second in BKC at rush hour.")
    var rushRate: Double = 20

    @Option(name: .customLong("rush-seconds"), help: "Seconds of rush hour.")
    var rushSeconds: Double = 20

    @Option(help: "Drivers reporting (at most \(RideReference.standard.driverCount)).")
    var drivers = RideReference.standard.driverCount

    @Option(name: .customLong("time-scale"), help: "How much faster the services' timers run (30: a 2-minute deadline is 4 s).")
    var timeScale: Double = 30

    @Option(
        name: .customLong("trip-time-scale"),
        help: "How much faster trips run (default 4 × --time-scale, 40 × at --rate 0 so that the rides' simulated minutes do not bound the measured throughput).")
    var tripTimeScale: Double?

    @Option(name: .customLong("surge-window"), help: "The surge windows' length in seconds.")
    var surgeWindow = 15

    @Option(help: "The random seed of the requests.")
    var seed: UInt64 = 19

    @Option(help: "Seconds to wait for every ride to end before counting the rest as stuck.")
    var timeout: Int = 300

    @OptionGroup var workspace: DemoRunOptions

    @Flag(help: "SIGKILL dispatch and surge at rush hour, then restart them.")
    var chaos = false

    /// The load at `--rate 0` without `--requests`.
    static let flatOutRequests = 1200

    func validate() throws {
        if rate < 0 { throw ValidationError("--rate must not be negative (0: as fast as acknowledged), not \(rate)") }
        for (name, value) in [("--rush-rate", rushRate), ("--time-scale", timeScale), ("--trip-time-scale", tripTimeScale ?? 1)]
        where value <= 0 {
            throw ValidationError("\(name) must be positive, not \(value)")
        }
        if let requests {
            if rate > 0 { throw ValidationError("--requests sizes the load at --rate 0; at \(rate)/s the phases' seconds do") }
            if requests < 6 { throw ValidationError("--requests must be at least 6 (a sixth per phase), not \(requests)") }
        }
        if baseSeconds < 1 || rushSeconds < 1 { throw ValidationError("--base-seconds and --rush-seconds must be at least 1") }
        if drivers < 1 || drivers > RideReference.standard.driverCount {
            throw ValidationError("--drivers must be 1…\(RideReference.standard.driverCount), not \(drivers)")
        }
        if surgeWindow < 1 { throw ValidationError("--surge-window must be at least 1, not \(surgeWindow)") }
    }

    func run() async throws {
        var logger = Logger(label: "rides-demo")
        logger.logLevel = .critical
        let directory = try workspace.makeWorkDirectory(for: "rides-demo")
        let cluster = try await DemoCluster.start(
            workspace, prefix: "rides.", mainTopic: (ridesTopic, "rides.asyncapi.yaml"), logger: logger)
        let (broker, loaded, catalog) = (cluster.broker, cluster.catalog, workspace.catalog)
        // At rate 0 each phase goes flat out; its size is a share of --requests instead of its rate × seconds.
        let flatOut = rate == 0

        let tripScale = tripTimeScale ?? timeScale * (flatOut ? 40 : 4)
        DemoConsole.step(
            "Launching the five services (timers \(Int(timeScale))× faster, trips \(Int(tripScale))×; surge windows of \(surgeWindow) s)")
        let services = try DemoServices(names: rideServiceNames, logDirectory: directory) { name in
            var arguments = demoServiceArguments(
                bootstrap: broker.bootstrapServers, catalog: catalog, store: "\(directory)/\(name).sqlite",
                instanceID: chaos ? "demo" : nil, fetchWait: ridesFetchWait)
            // Trips run faster still, so that a 25 km ride does not hold the demo for minutes (flat out, for seconds).
            arguments += ["--timer-time-scale", String(name == "rides-trips" ? tripScale : timeScale)]
            if name == "rides-surge" { arguments += ["--surge-window", String(surgeWindow)] }
            return arguments
        }
        services.announce()
        let interrupt = services.forwardInterrupts()
        defer { interrupt.cancel() }
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: logger)
        let events = EventProducer(producer: producer, source: "/rides-loadgen", routes: EventRoutes(catalog: loaded))
        let observer = try RidesObserver(
            bootstrap: broker.bootstrapServers, deadLetterTopics: cluster.deadLetterTopics,
            surgeWindow: .seconds(surgeWindow), logger: logger)
        let observing = Task { try await observer.run() }
        try await services.waitUntilJoinedAnnounced(waiting: "requests")

        let clock = ContinuousClock()
        let started = clock.now
        let fleet = DriverFleet(events: events, drivers: drivers, seed: seed)
        DemoConsole.step("\(drivers) drivers report their position every 2 s")
        let reporting = Task { await fleet.run() }
        try await Task.sleep(for: .seconds(3))

        var ids: [String] = []
        let monitor = RidesMonitor(observer: observer)
        let watching = Task { await monitor.run(started: started) }
        let total = requests ?? Self.flatOutRequests
        let pace = flatOut ? "flat out" : "at \(Int(rate))/s"
        let base = RideLoad(seed: seed, runID: "A").requests(count: flatOut ? total / 6 : Int(rate * baseSeconds))
        DemoConsole.step("Base load: \(base.count) requests across the zones \(pace)")
        let firstSent = Date()
        ids += base.map(\.rideId)
        monitor.add(base.map(\.rideId))
        let cancelledAtBase = try await send(base, rate: rate, events: events, cancelEvery: 30)

        let rush = RideLoad(seed: seed + 1, runID: "BKC").requests(count: flatOut ? total / 2 : Int(rushRate * rushSeconds), in: "BKC")
        let during = RideLoad(seed: seed + 2, runID: "B").requests(count: flatOut ? total / 6 : Int(rate * rushSeconds))
        DemoConsole.step(
            "Rush hour in BKC: \(rush.count) requests \(flatOut ? "flat out" : "at \(Int(rushRate))/s") (and \(during.count) elsewhere); a 5 s GPS flood, stale and malformed fixes\(chaos ? "; dispatch and surge are SIGKILLed\(flatOut ? " once half of these requests are decided" : "")" : "")")
        ids += rush.map(\.rideId) + during.map(\.rideId)
        monitor.add(rush.map(\.rideId) + during.map(\.rideId))
        fleet.flood(true)
        let side = Task { () throws -> (Set<String>, Int, Int) in
            try await Task.sleep(for: .seconds(5))
            fleet.flood(false)
            try await fleet.sendStale(20)
            let malformed = try await fleet.sendMalformed(3)
            let busy = observer.busyDrivers.keys.sorted().prefix(20).map { $0 }
            DemoConsole.note("\(busy.count) drivers on a ride go off duty after it; 20 stale and 3 malformed fixes sent")
            fleet.takeOffDuty(busy)
            var kills = 0
            if chaos, !flatOut {
                // Halfway through rush hour.
                try await Task.sleep(for: .seconds(max(0, rushSeconds / 2 - 5)))
                kills = try await killAndRestart(["rides-dispatch", "rides-surge"], services, observer, directory: directory)
            }
            return (malformed, busy.count, kills)
        }
        // Flat out, the kills go by progress, not by time: once half of rush hour's requests are decided, while the
        // rest of the burst is worked through (after the flood's 5 s a small burst would be over).
        let rushIDs = (rush + during).map(\.rideId)
        let flatOutKills =
            chaos && flatOut
            ? Task { () throws -> Int in
                let clock = ContinuousClock()
                let deadline = clock.now.advanced(by: .seconds(timeout))
                while clock.now < deadline {
                    let run = observer.snapshot(of: rushIDs)
                    if run.count("requested") + run.count("not_sent_yet") <= rushIDs.count / 2 { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                return try await killAndRestart(["rides-dispatch", "rides-surge"], services, observer, directory: directory)
            } : nil
        async let rushSent = send(rush, rate: flatOut ? 0 : rushRate, events: events, cancelEvery: 25)
        async let duringSent = send(during, rate: rate, events: events, cancelEvery: 30)
        let cancelledAtRush = try await rushSent + duringSent
        // Paced, rush hour lasts until its side events are done; flat out, the next phase does not wait for them.
        if !flatOut { _ = try await side.value }

        let after = RideLoad(seed: seed + 3, runID: "C").requests(
            count: flatOut ? total - base.count - rush.count - during.count : Int(rate * baseSeconds))
        DemoConsole.step("After rush hour: \(after.count) requests \(pace); surge comes down")
        ids += after.map(\.rideId)
        monitor.add(after.map(\.rideId))
        let cancelledAfter = try await send(after, rate: rate, events: events, cancelEvery: 30)
        // Flat out, a large burst is more than dispatch reads before the riders' deadlines (4 s at the demo's scale):
        // requests wait in the log and expire as soon as they are read, and their expiries queue behind the rest of
        // the burst. As after a kill, the burst counts as an outage of dispatch (its late expiries are excused and
        // counted) until dispatch has decided every request: matched, expired, rejected or cancelled. Watched from
        // now, while rush hour's side events finish.
        let burstDecided =
            flatOut
            ? Task { () throws -> Date? in
                let decided = try await monitor.waitUntil(timeout: .seconds(timeout)) {
                    $0.count("requested") == 0 && $0.count("not_sent_yet") == 0
                }
                return decided ? Date() : nil
            } : nil
        let (malformedFixes, offDuty, timedKills) = try await side.value
        let kills = try await timedKills + (flatOutKills?.value ?? 0)

        DemoConsole.step("Waiting for every ride to end (trips take a while)")
        if let burstDecided {
            let decided = try await burstDecided.value
            observer.noteDispatchOutage(from: firstSent, to: decided ?? Date())
            DemoConsole.note(
                decided.map {
                    "dispatch decided every request \(String(format: "%.1f", $0.timeIntervalSince(firstSent))) s after the first was sent"
                } ?? "dispatch had not decided every request after \(timeout) s")
        }
        let ended = try await monitor.waitUntil(timeout: .seconds(timeout)) { $0.unfinished.isEmpty }
        if !ended { DemoConsole.note("rides still under way after \(timeout) s") }
        // One more window for surge to close what rush hour and the cool-down opened.
        try await Task.sleep(for: .seconds(surgeWindow + Int(SurgeTally.grace.components.seconds) + 6))
        let dispatchStore = try StoreReader(path: "\(directory)/rides-dispatch.sqlite")
        let analyticsStore = try StoreReader(path: "\(directory)/rides-analytics.sqlite")
        let settled = try await monitor.waitUntil(timeout: .seconds(60)) { run in
            let totals = try? await analyticsStore.read { try RidesReport.totals($0) }
            let states = try? await dispatchStore.read { try DispatchBook.states($0) }
            return totals?.completed == run.count("completed") && totals?.expired == run.count("expired")
                && states?["completed", default: 0] == run.count("completed")
        }
        DemoConsole.note(settled ? "every service's store caught up with the log" : "the stores had not caught up after 60 s")
        let elapsed = clock.now - started
        reporting.cancel()
        await reporting.value
        // The fleet has stopped: dispatch's table must come to hold every driver's last report.
        let positioned = try await monitor.waitUntil(timeout: .seconds(60)) { _ in
            let logged = observer.snapshot(of: []).lastPositions
            let table = (try? await dispatchStore.read { try DispatchBook.drivers($0) }) ?? []
            return table.count == logged.count && table.allSatisfy { logged[$0.driverId] == $0.position }
        }
        if !positioned { DemoConsole.note("dispatch's table did not reach the drivers' last reports within 60 s") }
        monitor.stop()
        await watching.value

        DemoConsole.step("Stopping the services (SIGTERM) and the broker: dispatch first, then the rest once surge closed the windows it passed")
        let dispatchStatus = await services["rides-dispatch"]?.stop() ?? -1
        let closed = try await monitor.waitUntil(timeout: .seconds(60)) { run in
            !run.surgeMismatches.contains { $0.hasSuffix("no result") }
        }
        if !closed { DemoConsole.note("surge had not closed every window after 60 s") }
        var exitCodes = await services.stopAll()
        exitCodes["rides-dispatch"] = dispatchStatus
        let run = observer.snapshot(of: ids)
        await observer.stop()
        observing.cancel()
        try? await producer.flush()
        broker.stop()
        DemoConsole.note(rideServiceNames.map { "\($0) exited \(exitCodes[$0] ?? -1)" }.joined(separator: ", "))

        let storeDrivers = try await dispatchStore.read { try DispatchBook.drivers($0) }
        let states = try await dispatchStore.read { try DispatchBook.states($0) }
        let analytics = try await analyticsStore.read { try RidesReport.totals($0) }
        let (duplicates, storeDuplicates) = try await ServiceEffects.duplicates(of: rideServiceNames, in: directory)
        let positionMismatches = storeDrivers.filter { driver in
            guard let logged = run.lastPositions[driver.driverId] else { return true }
            return abs(logged.latitude - driver.position.latitude) > 1e-9 || abs(logged.longitude - driver.position.longitude) > 1e-9
        }.count + run.lastPositions.keys.filter { id in !storeDrivers.contains { $0.driverId == id } }.count
        let busyAtEnd = storeDrivers.filter { $0.rideId != nil }.count
        let unexpectedDeadLetters = run.deadLetters.filter { !malformedFixes.contains($0.eventID) }
        let stuck = run.unfinished.count
        let cancellations = cancelledAtBase + cancelledAtRush + cancelledAfter

        DemoConsole.step("Summary")
        let say = DemoConsole.say
        say("requests                 \(ids.count) (\(run.resends) resent; \(cancellations) cancellations asked, \(run.cancellationsRefused) refused: the ride was no longer open)")
        say("  matched                \(run.matched), completed \(run.count("completed"))")
        say("  expired                \(run.count("expired")) (no driver before the deadline)")
        say("  rejected               \(run.count("rejected"))   cancelled \(run.count("cancelled"))")
        say("  stuck                  \(stuck)\(stuck > 0 ? "  e.g. " + run.unfinished.prefix(5).joined(separator: ", ") : "")")
        say("match rate               \(run.matched * 100 / max(1, run.matched + run.count("expired")))%; request→match p50 \(Int(run.p50MatchMilliseconds)) ms, p99 \(Int(run.p99MatchMilliseconds)) ms")
        // End to end: requests that ended, over the log's span from the first request to the last ride's end.
        let finishedRides = ids.count - stuck
        let ridesPerSecond = run.loadSpanSeconds > 0 ? Int(Double(finishedRides) / run.loadSpanSeconds) : 0
        say(
            "rides end to end         \(ridesPerSecond) ride requests/s through all five services (\(finishedRides) requests in \(String(format: "%.1f", run.loadSpanSeconds)) s, first request to last ride ended)"
        )
        say("surge                    \(run.surgeResults) window results, up to ×\(run.maxMultiplier); \(run.lateActivity) late activity left out")
        say("drivers                  \(storeDrivers.count) in dispatch's table, \(fleet.reports) reports sent (a 5 s flood at 10×), \(offDuty) off duty after a ride; \(busyAtEnd) still marked busy")
        say("revenue                  ₹\(analytics.revenuePaise / 100) (analytics: \(analytics.line))")
        say("checks                   double assignments \(run.doubleAssignments), invalid matches \(run.invalidMatches.count), wrong multipliers \(run.wrongMultipliers.count), wrong fares \(run.wrongFares.count), late expiries \(run.lateExpiries) (tolerance \(RidesObserver.expiryTolerance) ms; \(run.excusedLateExpiries) excused in \(flatOut ? "the flat-out burst" : "an outage")), surge mismatches \(run.surgeMismatches.count), last positions differing \(positionMismatches)")
        if !run.doubleAssignmentDetails.isEmpty {
            say("double assignments       \(run.doubleAssignmentDetails.prefix(5).joined(separator: "; "))")
        }
        say("dead letters             \(run.deadLetters.count) (\(unexpectedDeadLetters.count) not of a malformed fix)")
        say("duplicate effects        \(duplicates) (\(storeDuplicates.joined(separator: ", ")))")
        if chaos {
            // Flat out, the kill falls in the burst, itself an outage: the longest outage is the burst's, not the kill's,
            // and the kill's own catching up is in its note.
            let recovery =
                flatOut
                ? "once half of rush hour's requests were decided"
                : "dispatch met deadlines on time again \(String(format: "%.1f", Double(run.recoveryMilliseconds ?? 0) / 1000)) s after the kill"
            say("chaos                    kills \(kills) (SIGKILL of dispatch and surge at rush hour, then restarts); \(recovery)")
        }
        say("elapsed                  \(String(format: "%.1f", DemoConsole.seconds(elapsed))) s")

        var verdict = DemoVerdict(prefix: "dabba-demo")
        verdict.add("system", "rides")
        verdict.add("requests", ids.count)
        verdict.add("matched", run.matched)
        verdict.add("expired", run.count("expired"))
        verdict.add("completed", run.count("completed"))
        verdict.require("stuck", stuck, equals: 0)
        verdict.require("double_assignments", run.doubleAssignments, equals: 0)
        verdict.require("surge_mismatch", run.surgeMismatches.count + run.wrongMultipliers.count, equals: 0)
        verdict.require("duplicate_effects", duplicates, equals: 0)
        verdict.add("p99_match_ms", Int(run.p99MatchMilliseconds))
        verdict.add("rides_per_s", ridesPerSecond)
        verdict.require(run.invalidMatches.isEmpty, "matches that broke the rules: \(run.invalidMatches.prefix(3))")
        verdict.require(run.wrongFares.isEmpty, "fares that do not follow from their match: \(run.wrongFares.prefix(3))")
        verdict.require(run.lateExpiries == 0, "\(run.lateExpiries) requests expired late")
        verdict.require(positionMismatches == 0, "\(positionMismatches) drivers' last positions differ between dispatch and the log")
        verdict.require(busyAtEnd == 0, "\(busyAtEnd) drivers still busy after every ride ended")
        verdict.require(
            states["completed", default: 0] == run.count("completed") && states["expired", default: 0] == run.count("expired"),
            "dispatch's rides (\(states)) differ from the log")
        verdict.require(
            analytics.completed == run.count("completed") && analytics.matched == run.matched,
            "analytics (\(analytics.line)) differs from the log")
        verdict.require(unexpectedDeadLetters.isEmpty, "\(unexpectedDeadLetters.count) records dead-lettered that were not malformed: \(unexpectedDeadLetters.prefix(2))")
        verdict.require(Set(run.deadLetters.map(\.eventID)) == malformedFixes, "not every malformed fix was dead-lettered")
        verdict.require(run.undecodable == 0, "\(run.undecodable) records did not decode")
        for mismatch in run.surgeMismatches.prefix(5) { say("surge mismatch: \(mismatch)") }
        for violation in verdict.violations { say("FAILED: \(violation)") }
        let kept = workspace.keep || !verdict.passed
        say("stores and logs          \(directory)\(kept ? "" : " (removed; --keep keeps them)")")
        say(verdict.line)
        if !kept { try? FileManager.default.removeItem(atPath: directory) }
        if !verdict.passed { throw ExitCode(verdict.exitStatus) }
    }

    /// Sends requests at `rate` per second, each stamped when it leaves; every `cancelEvery`th rider cancels a
    /// second later. Returns the cancellations sent.
    private func send(_ requests: [RideRequested], rate: Double, events: EventProducer, cancelEvery: Int) async throws -> Int {
        let sender = PacedSender(events: events)
        try await sender.send(count: requests.count, rate: rate) { index in
            var request = requests[index]
            request.requestedAt = Date()
            return (request, EventMetadata(id: "\(request.rideId)/requested"))
        }
        let cancelling = stride(from: cancelEvery - 1, to: requests.count, by: cancelEvery).map { requests[$0] }
        try await Task.sleep(for: .seconds(1))
        try await sender.send(count: cancelling.count, rate: 0) { index in
            let request = cancelling[index]
            return (
                RideCancelRequested(rideId: request.rideId, pickupZone: request.pickupZone, riderId: request.riderId, requestedAt: Date()),
                EventMetadata(id: "\(request.rideId)/cancel")
            )
        }
        return cancelling.count
    }

    /// SIGKILLs services, restarts them a second later and waits until they have their partitions again.
    private func killAndRestart(
        _ names: [String], _ services: DemoServices, _ observer: RidesObserver, directory: String
    ) async throws -> Int {
        let killedAt = Date()
        var joins: [String: Int] = [:]
        for name in names {
            guard let service = services[name] else { continue }
            joins[name] = service.log.components(separatedBy: "partitions assigned").count
            DemoConsole.note("chaos: SIGKILL \(name) (pid \(service.pid))")
            service.send(SIGKILL)
            _ = await service.waitForExit(timeout: .seconds(10))
        }
        try await Task.sleep(for: .seconds(1))
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(60))
        for name in names {
            guard let service = services[name] else { continue }
            try service.restart()
            while clock.now < deadline, service.log.components(separatedBy: "partitions assigned").count <= joins[name, default: 0] {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
        // Deadlines that fall while dispatch is down, or reads the backlog it left, are met once it has caught up:
        // when every driver's latest report in its table is newer than its restart.
        let restarted = Date()
        let dispatchStore = try StoreReader(path: "\(directory)/rides-dispatch.sqlite")
        while clock.now < deadline.advanced(by: .seconds(60)),
            (try await dispatchStore.read { try DispatchBook.oldestLatestReport($0) } ?? .distantPast) <= restarted
        {
            try await Task.sleep(for: .milliseconds(200))
        }
        observer.noteDispatchOutage(from: killedAt, to: Date())
        DemoConsole.note(
            "chaos: restarted \(names.joined(separator: " and ")); dispatch caught up with its backlog \(String(format: "%.1f", Date().timeIntervalSince(killedAt))) s after the kill")
        return names.count
    }
}
