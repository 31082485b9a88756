// tatkal-demo (`make demo DEMO=tatkal`): IRCTC Tatkal at 10:00 on one machine. Starts the embedded broker with the
// catalog's tatkal.* topics and the five services as separate processes (timers scaled so a 300 s hold lasts 5 s),
// sends a few requests before the window opens, then a burst of 50,000 requests within about 2 seconds (with
// refreshes, malformed and invalid ones); passengers pay, pay late, abandon or are declined, and one gateway goes down
// for a while; with --chaos the inventory is SIGKILLed at the peak and restarted. When every hold is resolved it asks
// for the charts, checks the seats from the stores and the log, prints a summary, and ends with one line:
//   dabba-demo system=tatkal requests=… confirmed=… waitlisted=… rejected=… expired=… oversold=… seat_conflicts=…
//   late_expiries=… stuck=… duplicate_effects=… p99_ms=… bookings_per_s=…
// With --rate 0 the burst goes as fast as the broker acknowledges it, and bookings_per_s (requests decided per second
// by the gate and the inventory) measures the system's throughput.
// It exits 1 when an invariant fails (see Examples/README.md).
import ArgumentParser
import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import TatkalDomain
import TatkalRuntime

@main
struct TatkalDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tatkal-demo",
        abstract: "Runs the Tatkal services through the 10:00 burst and checks that no seat is sold twice."
    )

    @Option(help: "Distinct booking requests in the burst.")
    var requests = 50_000

    @Option(name: .customLong("burst-seconds"), help: "Seconds over which the burst is sent (unless --rate is given).")
    var burstSeconds: Double = 2

    @Option(
        help: "Requests per second in the burst, refreshes included (default: all of them over --burst-seconds; 0: as fast as the broker acknowledges them, to measure throughput; gw-b then goes down 1 s after the last one is acknowledged)."
    )
    var rate: Double?

    @Option(name: .customLong("outage-seconds"), help: "Seconds gateway gw-b is down, from just after the burst.")
    var outageSeconds: Double = 8

    @Option(name: .customLong("time-scale"), help: "How much faster the services' timers run (60: a 300 s hold takes 5 s).")
    var timeScale: Double = tatkalTimeScale

    @Option(help: "The random seed of the requests.")
    var seed: UInt64 = 10

    @Option(help: "Seconds to wait for every request to finish before counting the rest as stuck.")
    var timeout: Int = 300

    @OptionGroup var workspace: DemoRunOptions

    @Flag(help: "SIGKILL the inventory service at the peak of the burst, then restart it.")
    var chaos = false

    func validate() throws {
        if requests <= 0 { throw ValidationError("--requests must be positive, not \(requests)") }
        if burstSeconds <= 0 { throw ValidationError("--burst-seconds must be positive, not \(burstSeconds)") }
        if let rate, !(rate >= 0) { throw ValidationError("--rate must be 0 (flat out) or positive, not \(rate)") }
        if outageSeconds < 0 { throw ValidationError("--outage-seconds must not be negative, not \(outageSeconds)") }
        if timeScale < 1 { throw ValidationError("--time-scale must be at least 1, not \(timeScale)") }
    }

    func run() async throws {
        var logger = Logger(label: "tatkal-demo")
        logger.logLevel = .critical
        let directory = try workspace.makeWorkDirectory(for: "tatkal-demo")
        let cluster = try await DemoCluster.start(
            workspace, prefix: "tatkal.", mainTopic: (tatkalRequestsTopic, "tatkal.asyncapi.yaml"), logger: logger)
        let (broker, loaded, catalog) = (cluster.broker, cluster.catalog, workspace.catalog)
        let deadLetterTopics = cluster.deadLetterTopics
        let reference = TatkalReference.standard
        let gatewayControl = "\(directory)/gateways.json"
        try ControlFile.write(GatewayConditions.healthy, to: gatewayControl)

        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: logger)
        let events = EventProducer(producer: producer, source: "/tatkal-loadgen", routes: EventRoutes(catalog: loaded))
        let sender = PacedSender(events: events)
        let load = TatkalLoad(requests: requests, seed: seed).requests()
        // The burst's pace: --rate, or every request (refreshes included) over --burst-seconds; 0 is flat out.
        let burstRate = rate ?? Double(load.count) / burstSeconds
        let pacedSeconds: Double? = burstRate > 0 ? Double(load.count) / burstRate : nil
        let early = TatkalLoad(requests: 20, seed: seed + 1, runID: "EARLY").requests()
        var requestIDs = TatkalLoad.distinct(early + load)

        // "10:00": far enough ahead for the burst's records to be built and the services to join first. The
        // records are encoded now, each request stamped with the moment it is due to arrive, so that encoding (slow
        // in a debug build) does not stretch the burst.
        // A whole second, so that a request stamped exactly 10:00 (all of them, flat out) is not before the opening
        // once its time is written with millisecond precision.
        let opensAt = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 + 20 + Double(load.count) / 2500).rounded(.up))
        DemoConsole.step("Preparing \(load.count) booking requests for 10:00")
        // Flat out, every request is stamped 10:00:00 (everyone clicks at once).
        let burst = try await Self.encode(load, opensAt: opensAt, over: pacedSeconds ?? 0, with: events)
        DemoConsole.step("Launching the five services (timers \(Int(timeScale))× faster: a 300 s hold lasts \(String(format: "%.0f", 300 / timeScale)) s)")
        let services = try DemoServices(names: tatkalServiceNames, logDirectory: directory) { name in
            var arguments = demoServiceArguments(
                bootstrap: broker.bootstrapServers, catalog: catalog, store: "\(directory)/\(name).sqlite",
                instanceID: chaos ? "demo" : nil, fetchWait: tatkalFetchWait)
            arguments += ["--timer-time-scale", String(timeScale)]
            if name == "tatkal-gate" { arguments += ["--opens-at", String(opensAt.timeIntervalSince1970)] }
            if name == "tatkal-payments" { arguments += ["--gateway-control", gatewayControl] }
            return arguments
        }
        services.announce()
        let interrupt = services.forwardInterrupts()
        defer { interrupt.cancel() }
        let observer = try TatkalObserver(
            bootstrap: broker.bootstrapServers, deadLetterTopics: deadLetterTopics, logger: logger)
        let observing = Task { try await observer.run() }
        try await services.waitUntilJoinedAnnounced(waiting: "requests")

        let clock = ContinuousClock()
        let started = clock.now
        let wait = opensAt.timeIntervalSinceNow
        if wait > 1 {
            DemoConsole.step("Before 10:00: \(early.count) requests that must be refused (window closed)")
            try await sender.send(count: early.count, rate: 0) { index in
                var event = early[index].event
                event.requestedAt = Date()
                return (event, EventMetadata(id: early[index].eventID))
            }
            try await Task.sleep(for: .milliseconds(Int(max(0, opensAt.timeIntervalSinceNow) * 1000)))
        } else {
            DemoConsole.note("the services took until after 10:00 to join: no early requests")
            requestIDs = TatkalLoad.distinct(load)
        }
        let monitor = TatkalMonitor(
            observer: observer, requestIDs: requestIDs, burstIDs: TatkalLoad.distinct(load), reference: reference)
        let watching = Task { await monitor.run(started: started) }

        let pace = pacedSeconds.map { "in \(String(format: "%.0f", $0)) s" } ?? "flat out"
        DemoConsole.step(
            "10:00: \(load.count) booking requests (\(requests) distinct, the rest refreshes) \(pace), plus malformed ones; gateway gw-b goes down for \(Int(outageSeconds)) s"
        )
        let burstStart = clock.now
        // The outage starts about a second after the last request leaves: when a paced burst is due to end, or
        // once a flat-out one is acknowledged.
        var outage = pacedSeconds.map { gatewayOutage(in: $0 + 1, control: gatewayControl) }
        let idsAtBurst = requestIDs
        let kill = chaos ? Task { try await killAtPeak(services["tatkal-inventory"], observer: observer, ids: idsAtBurst) } : nil
        try await sender.send(messages: burst, rate: burstRate)
        let burstSent = clock.now
        if outage == nil { outage = gatewayOutage(in: 1, control: gatewayControl) }
        let malformed = try await sendMalformed(events, count: max(1, requests / 5000))
        DemoConsole.note(
            "sent in \(String(format: "%.1f", DemoConsole.seconds(burstSent - burstStart))) s; \(malformed.count) malformed records")
        try await outage?.value
        let kills = try await kill?.value ?? 0

        // Some of those refused at capacity try again after the retry-after, with a new request (places come back
        // as unpaid holds expire).
        _ = try await monitor.waitUntil(timeout: .seconds(timeout)) { $0.byState["requested", default: 0] == 0 }
        let retryAfter = 300 / timeScale
        try await Task.sleep(for: .milliseconds(Int(retryAfter * 1000)))
        let refused = observer.snapshot(of: TatkalLoad.distinct(load)).reasons.filter { $0.value == "at_capacity" }.keys.sorted()
        let originals = Dictionary(load.map { ($0.event.requestId, $0.event) }, uniquingKeysWith: { first, _ in first })
        let retries = stride(from: 0, to: refused.count, by: 50).compactMap { index -> TatkalRequest? in
            guard var event = originals[refused[index]] else { return nil }
            event.requestId = "RETRY-" + event.requestId
            return TatkalRequest(event: event, submission: 1)
        }
        DemoConsole.step(
            "After the retry-after (\(String(format: "%.0f", retryAfter)) s): \(retries.count) of the \(refused.count) refused at capacity try again")
        monitor.add(TatkalLoad.distinct(retries))
        requestIDs += TatkalLoad.distinct(retries)
        try await sender.send(count: retries.count, rate: 0) { index in
            var event = retries[index].event
            event.requestedAt = Date()
            return (event, EventMetadata(id: retries[index].eventID))
        }

        DemoConsole.step("Waiting for every hold to be paid, declined or expired (waitlist promotions follow)")
        let resolved = try await monitor.waitUntil(timeout: .seconds(timeout)) { run in
            run.unfinished.allSatisfy { run.states[$0] == "waitlisted" } && run.liveHolds == 0
        }
        if !resolved { DemoConsole.note("holds still live after \(timeout) s") }

        DemoConsole.step("Chart preparation: whoever still waits is not confirmed")
        try await sender.send(count: reference.inventories.count, rate: 0) { index in
            let inventory = reference.inventories[index]
            return (
                ChartRequested(
                    trainNumber: inventory.train.number, journeyDate: reference.journeyDate,
                    travelClass: inventory.travelClass.code, requestedAt: Date()),
                EventMetadata(id: "chart/\(inventory.key)")
            )
        }
        let charted = try await monitor.waitUntil(timeout: .seconds(60)) { run in
            run.charts.count == reference.inventories.count && run.unfinished.isEmpty
        }
        if !charted { DemoConsole.note("not every chart was prepared within 60 s") }
        let elapsed = clock.now - started

        let inventoryStore = try StoreReader(path: "\(directory)/tatkal-inventory.sqlite")
        let analyticsStore = try StoreReader(path: "\(directory)/tatkal-analytics.sqlite")
        let settled = try await settle(inventory: inventoryStore, analytics: analyticsStore, observer: observer, ids: requestIDs)
        DemoConsole.note(settled ? "every service's store caught up with the log" : "the stores had not caught up after 60 s")
        monitor.stop()
        await watching.value

        DemoConsole.step("Stopping the services (SIGTERM) and the broker")
        let exitCodes = await services.stopAll()
        await observer.stop()
        observing.cancel()
        try? await producer.flush()
        broker.stop()
        DemoConsole.note(tatkalServiceNames.map { "\($0) exited \(exitCodes[$0] ?? -1)" }.joined(separator: ", "))

        let run = observer.snapshot(of: requestIDs)
        let audits = try await inventoryStore.read { try InventoryBook.audit($0) }
        let analytics = try await analyticsStore.read { try TatkalReport.totals($0) }
        let (duplicates, storeDuplicates) = try await ServiceEffects.duplicates(of: tatkalServiceNames, in: directory)
        let oversold = audits.values.filter {
            $0.held + $0.booked > $0.quota || $0.free + $0.held + $0.booked != $0.quota || $0.orphans > 0
        }.count
        let revenue = audits.values.reduce(0) { $0 + $1.revenuePaise }
        let confirmedInStore = audits.values.reduce(0) { $0 + $1.confirmed }
        let unexpectedDeadLetters = run.deadLetters.filter { !malformed.contains($0.eventID) }
        let stats = monitor.statistics
        let decisions = observer.snapshot(of: TatkalLoad.distinct(load))

        DemoConsole.step("Summary")
        let say = DemoConsole.say
        let stuck = run.unfinished.count
        say("requests                 \(requestIDs.count) (+ \(run.refreshes) refreshes of a request id, ignored; \(malformed.count) malformed, dead-lettered)")
        say("  confirmed              \(run.count("confirmed"))")
        say("  rejected               \(run.count("rejected"))  \(run.rejections.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))")
        say("  hold expired           \(run.count("expired"))")
        say("  payment failed         \(run.count("payment_failed"))")
        say("  waitlisted at chart    \(run.count("not_confirmed")) (not confirmed)")
        say("  stuck                  \(stuck)\(stuck > 0 ? "  e.g. " + run.unfinished.prefix(5).joined(separator: ", ") : "")")
        for inventory in reference.inventories {
            let audit = audits[inventory.key] ?? InventoryBook.Audit()
            say(
                "  \(inventory.key.padding(toLength: 22, withPad: " ", startingAt: 0)) sold \(audit.booked) of \(audit.quota), held \(audit.held), free \(audit.free)"
            )
        }
        say("promotions               \(analytics.promoted) from the waitlist; late payments \(run.latePayments), refunded \(run.refunds)")
        // End to end: the burst's requests over the log's span from the first request to the last first decision.
        say(
            "bookings end to end      \(decisions.decidedPerSecond) requests/s decided through the gate and the inventory (\(decisions.decided) burst requests held, waitlisted or rejected in \(String(format: "%.1f", decisions.decisionSpanSeconds)) s, first request to last decision)"
        )
        say("latency request→placed   p50 \(Int(run.p50Milliseconds)) ms, p99 \(Int(run.p99Milliseconds)) ms (held or waitlisted)")
        say(
            "burst                    \(String(format: "%.0f", stats.admissionRate)) requests/s decided by the gate; drained \(String(format: "%.1f", stats.drainSeconds(after: burstSent))) s after the last request was sent; peak backlog at the gate \(stats.peakBacklog) requests"
        )
        say("revenue                  ₹\(revenue / 100) in the inventory, ₹\(analytics.revenuePaise / 100) in analytics")
        say("checks                   seat conflicts \(run.seatConflicts), waitlisted while seats were free \(run.waitlistedWhileFree), promotions out of order \(run.promotionsOutOfOrder), missed promotions \(run.missedPromotions), late expiries \(run.lateExpiries) (tolerance \(TatkalObserver.expiryTolerance) ms), unrefunded late payments \(run.unrefundedLatePayments), chart mismatches \(run.chartMismatches)")
        say("dead letters             \(run.deadLetters.count) (\(unexpectedDeadLetters.count) not of a malformed record)")
        say("duplicate effects        \(duplicates) (\(storeDuplicates.joined(separator: ", ")))")
        if chaos { say("chaos                    kills \(kills) (SIGKILL of the inventory at the peak, then a restart)") }
        say("elapsed                  \(String(format: "%.1f", DemoConsole.seconds(elapsed))) s")

        var verdict = DemoVerdict(prefix: "dabba-demo")
        verdict.add("system", "tatkal")
        verdict.add("requests", requestIDs.count)
        verdict.add("confirmed", run.count("confirmed"))
        verdict.add("waitlisted", run.count("not_confirmed"))
        verdict.add("rejected", run.count("rejected"))
        verdict.add("expired", run.count("expired"))
        verdict.require("oversold", oversold, equals: 0)
        verdict.require("seat_conflicts", run.seatConflicts, equals: 0)
        verdict.require("late_expiries", run.lateExpiries, equals: 0)
        verdict.require("stuck", stuck, equals: 0)
        verdict.require("duplicate_effects", duplicates, equals: 0)
        verdict.add("p99_ms", Int(run.p99Milliseconds))
        verdict.add("bookings_per_s", decisions.decidedPerSecond)
        verdict.require(run.waitlistedWhileFree == 0, "\(run.waitlistedWhileFree) requests waitlisted while seats were free")
        verdict.require(run.promotionsOutOfOrder == 0, "\(run.promotionsOutOfOrder) holds out of waitlist order")
        verdict.require(run.missedPromotions == 0, "\(run.missedPromotions) promotions missed")
        verdict.require(run.unrefundedLatePayments == 0, "\(run.unrefundedLatePayments) late payments not refunded")
        verdict.require(run.chartMismatches == 0, "\(run.chartMismatches) charts differ from the waitlist")
        verdict.require(confirmedInStore == run.count("confirmed"), "the inventory confirmed \(confirmedInStore), the log \(run.count("confirmed"))")
        verdict.require(
            analytics.revenuePaise == revenue && analytics.confirmed == confirmedInStore,
            "analytics (\(analytics.line)) differs from the inventory (revenue \(revenue), confirmed \(confirmedInStore))")
        verdict.require(unexpectedDeadLetters.isEmpty, "\(unexpectedDeadLetters.count) records dead-lettered that were not malformed")
        verdict.require(
            Set(run.deadLetters.map(\.eventID)) == malformed,
            "not every malformed record was dead-lettered")
        verdict.require(run.undecodable == 0, "\(run.undecodable) records did not decode")
        for violation in verdict.violations { say("FAILED: \(violation)") }
        let kept = workspace.keep || !verdict.passed
        say("stores and logs          \(directory)\(kept ? "" : " (removed; --keep keeps them)")")
        say(verdict.line)
        if !kept { try? FileManager.default.removeItem(atPath: directory) }
        if !verdict.passed { throw ExitCode(verdict.exitStatus) }
    }

    /// Takes gateway gw-b down `seconds` from now for `--outage-seconds`, then brings it back.
    private func gatewayOutage(in seconds: Double, control: String) -> Task<Void, any Error> {
        Task {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            try ControlFile.write(GatewayConditions(down: ["gw-b"]), to: control)
            DemoConsole.note("gateway gw-b is down")
            try await Task.sleep(for: .milliseconds(Int(outageSeconds * 1000)))
            try ControlFile.write(GatewayConditions.healthy, to: control)
            DemoConsole.note("gateway gw-b is back")
        }
    }

    /// Encodes the burst's records on every core, request `i` stamped `i / count × seconds` after the opening.
    private static func encode(_ load: [TatkalRequest], opensAt: Date, over seconds: Double, with events: EventProducer)
        async throws -> [ProducerMessage]
    {
        let chunks = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let size = (load.count + chunks - 1) / chunks
        return try await withThrowingTaskGroup(of: (Int, [ProducerMessage]).self) { group in
            for chunk in 0..<chunks {
                let range = (chunk * size)..<min(load.count, (chunk + 1) * size)
                group.addTask {
                    let messages = try range.map { index in
                        var event = load[index].event
                        event.requestedAt = opensAt.addingTimeInterval(Double(index) / Double(load.count) * seconds)
                        var metadata = EventMetadata(id: load[index].eventID)
                        metadata.time = event.requestedAt
                        return try events.message(for: event, metadata: metadata)
                    }
                    return (chunk, messages)
                }
            }
            var parts: [Int: [ProducerMessage]] = [:]
            for try await (chunk, messages) in group { parts[chunk] = messages }
            return (0..<chunks).flatMap { parts[$0] ?? [] }
        }
    }

    /// Sends records the catalog's schema refuses (no passengers): each is dead-lettered by the groups reading
    /// `tatkal.requests`.
    private func sendMalformed(_ events: EventProducer, count: Int) async throws -> Set<String> {
        var ids = Set<String>()
        for index in 1...count {
            let id = "MALFORMED\(index)"
            let json = #"{"requestId":"\#(id)","userId":"user1","trainNumber":"12951","journeyDate":"2026-12-08","travelClass":"3A","passengers":[],"requestedAt":"2026-12-07T04:30:00Z"}"#
            let message = try events.message(
                type: BookingRequested.eventType, version: BookingRequested.schemaVersion, payload: Array(json.utf8),
                key: "12951/2026-12-08/3A", metadata: EventMetadata(id: id))
            _ = try await events.producer.send(message)
            ids.insert(id)
        }
        return ids
    }

    /// SIGKILLs the inventory once it is busiest (a few hundred requests admitted), restarts it a second later.
    private func killAtPeak(_ service: ServiceProcess?, observer: TatkalObserver, ids: [String]) async throws -> Int {
        guard let service else { return 0 }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(120))
        while clock.now < deadline {
            let run = observer.snapshot(of: ids)
            if (run.byState["held"] ?? 0) + (run.byState["waitlisted"] ?? 0) >= 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        DemoConsole.note("chaos: SIGKILL \(service.name) (pid \(service.pid)) at the peak")
        let killedAt = Date()
        let joins = service.log.components(separatedBy: "partitions assigned").count
        service.send(SIGKILL)
        _ = await service.waitForExit(timeout: .seconds(10))
        try await Task.sleep(for: .seconds(1))
        try service.restart()
        while clock.now < deadline, service.log.components(separatedBy: "partitions assigned").count <= joins {
            try await Task.sleep(for: .milliseconds(50))
        }
        observer.noteInventoryOutage(from: killedAt, to: Date())
        DemoConsole.note(
            "chaos: restarted \(service.name) (pid \(service.pid)); it had its partitions again after \(String(format: "%.1f", Date().timeIntervalSince(killedAt))) s")
        return 1
    }

    /// Waits until analytics agrees with the inventory and the log on confirmations and revenue (or 60 s passed).
    private func settle(inventory: StoreReader, analytics: StoreReader, observer: TatkalObserver, ids: [String])
        async throws -> Bool
    {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(60))
        while clock.now < deadline {
            let confirmed = observer.snapshot(of: ids).count("confirmed")
            let audits = try await inventory.read { try InventoryBook.audit($0) }
            let totals = try await analytics.read { try TatkalReport.totals($0) }
            let revenue = audits.values.reduce(0) { $0 + $1.revenuePaise }
            if totals.confirmed == confirmed, totals.revenuePaise == revenue,
                audits.values.reduce(0, { $0 + $1.confirmed }) == confirmed
            {
                return true
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        return false
    }
}
