/// A partner the dispatcher may choose.
public struct PartnerPosition: Sendable, Hashable {
    /// The partner.
    public var partnerId: String
    /// Their last known position.
    public var location: Location

    /// Creates a candidate.
    public init(partnerId: String, location: Location) {
        self.partnerId = partnerId
        self.location = location
    }
}

/// Nearest-partner assignment.
public enum Dispatcher {
    /// The nearest available partner to a pickup point; ties go to the smaller partner id, so the choice is
    /// deterministic.
    /// - Parameters:
    ///   - pickup: The restaurant.
    ///   - available: The city's free partners.
    /// - Returns: The partner and their distance, or nil when nobody is free.
    public static func nearest(to pickup: Location, among available: [PartnerPosition]) -> (
        partner: PartnerPosition, distanceKm: Double
    )? {
        var best: (partner: PartnerPosition, distanceKm: Double)?
        for candidate in available {
            let distance = candidate.location.distanceKm(to: pickup)
            if let current = best,
                distance > current.distanceKm
                    || (distance == current.distanceKm && candidate.partnerId >= current.partner.partnerId)
            {
                continue
            }
            best = (candidate, distance)
        }
        return best
    }
}
