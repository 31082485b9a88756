import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import RidesDomain
import Synchronization

/// Watches `rides.rides` and `rides.drivers` (and the dead-letter topics) from the outside, and checks the system
/// against the log: every request ends once; no driver is on two rides at once; every match used a real report of an
/// on-duty driver of a compatible vehicle within 3 km, and the multiplier then in force; every trip's fare follows
/// from its match; and the surge windows, folded from dispatch's zone activity exactly as the surge service folds
/// them (by stream time per partition, with the same grace), give exactly one result per zone and closed window,
/// equal to the one in the log.
public final class RidesObserver: Sendable {
    struct Ride {
        var state = "requested"
        var request: RideRequested?
        var match: RideMatched?
        var requestedMilliseconds: Int64?
        var matchedMilliseconds: Int64?
        /// When it reached its terminal state (the record's timestamp).
        var finishedMilliseconds: Int64?
        /// Offsets of the surge results of the zone seen before the request (the newest one's window start).
        var newestSurgeBefore: Int64?
    }

    struct WindowKey: Hashable {
        var zone: String
        var start: Int64
    }

    struct State {
        var rides: [String: Ride] = [:]
        var resends = 0
        var drivers: [String: DriverLocationUpdated] = [:]
        var fixDetails: [String: DriverLocationUpdated] = [:]
        var busy: [String: String] = [:]
        /// Each driver's rides, match to drop, by the rides' own times (see ``DriverShifts``).
        var shifts = DriverShifts()
        var invalidMatches: [String] = []
        var wrongMultipliers: [String] = []
        var wrongFares: [String] = []
        var expiries: [(due: Int64, at: Int64)] = []
        var outages: [(from: Int64, to: Int64)] = []
        var tallies: [WindowKey: SurgeTally] = [:]
        var streamTime: [Int32: Int64] = [:]
        var lateActivity = 0
        var results: [WindowKey: [SurgeUpdated]] = [:]
        /// Per zone, the newest surge result's window start, as the log goes.
        var newestSurge: [String: Int64] = [:]
        var surgeMultipliers: [WindowKey: Double] = [:]
        var cancellationsRefused = 0
        var undecodable = 0
    }

    final class Tracker: Sendable {
        let state = Mutex(State())
        let windowMilliseconds: Int64
        init(windowMilliseconds: Int64) {
            self.windowMilliseconds = windowMilliseconds
        }
    }

    private let tracker: Tracker
    private let watcher: EventLogWatcher
    /// How late a request may expire after its deadline (the timer poll, a batch in hand, a loaded machine).
    public static let expiryTolerance: Int64 = 3000

    /// Creates an observer (call ``run()`` to start reading).
    /// - Parameter surgeWindow: The surge service's window length.
    public init(
        bootstrap: String, deadLetterTopics: [String], surgeWindow: Duration,
        logger: Logger
    ) throws {
        let tracker = Tracker(windowMilliseconds: Int64(surgeWindow.components.seconds) * 1000)
        self.tracker = tracker
        watcher = try EventLogWatcher(
            bootstrap: bootstrap, mainTopics: [ridesTopic, driversTopic], deadLetterTopics: deadLetterTopics,
            groupPrefix: "rides-observer", logger: logger
        ) { message, type, timestamp in
            tracker.state.withLock { state in Self.track(message, type: type, timestamp: timestamp, tracker, in: &state) }
        }
    }

    /// Whether the consumer has its partitions.
    public var isAssigned: Bool { watcher.isAssigned }
    /// Reads until ``stop()``.
    public func run() async throws { try await watcher.run() }
    /// Stops reading.
    public func stop() async { await watcher.stop() }

    /// Records that dispatch was down, or behind a burst larger than it can read before the deadlines, from `from`
    /// until it had caught up with its backlog at `to`: expiries from then until dispatch is timely again are excused
    /// (see ``RidesRun/recoveryMilliseconds``).
    public func noteDispatchOutage(from: Date, to: Date) {
        tracker.state.withLock { $0.outages.append((from.rideMilliseconds, to.rideMilliseconds)) }
    }

    /// Drivers matched and not yet dropped (so the demo can take some of them off duty).
    public var busyDrivers: [String: String] { tracker.state.withLock { $0.busy } }

    private static func decode<E: Decodable>(_ type: E.Type, _ message: KafkaMessage) -> E? {
        EventLogWatcher.payload(type, of: message)
    }

