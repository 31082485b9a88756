// rides-notifications: tells the rider their driver is coming (with the fare estimate and ETA), that no driver was
// found, or the final fare; and the driver where to go. Each notification is recorded once per ride and kind.
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
struct NotificationsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rides-notifications", abstract: "Rider and driver notifications: matched, no driver, fare.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: ridesSystem)
        var pipeline = Pipeline(service: "rides-notifications", groupID: "rides-notifications")
        pipeline.ignoreOthers(
            of: rideEventTypes,
            handled: [RideRequested.self, RideMatched.self, RideExpired.self, RideRejected.self, TripCompleted.self])
        pipeline.on(RideRequested.self) { request, context in
            _ = try ridesDatabase(context).execute(
                "INSERT INTO rides_riders (ride_id, rider) VALUES (?, ?) ON CONFLICT (ride_id) DO NOTHING",
                [.text(request.rideId), .text(request.riderId)])
        }
        pipeline.on(RideMatched.self) { match, context in
            try notify(match.riderId, match.rideId, "matched", "\(match.driverId) arrives in \(match.etaSeconds / 60 + 1) min; about ₹\(match.fareEstimatePaise / 100)", context)
            try notify(match.driverId, match.rideId, "pickup", "pick up at \(match.pickupZone)", context)
        }
        pipeline.on(RideExpired.self) { expired, context in
            try notify(rider(of: expired.rideId, context), expired.rideId, "no_driver", "no driver found; try again", context)
        }
        pipeline.on(RideRejected.self) { rejected, context in
            try notify(rider(of: rejected.rideId, context), rejected.rideId, "rejected", rejected.detail, context)
        }
        pipeline.on(TripCompleted.self) { trip, context in
            try notify(rider(of: trip.rideId, context), trip.rideId, "fare", "₹\(trip.farePaise / 100) (×\(trip.multiplier))", context)
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ServiceEffects.migrations + [
                "CREATE TABLE IF NOT EXISTS rides_notifications (recipient TEXT NOT NULL, ride_id TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS rides_riders (ride_id TEXT PRIMARY KEY, rider TEXT NOT NULL)",
            ],
            configure: { demo.apply(to: &$0) })
    }
}

/// The rider of a ride (every ride's request is on its partition before anything about it).
private func rider(of rideId: String, _ context: EventContext) throws -> String {
    try ridesDatabase(context).query("SELECT rider FROM rides_riders WHERE ride_id = ?", [.text(rideId)]).first?[0].textValue
        ?? "rider of \(rideId)"
}

/// Records a notification (the stand-in for a push to a phone).
private func notify(_ recipient: String, _ ride: String, _ kind: String, _ text: String, _ context: EventContext) throws {
    let database = try ridesDatabase(context)
    _ = try database.execute(
        "INSERT INTO rides_notifications (recipient, ride_id, kind, text) VALUES (?, ?, ?, ?)",
        [.text(recipient), .text(ride), .text(kind), .text(text)])
    try ServiceEffects.record("notify:\(kind):\(recipient):\(ride)", context: context, in: database)
}
