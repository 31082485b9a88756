// traffic-status: each zone's status from its citizens' and cameras' reports. A zone's reports are on one partition;
// the service keeps each zone's reports of the last hour in its store, numbered in the order it handles them (the
// log's order: the key order guard keeps a zone's later reports behind one that failed and waits in a retry tier),
// and a zone is heavy when seven of its last ten reports within the hour of the newest say so, light otherwise. A
// change is announced with the status it replaces, read from the same store in the same transaction. A report sent
// again with the same id counts once.
import ArgumentParser
import DabbaEvents
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import TrafficDomain
import TrafficRuntime

@main
struct StatusService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traffic-status", abstract: "Zone status from the last ten reports within the hour.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: trafficSystem)
        var pipeline = Pipeline(service: "traffic-status", groupID: "traffic-status")
        pipeline.emits(
            ZoneStatusChanged(
                zone: "WEH-Andheri", previous: .light, current: .heavy, heavyReports: 7, reports: 10,
                causeReportId: "R000042", changedAt: Date(timeIntervalSince1970: 1_796_644_800)))
        pipeline.ignoreOthers(of: trafficReportEventTypes, handled: [TrafficReported.self])
        pipeline.on(TrafficReported.self, reported)
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ServiceEffects.migrations + [
                "CREATE TABLE IF NOT EXISTS traffic_seen (report_id TEXT PRIMARY KEY)",
                "CREATE TABLE IF NOT EXISTS traffic_reports (zone TEXT NOT NULL, position BIGINT NOT NULL, heavy INTEGER NOT NULL, reported_ms BIGINT NOT NULL, PRIMARY KEY (zone, position))",
                "CREATE TABLE IF NOT EXISTS traffic_status (zone TEXT PRIMARY KEY, status TEXT NOT NULL)",
            ],
            configure: { configuration in
                demo.apply(to: &configuration)
                configuration.keyOrderGuard = true
            })
    }
}

/// Adds a report and announces a change of its zone's status.
@Sendable func reported(_ report: TrafficReported, _ context: EventContext) async throws {
    let database = try trafficDatabase(context)
    guard
        try database.execute(
            "INSERT INTO traffic_seen (report_id) VALUES (?) ON CONFLICT (report_id) DO NOTHING", [.text(report.reportId)])
            == 1
    else { return }
    // Numbered in handling order (not by offset: a report back from a retry tier has that tier's offset).
    let position =
        try database.query("SELECT COALESCE(MAX(position), 0) + 1 FROM traffic_reports WHERE zone = ?", [.text(report.zone)])
        .first?[0].integerValue ?? 1
    _ = try database.execute(
        "INSERT INTO traffic_reports (zone, position, heavy, reported_ms) VALUES (?, ?, ?, ?)",
        [
            .text(report.zone), .integer(position), .integer(report.heavy ? 1 : 0),
            .integer(Int64((report.reportedAt.timeIntervalSince1970 * 1000).rounded())),
        ])
    // Reports more than an hour older than the zone's newest never count again (the newest only moves forward).
    _ = try database.execute(
        "DELETE FROM traffic_reports WHERE zone = ? AND reported_ms < (SELECT MAX(reported_ms) FROM traffic_reports WHERE zone = ?) - ?",
        [.text(report.zone), .text(report.zone), .integer(Int64(TrafficRules.reportLifetime * 1000))])
    let rows = try database.query(
        "SELECT heavy, reported_ms FROM traffic_reports WHERE zone = ? ORDER BY position", [.text(report.zone)])
    let reports = rows.map { (heavy: $0[0].integerValue == 1, at: Date(timeIntervalSince1970: Double($0[1].integerValue ?? 0) / 1000)) }
    let now = TrafficRules.status(of: reports)
    let previous =
        try database.query("SELECT status FROM traffic_status WHERE zone = ?", [.text(report.zone)]).first?[0].textValue
        .flatMap(TrafficStatus.init(rawValue:)) ?? .unknown
    guard now.status != previous else { return }
    _ = try database.execute(
        "INSERT INTO traffic_status (zone, status) VALUES (?, ?) ON CONFLICT (zone) DO UPDATE SET status = excluded.status",
        [.text(report.zone), .text(now.status.rawValue)])
    try ServiceEffects.record("change:\(report.zone):\(report.reportId)", context: context, in: database)
    try await context.emit(
        ZoneStatusChanged(
            zone: report.zone, previous: previous, current: now.status, heavyReports: now.heavy, reports: now.counted,
            causeReportId: report.reportId, changedAt: report.reportedAt))
}
