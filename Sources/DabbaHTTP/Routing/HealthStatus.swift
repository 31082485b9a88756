/// The answer of a liveness or readiness check, served by ``ServiceHTTPServer`` on `/health` and `/ready`.
///
/// Healthy statuses are served as `200 OK` and unhealthy ones as `503 Service Unavailable`; either way the body is
/// ``reason`` followed by a line feed.
public struct HealthStatus: Sendable, Hashable {
    /// Whether the check passed.
    public var isHealthy: Bool
    /// A short explanation, served as the response body (e.g. `ok`, `consumer group not joined`).
    public var reason: String

    /// Creates a status.
    /// - Parameters:
    ///   - isHealthy: Whether the check passed.
    ///   - reason: A short explanation, served as the response body.
    public init(isHealthy: Bool, reason: String) {
        self.isHealthy = isHealthy
        self.reason = reason
    }

    /// A passing check whose reason is `ok`.
    public static let ok = HealthStatus(isHealthy: true, reason: "ok")

    /// A failing check.
    /// - Parameter reason: Why the check failed, served as the response body.
    /// - Returns: A status with ``isHealthy`` `false`.
    public static func unhealthy(_ reason: String) -> HealthStatus {
        HealthStatus(isHealthy: false, reason: reason)
    }
}
