// rides-dispatch: matches each request to the best available driver nearby. It keeps a table of every driver's last
// position, duty and current ride (rows of its inbox database, from the compacted rides.drivers; a stale report,
// older than the last, is ignored) and the open requests. A request is matched at once when a free, on-duty,
// compatible driver with a fresh report is within 3 km (the best score: distance, then rating), or waits until one
// reports nearby or finishes a trip, or until its deadline (a durable timer, counted from the request's time), when
// it expires. The driver is marked
// busy in the same transaction as the match, with a conditional update, so no driver is ever on two rides; a trip's
// completion frees it. Dispatch also feeds surge: one zone activity per request and per expiry, and a sample of each
// zone's free drivers every 5 s of wall-clock time (not scaled with the timers, so surge windows always see
// samples); and it prices each match with the zone's multiplier then in force.
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
struct DispatchService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rides-dispatch", abstract: "Driver positions, open requests, matching, expiry and surge activity.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: ridesSystem)
        let dispatch = Dispatch(reference: .standard)
        var pipeline = Pipeline(service: "rides-dispatch", groupID: "rides-dispatch")
        pipeline.emits(RideSamples.rejected)
        pipeline.emits(RideSamples.matched)
        pipeline.emits(RideSamples.expired)
        pipeline.emits(RideSamples.cancelled)
        pipeline.emits(RideSamples.activity)
        let handled: [any Event.Type] = [
            DriverLocationUpdated.self, RideRequested.self, RideExpiryDue.self, RideCancelRequested.self,
            SurgeUpdated.self, TripStarted.self, TripCompleted.self, SupplySampleDue.self,
        ]
        pipeline.ignoreOthers(of: rideEventTypes + driverEventTypes, handled: handled)
        pipeline.on(DriverLocationUpdated.self, dispatch.located)
        pipeline.on(RideRequested.self, dispatch.requested)
        pipeline.on(RideExpiryDue.self, dispatch.expire)
        pipeline.on(RideCancelRequested.self, dispatch.cancel)
        pipeline.on(SurgeUpdated.self) { result, context in try DispatchBook.setSurge(result, in: try ridesDatabase(context)) }
        pipeline.on(TripStarted.self) { trip, context in
            _ = try DispatchBook.move(trip.rideId, from: "matched", to: "started", in: try ridesDatabase(context))
        }
        pipeline.on(TripCompleted.self, dispatch.completed)
        pipeline.on(SupplySampleDue.self, dispatch.sample)
        try await PipelineService.run(
            pipeline, options: options, migrations: ServiceEffects.migrations + DispatchBook.migrations,
            configure: { configuration in
                demo.apply(to: &configuration)
                // Matches depend on drivers' reports from another topic and on timers: what a batch emitted must
                // commit with the table it read, or not at all (Docs/pipelines.md, "Transactional outbox").
                configuration.outbox.enabled = true
            })
    }
}

/// Dispatch's handlers.
struct Dispatch: Sendable {
    let reference: RideReference

    /// Zones whose centre is close enough for a point within 3 km of `point` to be in them.
    func zones(near point: GeoPoint) -> [String] {
        reference.zones.filter {
            RideRules.distanceKm($0.centre, point) <= RideRules.matchRadiusKm + RideRules.zoneRadiusKm
        }.map(\.name)
    }

    var freshSince: Int64 {
        Date().addingTimeInterval(-Double(RideRules.freshness.components.seconds)).rideMilliseconds
    }