    private static func track(
        _ message: KafkaMessage, type: String, timestamp: Int64, _ tracker: Tracker, in state: inout State
    ) {
        switch type {
        case DriverLocationUpdated.eventType:
            guard let report = decode(DriverLocationUpdated.self, message) else { state.undecodable += 1; return }
            let at = report.reportedAt.rideMilliseconds
            let inArea =
                RideRules.area.latitude.contains(report.position.latitude)
                && RideRules.area.longitude.contains(report.position.longitude)
            guard inArea else { return }
            state.fixDetails["\(report.driverId)@\(at)"] = report
            if (state.drivers[report.driverId]?.reportedAt.rideMilliseconds ?? .min) < at {
                state.drivers[report.driverId] = report
            }
        case RideRequested.eventType:
            guard let request = decode(RideRequested.self, message) else { state.undecodable += 1; return }
            guard state.rides[request.rideId]?.request == nil else {
                state.resends += 1
                return
            }
            state.rides[request.rideId, default: Ride()].request = request
            state.rides[request.rideId]?.requestedMilliseconds = timestamp
            state.rides[request.rideId]?.newestSurgeBefore = state.newestSurge[request.pickupZone]
        case RideRejected.eventType:
            guard let event = decode(RideRejected.self, message) else { state.undecodable += 1; return }
            state.rides[event.rideId, default: Ride()].state = "rejected"
            state.rides[event.rideId]?.finishedMilliseconds = timestamp
        case RideMatched.eventType:
            guard let match = decode(RideMatched.self, message) else { state.undecodable += 1; return }
            state.rides[match.rideId, default: Ride()].state = "matched"
            state.rides[match.rideId]?.match = match
            state.rides[match.rideId]?.matchedMilliseconds = timestamp
            // Not judged here: the driver's previous drop may be on another partition, not read yet.
            state.shifts.matched(match.rideId, driver: match.driverId, at: match.matchedAt)
            state.busy[match.driverId] = match.rideId
            check(match, state.rides[match.rideId]?.request, &state)
        case RideExpired.eventType:
            guard let event = decode(RideExpired.self, message) else { state.undecodable += 1; return }
            state.rides[event.rideId, default: Ride()].state = "expired"
            state.rides[event.rideId]?.finishedMilliseconds = timestamp
            state.expiries.append((event.deadline.rideMilliseconds, timestamp))
        case RideCancelled.eventType:
            guard let event = decode(RideCancelled.self, message) else { state.undecodable += 1; return }
            if event.cancelled {
                state.rides[event.rideId, default: Ride()].state = "cancelled"
                state.rides[event.rideId]?.finishedMilliseconds = timestamp
            } else {
                state.cancellationsRefused += 1
            }
        case TripStarted.eventType:
            guard let event = decode(TripStarted.self, message) else { state.undecodable += 1; return }
            state.rides[event.rideId, default: Ride()].state = "started"
        case TripCompleted.eventType:
            guard let trip = decode(TripCompleted.self, message) else { state.undecodable += 1; return }
            state.rides[trip.rideId, default: Ride()].state = "completed"
            state.rides[trip.rideId]?.finishedMilliseconds = timestamp
            if state.busy[trip.driverId] == trip.rideId { state.busy[trip.driverId] = nil }
            state.shifts.completed(trip.rideId, driver: trip.driverId, at: trip.completedAt)
            let match = state.rides[trip.rideId]?.match
            let fare = RideRules.farePaise(vehicle: trip.vehicle, tripKm: trip.tripKm, multiplier: trip.multiplier)
            if match?.multiplier != trip.multiplier || match?.vehicle != trip.vehicle || fare != trip.farePaise {
                state.wrongFares.append(trip.rideId)
            }
        case ZoneActivity.eventType:
            // Folded as the surge window folds it: by ce_time, late by the partition's stream time and the grace.
            guard let activity = decode(ZoneActivity.self, message) else { state.undecodable += 1; return }
            let time = message.header("ce_time").flatMap { RFC3339.parse($0) }.map {
                Int64(($0.timeIntervalSince1970 * 1000).rounded(.down))
            } ?? timestamp
            let size = tracker.windowMilliseconds
            let start = (time >= 0 ? time / size : (time - size + 1) / size) * size
            let grace = Int64(SurgeTally.grace.components.seconds) * 1000
            let streamTime = state.streamTime[message.partition] ?? .min
            if start + size + grace <= streamTime {
                state.lateActivity += 1
            } else {
                let key = WindowKey(zone: activity.pickupZone, start: start)
                state.tallies[key] = (state.tallies[key] ?? SurgeTally()).adding(activity)
            }
            state.streamTime[message.partition] = max(streamTime, time)
        case SurgeUpdated.eventType:
            guard let result = decode(SurgeUpdated.self, message) else { state.undecodable += 1; return }
            let key = WindowKey(zone: result.pickupZone, start: result.windowStart.rideMilliseconds)
            state.results[key, default: []].append(result)
            state.surgeMultipliers[key] = result.multiplier
            state.newestSurge[result.pickupZone] = max(state.newestSurge[result.pickupZone] ?? .min, key.start)
        default:
            return
        }
    }

