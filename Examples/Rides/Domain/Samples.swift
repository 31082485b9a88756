import Foundation

/// Representative events of each type, for `Pipeline.emits` contract declarations and tests.
public enum RideSamples {
    static let time = Date(timeIntervalSince1970: 1_796_644_800)  // 2026-12-07T17:30:00+05:30, rush hour
    static let bkc = GeoPoint(latitude: 19.0661, longitude: 72.8651)
    static let lowerParel = GeoPoint(latitude: 18.9990, longitude: 72.8260)

    /// A request.
    public static let requested = RideRequested(
        rideId: "R000001", riderId: "rider42", pickupZone: "BKC", pickup: bkc, dropZone: "LowerParel", drop: lowerParel,
        rideType: "mini", requestedAt: time)
    /// A rejection.
    public static let rejected = RideRejected(
        rideId: "R000002", pickupZone: "BKC", reason: .malformedCoordinates,
        detail: "pickup 999.0,72.86 is outside the service area", rejectedAt: time)
    /// A match.
    public static let matched = RideMatched(
        rideId: "R000001", riderId: "rider42", pickupZone: "BKC", driverId: "d0042", vehicle: .sedan,
        driverFix: DriverFix(point: GeoPoint(latitude: 19.0702, longitude: 72.8700), reportedAt: time),
        pickupKm: 0.69, etaSeconds: 124, tripKm: 8.52, multiplier: 1.4, surgeWindowStart: time.addingTimeInterval(-60),
        fareEstimatePaise: 37400, requestedAt: time, matchedAt: time)
    /// An expiry.
    public static let expired = RideExpired(
        rideId: "R000003", pickupZone: "BKC", deadline: time.addingTimeInterval(120), expiredAt: time.addingTimeInterval(120))
    /// A rider's cancellation.
    public static let cancelRequested = RideCancelRequested(
        rideId: "R000004", pickupZone: "BKC", riderId: "rider7", requestedAt: time)
    /// Its outcome.
    public static let cancelled = RideCancelled(
        rideId: "R000004", pickupZone: "BKC", cancelled: true, stateBefore: "open", decidedAt: time)
    /// A pickup.
    public static let started = TripStarted(rideId: "R000001", pickupZone: "BKC", driverId: "d0042", startedAt: time)
    /// A drop.
    public static let completed = TripCompleted(
        rideId: "R000001", pickupZone: "BKC", driverId: "d0042", vehicle: .sedan, tripKm: 8.52, multiplier: 1.4,
        farePaise: 37400, completedAt: time)
    /// A zone's activity (a request).
    public static let activity = ZoneActivity(pickupZone: "BKC", requests: 1)
    /// A surge result.
    public static let surge = SurgeUpdated(
        pickupZone: "BKC", windowStart: time, windowEnd: time.addingTimeInterval(60), demand: 42, supply: 18, unmatched: 3,
        multiplier: 2)
    /// Dispatch's expiry timer.
    public static let expiryDue = RideExpiryDue(rideId: "R000001", pickupZone: "BKC")
    /// Dispatch's sampling timer.
    public static let sampleDue = SupplySampleDue(pickupZone: "BKC")
    /// The trips service's timer.
    public static let progressDue = TripProgressDue(rideId: "R000001", pickupZone: "BKC")
    /// A driver's report.
    public static let located = DriverLocationUpdated(
        driverId: "d0042", vehicle: .sedan, rating: 4.6, position: GeoPoint(latitude: 19.0702, longitude: 72.8700),
        onDuty: true, reportedAt: time)
}