    /// A driver's report: the table follows it; a free driver may take the oldest open request nearby.
    @Sendable func located(_ report: DriverLocationUpdated, _ context: EventContext) async throws {
        let database = try ridesDatabase(context)
        guard RideRules.area.latitude.contains(report.position.latitude),
            RideRules.area.longitude.contains(report.position.longitude)
        else {
            throw PermanentError(
                HandlerFailure(
                    "\(report.driverId) reported \(report.position.latitude),\(report.position.longitude), outside the service area"))
        }
        let known = try DispatchBook.driver(report.driverId, in: database)
        if let known, known.reportedMilliseconds >= report.reportedAt.rideMilliseconds {
            try DispatchBook.count("stale_reports", in: database)
            return
        }
        let zone = reference.zone(of: report.position)?.name
        try DispatchBook.record(report, zone: zone, in: database)
        guard report.onDuty, known?.rideId == nil else { return }
        let driver = DispatchBook.Driver(
            driverId: report.driverId, vehicle: report.vehicle, rating: report.rating, position: report.position,
            zone: zone, onDuty: true, reportedMilliseconds: report.reportedAt.rideMilliseconds, rideId: nil)
        try await offer(driver, context, database)
    }

    /// A request: refused, or opened (with its deadline) and matched at once when a driver is near.
    @Sendable func requested(_ request: RideRequested, _ context: EventContext) async throws {
        let database = try ridesDatabase(context)
        guard try DispatchBook.ride(request.rideId, in: database) == nil else { return }
        if let (reason, detail) = RideRules.check(request, reference: reference) {
            // A resend of a refused request is refused once.
            guard try DispatchBook.refuse(request.rideId, in: database) else { return }
            try await context.emit(
                RideRejected(
                    rideId: request.rideId, pickupZone: request.pickupZone, reason: reason, detail: detail,
                    rejectedAt: Date()))
            return
        }
        guard let type = RideType(rawValue: request.rideType) else { return }
        // The deadline counts from the rider's request, not from when dispatch got to it: a request that waited
        // in a backlog past its deadline expires at once rather than being matched late.
        let deadline = try context.timers.schedule(
            RideExpiryDue(rideId: request.rideId, pickupZone: request.pickupZone), id: "expiry:\(request.rideId)",
            after: RideRules.matchDeadline, from: request.requestedAt)
        try DispatchBook.open(request, type: type, deadline: deadline, in: database)
        try await context.emit(ZoneActivity(pickupZone: request.pickupZone, requests: 1))
        if try DispatchBook.startSampling(request.pickupZone, in: database) {
            // The first sample at once, then every 5 s.
            try context.timers.schedule(SupplySampleDue(pickupZone: request.pickupZone), id: "sample", at: Date())
        }
        guard let ride = try DispatchBook.ride(request.rideId, in: database), deadline > Date() else { return }
        let candidates = try DispatchBook.freeDrivers(in: zones(near: request.pickup), freshSince: freshSince, in: database)
            .compactMap { driver -> (DispatchBook.Driver, Double)? in
                let km = RideRules.distanceKm(driver.position, request.pickup)
                guard km <= RideRules.matchRadiusKm, RideRules.compatible(driver.vehicle, for: type) else { return nil }
                return (driver, RideRules.score(distanceKm: km, rating: driver.rating))
            }
            .sorted { $0.1 == $1.1 ? $0.0.driverId < $1.0.driverId : $0.1 < $1.1 }
        for (driver, _) in candidates where try await match(ride, driver, context, database) { return }
    }

    /// The deadline: a request still open expires.
    @Sendable func expire(_ due: RideExpiryDue, _ context: EventContext) async throws {
        let database = try ridesDatabase(context)
        guard try DispatchBook.move(due.rideId, from: "open", to: "expired", in: database) else { return }
        let deadline =
            try database.query("SELECT deadline_ms FROM rides_rides WHERE ride_id = ?", [.text(due.rideId)]).first?[0]
            .integerValue ?? 0
        try ServiceEffects.record("expire:\(due.rideId)", context: context, in: database)
        try await context.emit(
            RideExpired(
                rideId: due.rideId, pickupZone: due.pickupZone, deadline: Date(rideMilliseconds: deadline),
                expiredAt: Date()))
        try await context.emit(ZoneActivity(pickupZone: due.pickupZone, unmatched: 1))
    }