    /// Checks a match's multiplier against the log (the zone's results are on the match's partition, before it);
    /// its driver's report is checked in ``snapshot(of:)``.
    private static func check(_ match: RideMatched, _ request: RideRequested?, _ state: inout State) {
        guard request != nil else {
            state.invalidMatches.append("\(match.rideId): no request")
            return
        }
        // The driver's report is checked in ``snapshot(of:)``: it is on another topic, read in its own order.
        // The multiplier: the result named by the match (1 without one), at least as new as the zone's newest result
        // before the request.
        let used = match.surgeWindowStart.map { $0.rideMilliseconds }
        let expected = used.flatMap { state.surgeMultipliers[WindowKey(zone: match.pickupZone, start: $0)] } ?? 1
        let newestBefore = state.rides[match.rideId]?.newestSurgeBefore
        if expected != match.multiplier || (newestBefore != nil && (used ?? .min) < (newestBefore ?? .min)) {
            state.wrongMultipliers.append(match.rideId)
        }
    }

    /// What the log shows now for the rides `ids`, checked.
    public func snapshot(of ids: [String]) -> RidesRun {
        let counts = watcher.counts
        return tracker.state.withLock { state in
            var run = RidesRun()
            run.requests = ids.count
            var waits: [Double] = []
            var firstRequested: Int64?
            var lastFinished: Int64?
            for id in ids {
                let ride = state.rides[id]
                let current = ride?.request == nil && ride?.state == "requested" ? "not_sent_yet" : ride?.state ?? "not_sent_yet"
                run.byState[current, default: 0] += 1
                if !RidesRun.terminalStates.contains(current) { run.unfinished.append(id) }
                if let requested = ride?.requestedMilliseconds { firstRequested = min(firstRequested ?? requested, requested) }
                if RidesRun.terminalStates.contains(current), let finished = ride?.finishedMilliseconds {
                    lastFinished = max(lastFinished ?? finished, finished)
                }
                if let requested = ride?.request?.requestedAt, let matched = ride?.match?.matchedAt {
                    waits.append(matched.timeIntervalSince(requested) * 1000)
                }
            }
            run.p50MatchMilliseconds = Percentile.of(50, waits)
            run.p99MatchMilliseconds = Percentile.of(99, waits)
            run.matched = waits.count
            if let firstRequested, let lastFinished {
                run.loadSpanSeconds = Double(max(0, lastFinished - firstRequested)) / 1000
            }
            run.doubleAssignmentDetails = state.shifts.overlaps.map(\.description)
            run.doubleAssignments = run.doubleAssignmentDetails.count
            run.invalidMatches = state.invalidMatches
            for id in ids {
                guard let ride = state.rides[id], let match = ride.match, let request = ride.request,
                    let type = RideType(rawValue: request.rideType)
                else { continue }
                let fixAt = match.driverFix.reportedAt.rideMilliseconds
                guard let fix = state.fixDetails["\(match.driverId)@\(fixAt)"] else {
                    run.invalidMatches.append("\(match.rideId): no report of \(match.driverId) at \(fixAt)")
                    continue
                }
                let km = RideRules.distanceKm(fix.position, request.pickup)
                if !fix.onDuty || km > RideRules.matchRadiusKm + 0.001 || !RideRules.compatible(fix.vehicle, for: type)
                    || fix.vehicle != match.vehicle
                {
                    run.invalidMatches.append(
                        "\(match.rideId): \(match.driverId) on duty \(fix.onDuty), \(String(format: "%.2f", km)) km, \(fix.vehicle) for \(type)")
                }
            }
            run.wrongMultipliers = state.wrongMultipliers
            run.wrongFares = state.wrongFares
            // After a crash, dispatch meets the deadlines that fell while it was down or reading its backlog late;
            // the outage lasts until it is timely again (its first expiry after the restart within the tolerance).
            // An expiry in an outage is excused; every other one must be on time.
            let tolerance = Self.expiryTolerance
            let byTime = state.expiries.sorted { $0.at < $1.at }
            let outages = state.outages.map { outage -> (from: Int64, to: Int64) in
                let timely = byTime.first { $0.at >= outage.to && $0.at - $0.due <= tolerance }
                return (outage.from, max(outage.to, timely?.at ?? outage.to))
            }
            run.recoveryMilliseconds = outages.map { $0.to - $0.from }.max()
            let late = state.expiries.filter { $0.at - $0.due > tolerance }
            run.lateExpiries = late.filter { expiry in
                !outages.contains { expiry.at >= $0.from && expiry.at <= $0.to + tolerance }
            }.count
            run.excusedLateExpiries = late.count - run.lateExpiries
            // Surge: one result per zone and closed window, equal to the fold of the log.
            for (key, results) in state.results {
                if results.count > 1 { run.surgeMismatches.append("\(key.zone)@\(key.start): \(results.count) results") }
                let tally = state.tallies[key] ?? SurgeTally()
                let expected = tally.surge(zone: key.zone, start: results[0].windowStart, end: results[0].windowEnd)
                if results[0] != expected {
                    run.surgeMismatches.append(
                        "\(key.zone)@\(key.start): demand \(results[0].demand)/\(expected.demand) supply \(results[0].supply)/\(expected.supply) unmatched \(results[0].unmatched)/\(expected.unmatched)")
                }
            }
            let grace = Int64(SurgeTally.grace.components.seconds) * 1000
            let streamTimes = state.streamTime.values.min() ?? .min
            for key in state.tallies.keys where state.results[key] == nil {
                // Closed by every partition's stream time, yet no result.
                if key.start + tracker.windowMilliseconds + grace <= streamTimes {
                    run.surgeMismatches.append("\(key.zone)@\(key.start): no result")
                }
            }
            run.surgeResults = state.results.count
            run.maxMultiplier = state.surgeMultipliers.values.max() ?? 1
            run.lateActivity = state.lateActivity
            run.cancellationsRefused = state.cancellationsRefused
            run.resends = state.resends
            run.lastPositions = state.drivers.mapValues { $0.position }
            run.undecodable = state.undecodable
            run.events = counts.events
            run.duplicateRecords = counts.duplicateDeliveries
            run.deadLetters = counts.deadLetters
            return run
        }
    }
}

