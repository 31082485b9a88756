// rides-analytics: outcomes per zone (matched, expired, completed, rejected, cancelled), match and expiry rates,
// request → match latency, revenue and the surge results; `rides-analytics --report` prints them from its store.
import ArgumentParser
import DabbaEvents
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import RidesDomain
import RidesRuntime

@main
struct AnalyticsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rides-analytics", abstract: "Match and expiry rates, match latency, revenue, surge (--report).")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    @Flag(help: "Print the report from the store (--inbox sqlite:PATH) and exit, without consuming.")
    var report = false

    func run() async throws {
        try demo.check(options, system: ridesSystem)
        if report {
            let path = try sqliteStorePath(inbox: options.inbox, group: "rides-analytics", instanceID: options.instanceID)
            let store = try SQLiteInbox(path: path)
            try await store.migrate(RidesReport.migrations)
            for line in try await store.withConnection({ try RidesReport.lines($0) }) { print(line) }
            return
        }
        var pipeline = Pipeline(service: "rides-analytics", groupID: "rides-analytics")
        let handled: [any Event.Type] = [
            RideRequested.self, RideRejected.self, RideMatched.self, RideExpired.self, RideCancelled.self,
            TripCompleted.self, SurgeUpdated.self,
        ]
        pipeline.ignoreOthers(of: rideEventTypes, handled: handled)
        pipeline.on(RideRequested.self) { event, context in
            try RidesReport.outcome(event.rideId, zone: event.pickupZone, "requested", in: try ridesDatabase(context))
        }
        pipeline.on(RideRejected.self) { event, context in
            try RidesReport.outcome(event.rideId, zone: event.pickupZone, "rejected", in: try ridesDatabase(context))
        }
        pipeline.on(RideMatched.self) { event, context in
            let database = try ridesDatabase(context)
            try RidesReport.outcome(event.rideId, zone: event.pickupZone, "matched", in: database)
            _ = try database.execute(
                "INSERT INTO analytics_matches (ride_id, zone, ms, multiplier) VALUES (?, ?, ?, ?) ON CONFLICT (ride_id) DO NOTHING",
                [
                    .text(event.rideId), .text(event.pickupZone),
                    .integer(Int64((event.matchedAt.timeIntervalSince(event.requestedAt) * 1000).rounded())),
                    .double(event.multiplier),
                ])
        }
        pipeline.on(RideExpired.self) { event, context in
            try RidesReport.outcome(event.rideId, zone: event.pickupZone, "expired", in: try ridesDatabase(context))
        }
        pipeline.on(RideCancelled.self) { event, context in
            guard event.cancelled else { return }
            try RidesReport.outcome(event.rideId, zone: event.pickupZone, "cancelled", in: try ridesDatabase(context))
        }
        pipeline.on(TripCompleted.self) { event, context in
            let database = try ridesDatabase(context)
            try RidesReport.outcome(event.rideId, zone: event.pickupZone, "completed", in: database)
            _ = try database.execute(
                "INSERT INTO analytics_fares (ride_id, fare_paise) VALUES (?, ?) ON CONFLICT (ride_id) DO NOTHING",
                [.text(event.rideId), .integer(Int64(event.farePaise))])
        }
        pipeline.on(SurgeUpdated.self) { event, context in
            _ = try ridesDatabase(context).execute(
                "INSERT INTO analytics_surge (zone, window_start_ms, multiplier) VALUES (?, ?, ?) ON CONFLICT (zone, window_start_ms) DO NOTHING",
                [.text(event.pickupZone), .integer(event.windowStart.rideMilliseconds), .double(event.multiplier)])
        }
        try await PipelineService.run(
            pipeline, options: options, migrations: RidesReport.migrations, configure: { demo.apply(to: &$0) })
    }
}