    /// A rider's cancellation: an open request is cancelled; any other stays as it is.
    @Sendable func cancel(_ request: RideCancelRequested, _ context: EventContext) async throws {
        let database = try ridesDatabase(context)
        let state =
            try DispatchBook.ride(request.rideId, in: database)?.state
            ?? (DispatchBook.wasRefused(request.rideId, in: database) ? "rejected" : "unknown")
        let cancelled = try state == "open" && DispatchBook.move(request.rideId, from: "open", to: "cancelled", in: database)
        if cancelled { try context.timers.cancel(id: "expiry:\(request.rideId)") }
        try await context.emit(
            RideCancelled(
                rideId: request.rideId, pickupZone: request.pickupZone, cancelled: cancelled, stateBefore: state,
                decidedAt: Date()))
    }

    /// A trip ended: its driver is free and may take the oldest open request nearby.
    @Sendable func completed(_ trip: TripCompleted, _ context: EventContext) async throws {
        let database = try ridesDatabase(context)
        _ = try DispatchBook.move(trip.rideId, from: "started", to: "completed", in: database)
        guard let driverId = try DispatchBook.release(rideOf: trip.rideId, in: database),
            let driver = try DispatchBook.driver(driverId, in: database), driver.onDuty,
            driver.reportedMilliseconds >= freshSince
        else { return }
        try await offer(driver, context, database)
    }

    /// A zone's supply sample, and the next one.
    @Sendable func sample(_ due: SupplySampleDue, _ context: EventContext) async throws {
        let database = try ridesDatabase(context)
        let free = try DispatchBook.freeDrivers(in: [due.pickupZone], freshSince: freshSince, in: database).count
        try await context.emit(ZoneActivity(pickupZone: due.pickupZone, freeDrivers: free))
        try context.timers.schedule(due, id: "sample", at: RideRules.nextSample())
    }

    /// Gives a free driver the oldest open request it can serve within 3 km.
    private func offer(_ driver: DispatchBook.Driver, _ context: EventContext, _ database: any InboxTransaction)
        async throws
    {
        let now = Date().rideMilliseconds
        for ride in try DispatchBook.openRides(in: zones(near: driver.position), in: database)
        where ride.deadlineMilliseconds > now && RideRules.distanceKm(driver.position, ride.pickup) <= RideRules.matchRadiusKm
            && RideRules.compatible(driver.vehicle, for: ride.rideType)
        {
            if try await match(ride, driver, context, database) { return }
        }
    }

    /// Marks the driver busy and the ride matched (both conditional), prices it and announces it.
    private func match(
        _ ride: DispatchBook.Ride, _ driver: DispatchBook.Driver, _ context: EventContext, _ database: any InboxTransaction
    ) async throws -> Bool {
        guard try DispatchBook.assign(driver.driverId, to: ride.rideId, in: database) else { return false }
        guard try DispatchBook.move(ride.rideId, from: "open", to: "matched", driver: driver.driverId, in: database) else {
            _ = try DispatchBook.release(rideOf: ride.rideId, in: database)
            return false
        }
        let surge = try DispatchBook.surge(of: ride.zone, in: database)
        let pickupKm = RideRules.distanceKm(driver.position, ride.pickup)
        try ServiceEffects.record("match:\(ride.rideId)", context: context, in: database)
        try await context.emit(
            RideMatched(
                rideId: ride.rideId, riderId: ride.riderId, pickupZone: ride.zone, driverId: driver.driverId,
                vehicle: driver.vehicle,
                driverFix: DriverFix(point: driver.position, reportedAt: Date(rideMilliseconds: driver.reportedMilliseconds)),
                pickupKm: pickupKm, etaSeconds: RideRules.seconds(forKm: pickupKm), tripKm: ride.tripKm,
                multiplier: surge.multiplier, surgeWindowStart: surge.windowStart,
                fareEstimatePaise: RideRules.farePaise(vehicle: driver.vehicle, tripKm: ride.tripKm, multiplier: surge.multiplier),
                requestedAt: Date(rideMilliseconds: ride.requestedMilliseconds), matchedAt: Date()))
        return true
    }
}