/// What the observer saw, checked.
public struct RidesRun: Sendable {
    /// The states a ride ends in.
    public static let terminalStates: Set<String> = ["completed", "expired", "rejected", "cancelled"]
    /// Rides of the load.
    public var requests = 0
    /// Rides per current state.
    public var byState: [String: Int] = [:]
    /// Rides not in a terminal state.
    public var unfinished: [String] = []
    /// Rides matched.
    public var matched = 0
    /// Request → match.
    public var p50MatchMilliseconds: Double = 0
    /// 99th percentile of the same.
    public var p99MatchMilliseconds: Double = 0
    /// From the first request to the last ride's end (completed, expired, rejected or cancelled) of the rides asked
    /// about, by record timestamps: the span the load took through the services.
    public var loadSpanSeconds: Double = 0
    /// Matches of a driver who was on another ride: matched before that ride's drop, by the rides' own times
    /// (``DriverShifts``), not by the order the observer read them in.
    public var doubleAssignments = 0
    /// The same, each as `ride: driver still on other ride`.
    public var doubleAssignmentDetails: [String] = []
    /// Matches that broke availability, distance or vehicle type, as recomputed from the log.
    public var invalidMatches: [String] = []
    /// Matches priced with a multiplier not in force.
    public var wrongMultipliers: [String] = []
    /// Fares that do not follow from their match.
    public var wrongFares: [String] = []
    /// Expiries later than their deadline plus the tolerance, outside an outage of dispatch.
    public var lateExpiries = 0
    /// Expiries later than their deadline plus the tolerance in an outage of dispatch (excused).
    public var excusedLateExpiries = 0
    /// After a crash: from the kill until dispatch met deadlines on time again (nil without one).
    public var recoveryMilliseconds: Int64?
    /// Surge windows with no result, several, or one that differs from the log's fold.
    public var surgeMismatches: [String] = []
    /// Surge results.
    public var surgeResults = 0
    /// The highest multiplier.
    public var maxMultiplier = 1.0
    /// Zone activity too late for its window (left out, as the surge window leaves it out).
    public var lateActivity = 0
    /// Cancellations of rides already matched (or ended), refused.
    public var cancellationsRefused = 0
    /// Requests sent again with a ride id seen before.
    public var resends = 0
    /// Each driver's newest position in the log (by the phone's time).
    public var lastPositions: [String: GeoPoint] = [:]
    /// Records that did not decode.
    public var undecodable = 0
    /// Distinct events.
    public var events = 0
    /// Records with an event id seen before.
    public var duplicateRecords = 0
    /// Dead-lettered records.
    public var deadLetters: [DeadLetter] = []

    /// Rides in a state.
    public func count(_ state: String) -> Int { byState[state] ?? 0 }
}
