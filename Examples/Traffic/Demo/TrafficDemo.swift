// traffic-demo (`make demo DEMO=traffic`): Mumbai traffic live updates on one machine. Starts the embedded broker
// with the catalog's traffic.* topics and the two services as separate processes, and sends a simulated morning of
// citizens' and cameras' reports for eight zones (with resends, stale reports and a zone that goes quiet for over
// an hour); with --chaos the status service is SIGKILLed halfway and restarted. It checks every announced change
// (and the status it replaced) against the rule folded over the log, and every subscriber's alerts, then prints:
//   dabba-demo system=traffic reports=… changes=… alerts=… status_mismatch=… missing_alerts=… duplicate_alerts=…
//   duplicate_effects=… p99_ms=… reports_per_s=…
// With --rate 0 the reports go as fast as the broker acknowledges them, and reports_per_s measures both services.
// It exits 1 when an invariant fails (see Examples/README.md).
import ArgumentParser
import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import TrafficDomain
import TrafficRuntime

@main
struct TrafficDemo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traffic-demo", abstract: "Zone status from reports, alerts to subscribers, checked against the log.")

    @Option(name: .customLong("reports-per-zone"), help: "Reports per zone over the simulated morning.")
    var reportsPerZone = 250

    @Option(help: "Reports per second (0: as fast as the broker acknowledges them, to measure throughput).")
    var rate: Double = 60

    @Option(help: "The random seed of the reports.")
    var seed: UInt64 = 20

    @OptionGroup var workspace: DemoRunOptions

    @Flag(help: "SIGKILL the status service halfway, then restart it.")
    var chaos = false

    func validate() throws {
        if reportsPerZone < 10 { throw ValidationError("--reports-per-zone must be at least 10, not \(reportsPerZone)") }
        if !(rate >= 0) { throw ValidationError("--rate must be 0 (flat out) or positive, not \(rate)") }
    }

    func run() async throws {
        var logger = Logger(label: "traffic-demo")
        logger.logLevel = .critical
        let directory = try workspace.makeWorkDirectory(for: "traffic-demo")
        let cluster = try await DemoCluster.start(
            workspace, prefix: "traffic.", mainTopic: (trafficReportsTopic, "traffic.asyncapi.yaml"), logger: logger)
        let (broker, loaded, catalog) = (cluster.broker, cluster.catalog, workspace.catalog)

        DemoConsole.step("Launching the two services")
        let services = try DemoServices(names: trafficServiceNames, logDirectory: directory) { name in
            demoServiceArguments(
                bootstrap: broker.bootstrapServers, catalog: catalog, store: "\(directory)/\(name).sqlite",
                instanceID: chaos ? "demo" : nil, fetchWait: "20ms")
        }
        services.announce()
        let interrupt = services.forwardInterrupts()
        defer { interrupt.cancel() }
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: broker.bootstrapServers), logger: logger)
        let events = EventProducer(producer: producer, source: "/traffic-loadgen", routes: EventRoutes(catalog: loaded))
        let observer = try TrafficObserver(
            bootstrap: broker.bootstrapServers, deadLetterTopics: cluster.deadLetterTopics, logger: logger)
        let observing = Task { try await observer.run() }
        try await services.waitUntilJoinedAnnounced(waiting: "reports")

        let clock = ContinuousClock()
        let started = clock.now
        let reports = TrafficLoad(seed: seed, runID: "T").reports(perZone: reportsPerZone)
        DemoConsole.step(
            "\(reports.count) reports of \(TrafficRules.zones.count) zones over a simulated morning, \(rate > 0 ? "at \(Int(rate))/s" : "flat out")\(chaos ? "; the status service is SIGKILLed halfway" : "")")
        let sender = PacedSender(events: events)
        let half = reports.count / 2
        try await sender.send(count: half, rate: rate) { (reports[$0], EventMetadata(id: "\(reports[$0].reportId)/\($0)")) }
        var kills = 0
        if chaos, let status = services["traffic-status"] {
            DemoConsole.note("chaos: SIGKILL traffic-status (pid \(status.pid))")
            status.send(SIGKILL)
            _ = await status.waitForExit(timeout: .seconds(10))
            try status.restart()
            kills = 1
        }
        try await sender.send(count: reports.count - half, rate: rate) {
            (reports[half + $0], EventMetadata(id: "\(reports[half + $0].reportId)/\(half + $0)"))
        }

        DemoConsole.step("Waiting until every change is announced and every subscriber alerted")
        let deadline = clock.now.advanced(by: .seconds(120))
        var run = observer.snapshot()
        while clock.now < deadline {
            run = observer.snapshot()
            if run.reports + run.resends == reports.count, run.changes == run.expectedChanges, run.missingAlerts == 0 { break }
            try await Task.sleep(for: .milliseconds(500))
        }
        let elapsed = clock.now - started
        DemoConsole.step("Stopping the services (SIGTERM) and the broker")
        let exitCodes = await services.stopAll()
        run = observer.snapshot()
        await observer.stop()
        observing.cancel()
        try? await producer.flush()
        broker.stop()
        DemoConsole.note(trafficServiceNames.map { "\($0) exited \(exitCodes[$0] ?? -1)" }.joined(separator: ", "))
        let (duplicates, storeDuplicates) = try await ServiceEffects.duplicates(of: trafficServiceNames, in: directory)

        DemoConsole.step("Summary")
        let say = DemoConsole.say
        say("reports                  \(run.reports) (+ \(run.resends) resent, counted once)")
        say("status changes           \(run.changes) announced, \(run.expectedChanges) by the rule over the log")
        for zone in TrafficRules.zones { say("  \(zone.padding(toLength: 22, withPad: " ", startingAt: 0)) now \(run.statuses[zone]?.rawValue ?? "unknown")") }
        say("alerts                   \(run.alerts) (missing \(run.missingAlerts), duplicate \(run.duplicateAlerts), of no change \(run.strayAlerts))")
        say("latency report→alert     p50 \(Int(run.p50Milliseconds)) ms, p99 \(Int(run.p99Milliseconds)) ms (the report that changed a zone's status, to each subscriber's alert)")
        // End to end: distinct reports over the log's span from the first report to the last report, change or alert.
        say(
            "reports end to end       \(run.reportsPerSecond) reports/s through both services (\(run.reports) reports in \(String(format: "%.1f", run.spanSeconds)) s, first report to the last report, change or alert)"
        )
        say("dead letters             \(run.deadLetters.count)")
        say("duplicate effects        \(duplicates) (\(storeDuplicates.joined(separator: ", ")))")
        if chaos { say("chaos                    kills \(kills) (SIGKILL of traffic-status halfway, then a restart)") }
        say("elapsed                  \(String(format: "%.1f", DemoConsole.seconds(elapsed))) s")
        for mismatch in run.statusMismatches.prefix(5) { say("status mismatch: \(mismatch)") }

        var verdict = DemoVerdict(prefix: "dabba-demo")
        verdict.add("system", "traffic")
        verdict.add("reports", run.reports)
        verdict.add("changes", run.changes)
        verdict.add("alerts", run.alerts)
        verdict.require("status_mismatch", run.statusMismatches.count, equals: 0)
        verdict.require("missing_alerts", run.missingAlerts, equals: 0)
        verdict.require("duplicate_alerts", run.duplicateAlerts + run.strayAlerts, equals: 0)
        verdict.require("duplicate_effects", duplicates, equals: 0)
        verdict.add("p99_ms", Int(run.p99Milliseconds))
        verdict.add("reports_per_s", run.reportsPerSecond)
        verdict.require(run.reports + run.resends == reports.count, "the log has \(run.reports + run.resends) of \(reports.count) reports")
        verdict.require(run.deadLetters.isEmpty, "\(run.deadLetters.count) records dead-lettered")
        verdict.require(run.undecodable == 0, "\(run.undecodable) records did not decode")
        for violation in verdict.violations { say("FAILED: \(violation)") }
        let kept = workspace.keep || !verdict.passed
        say("stores and logs          \(directory)\(kept ? "" : " (removed; --keep keeps them)")")
        say(verdict.line)
        if !kept { try? FileManager.default.removeItem(atPath: directory) }
        if !verdict.passed { throw ExitCode(verdict.exitStatus) }
    }
}
