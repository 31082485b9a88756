import Foundation

/// Each driver's rides as intervals, from the match (dispatch's `matchedAt`) to the drop (the trips service's
/// `completedAt`): what "no driver is on two rides at once" means, judged by the rides' own times rather than by the
/// order in which an observer happens to read them.
///
/// A ride's match and its drop are on the partition of its pickup zone, and a driver's next ride may be in another
/// zone, so on another partition: dispatch matches it as soon as it reads the previous drop (often in that very
/// transaction), yet a reader of several partitions may see the new match before the old drop. Arrival order cannot
/// tell that from a driver really matched twice; the times can: dispatch matches the next ride only after the drop
/// was emitted, so a match earlier than the drop of one of the driver's rides before it is a double assignment, and
/// so is a match while an earlier ride has no drop at all.
public struct DriverShifts: Sendable, Hashable {
    /// One ride of a driver.
    public struct Ride: Sendable, Hashable {
        /// The ride.
        public var rideId: String
        /// When dispatch matched it.
        public var matchedAt: Date
        /// When the driver dropped the rider (nil: not yet).
        public var completedAt: Date?
    }

    /// A match of a driver still on another ride.
    public struct Overlap: Sendable, Hashable, CustomStringConvertible {
        /// The driver.
        public var driverId: String
        /// The ride matched while the driver was on ``busyWith``.
        public var rideId: String
        /// The ride the driver was on.
        public var busyWith: String

        /// `B000123: d0042 still on A000045`.
        public var description: String { "\(rideId): \(driverId) still on \(busyWith)" }
    }

    private var rides: [String: [String: Ride]] = [:]

    /// No rides yet.
    public init() {}

    /// Records a match (a repeat of the same ride's match is the same ride).
    public mutating func matched(_ rideId: String, driver: String, at matchedAt: Date) {
        rides[driver, default: [:]][rideId, default: Ride(rideId: rideId, matchedAt: matchedAt)].matchedAt = matchedAt
    }

    /// Records a drop, whether or not its match was read yet.
    public mutating func completed(_ rideId: String, driver: String, at completedAt: Date) {
        rides[driver, default: [:]][rideId, default: Ride(rideId: rideId, matchedAt: .distantPast)].completedAt =
            completedAt
    }

    /// The rides of a driver, by match time.
    public func rides(of driver: String) -> [Ride] {
        (rides[driver] ?? [:]).values.sorted { ($0.matchedAt, $0.rideId) < ($1.matchedAt, $1.rideId) }
    }

    /// Every match made while the same driver was on a ride matched before it (or at the same moment) and not yet
    /// dropped, by driver and match time.
    public var overlaps: [Overlap] {
        var found: [Overlap] = []
        for driver in rides.keys.sorted() {
            // The ride of the driver's earlier ones that ends last (nil end: never dropped yet).
            var latest: Ride?
            for ride in rides(of: driver) {
                if let busy = latest, busy.completedAt.map({ $0 > ride.matchedAt }) ?? true {
                    found.append(Overlap(driverId: driver, rideId: ride.rideId, busyWith: busy.rideId))
                }
                if latest == nil || (latest?.completedAt).map({ end in ride.completedAt.map { $0 > end } ?? true }) == true {
                    latest = ride
                }
            }
        }
        return found
    }
}
