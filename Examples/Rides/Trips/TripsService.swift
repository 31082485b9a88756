// rides-trips: the trip after a match, as the driver's app would report it: the pickup after the ETA, the drop after
// the trip's length at city speed (durable timers, scaled in the demo), and the fare at the drop — the vehicle's
// base and per-km rate times the multiplier of the match. The drop frees the driver (dispatch reads it).
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
struct TripsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rides-trips", abstract: "Trip lifecycle (pickup, drop) and the fare.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: ridesSystem)
        var pipeline = Pipeline(service: "rides-trips", groupID: "rides-trips")
        pipeline.emits(RideSamples.started)
        pipeline.emits(RideSamples.completed)
        pipeline.ignoreOthers(of: rideEventTypes, handled: [RideMatched.self, TripProgressDue.self])
        pipeline.on(RideMatched.self, Trips.matched)
        pipeline.on(TripProgressDue.self, Trips.progress)
        try await PipelineService.run(
            pipeline, options: options, migrations: ServiceEffects.migrations + Trips.migrations,
            configure: { configuration in
                demo.apply(to: &configuration)
                // The pickup and the drop are timers: what they emit commits with the trip's stage.
                configuration.outbox.enabled = true
            })
    }
}

/// The trips service's handlers.
enum Trips {
    static let migrations = [
        "CREATE TABLE IF NOT EXISTS rides_trips (ride_id TEXT PRIMARY KEY, driver_id TEXT NOT NULL, vehicle TEXT NOT NULL, trip_km DOUBLE PRECISION NOT NULL, multiplier DOUBLE PRECISION NOT NULL, stage TEXT NOT NULL)"
    ]

    /// A match: the driver heads for the pickup.
    @Sendable static func matched(_ match: RideMatched, _ context: EventContext) async throws {
        let database = try ridesDatabase(context)
        let inserted = try database.execute(
            "INSERT INTO rides_trips (ride_id, driver_id, vehicle, trip_km, multiplier, stage) VALUES (?, ?, ?, ?, ?, 'to_pickup') ON CONFLICT (ride_id) DO NOTHING",
            [
                .text(match.rideId), .text(match.driverId), .text(match.vehicle.rawValue), .double(match.tripKm),
                .double(match.multiplier),
            ])
        guard inserted == 1 else { return }
        try context.timers.schedule(
            TripProgressDue(rideId: match.rideId, pickupZone: match.pickupZone), id: "trip:\(match.rideId)",
            after: .seconds(match.etaSeconds))
    }

    /// The next step of a trip: the pickup, then the drop with the fare.
    @Sendable static func progress(_ due: TripProgressDue, _ context: EventContext) async throws {
        let database = try ridesDatabase(context)
        guard
            let row = try database.query(
                "SELECT driver_id, vehicle, trip_km, multiplier, stage FROM rides_trips WHERE ride_id = ?", [.text(due.rideId)]
            ).first, let driver = row[0].textValue, let vehicle = row[1].textValue.flatMap(RideType.init(rawValue:))
        else { return }
        let tripKm = row[2].doubleValue ?? 0
        let multiplier = row[3].doubleValue ?? 1
        switch row[4].textValue {
        case "to_pickup":
            _ = try database.execute("UPDATE rides_trips SET stage = 'on_trip' WHERE ride_id = ?", [.text(due.rideId)])
            try await context.emit(TripStarted(rideId: due.rideId, pickupZone: due.pickupZone, driverId: driver, startedAt: Date()))
            try context.timers.schedule(due, id: "trip:\(due.rideId)", after: .seconds(RideRules.seconds(forKm: tripKm)))
        case "on_trip":
            _ = try database.execute("UPDATE rides_trips SET stage = 'done' WHERE ride_id = ?", [.text(due.rideId)])
            try ServiceEffects.record("fare:\(due.rideId)", context: context, in: database)
            try await context.emit(
                TripCompleted(
                    rideId: due.rideId, pickupZone: due.pickupZone, driverId: driver, vehicle: vehicle, tripKm: tripKm,
                    multiplier: multiplier,
                    farePaise: RideRules.farePaise(vehicle: vehicle, tripKm: tripKm, multiplier: multiplier),
                    completedAt: Date()))
        default:
            return
        }
    }
}
