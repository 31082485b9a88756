import DabbaInbox
import DemoKit
import DemoServiceKit
import Foundation

/// The analytics service's store and report. The last line is machine-readable:
/// `analytics requests=… matched=… expired=… completed=… rejected=… cancelled=… revenue_paise=… surge_results=… max_multiplier=…`.
public enum RidesReport {
    /// The tables.
    public static let migrations = ServiceEffects.migrations + [
        "CREATE TABLE IF NOT EXISTS analytics_outcomes (ride_id TEXT NOT NULL, zone TEXT NOT NULL, outcome TEXT NOT NULL, PRIMARY KEY (ride_id, outcome))",
        "CREATE TABLE IF NOT EXISTS analytics_matches (ride_id TEXT PRIMARY KEY, zone TEXT NOT NULL, ms BIGINT NOT NULL, multiplier DOUBLE PRECISION NOT NULL)",
        "CREATE TABLE IF NOT EXISTS analytics_fares (ride_id TEXT PRIMARY KEY, fare_paise BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS analytics_surge (zone TEXT NOT NULL, window_start_ms BIGINT NOT NULL, multiplier DOUBLE PRECISION NOT NULL, PRIMARY KEY (zone, window_start_ms))",
    ]

    /// Records a ride's outcome (once per ride and outcome).
    public static func outcome(_ rideId: String, zone: String, _ outcome: String, in database: any InboxTransaction) throws {
        _ = try database.execute(
            "INSERT INTO analytics_outcomes (ride_id, zone, outcome) VALUES (?, ?, ?) ON CONFLICT (ride_id, outcome) DO NOTHING",
            [.text(rideId), .text(zone), .text(outcome)])
    }

    /// The totals.
    public struct Totals: Sendable, Hashable {
        /// Requests.
        public var requests = 0
        /// Matched.
        public var matched = 0
        /// Expired unmatched.
        public var expired = 0
        /// Trips completed.
        public var completed = 0
        /// Refused.
        public var rejected = 0
        /// Cancelled by their riders.
        public var cancelled = 0
        /// Fares.
        public var revenuePaise = 0
        /// Surge results.
        public var surgeResults = 0
        /// The highest multiplier.
        public var maxMultiplier = 1.0

        /// The machine-readable line.
        public var line: String {
            "analytics requests=\(requests) matched=\(matched) expired=\(expired) completed=\(completed) rejected=\(rejected) cancelled=\(cancelled) revenue_paise=\(revenuePaise) surge_results=\(surgeResults) max_multiplier=\(maxMultiplier)"
        }
    }

    /// The totals from the store.
    public static func totals(_ database: any InboxTransaction) throws -> Totals {
        func number(_ sql: String) throws -> Int { Int(try database.query(sql).first?[0].integerValue ?? 0) }
        var counts: [String: Int] = [:]
        for row in try database.query("SELECT outcome, COUNT(*) FROM analytics_outcomes GROUP BY outcome") {
            if let outcome = row[0].textValue { counts[outcome] = Int(row[1].integerValue ?? 0) }
        }
        var totals = Totals()
        totals.requests = counts["requested"] ?? 0
        totals.matched = counts["matched"] ?? 0
        totals.expired = counts["expired"] ?? 0
        totals.completed = counts["completed"] ?? 0
        totals.rejected = counts["rejected"] ?? 0
        totals.cancelled = counts["cancelled"] ?? 0
        totals.revenuePaise = try number("SELECT CAST(COALESCE(SUM(fare_paise), 0) AS BIGINT) FROM analytics_fares")
        totals.surgeResults = try number("SELECT COUNT(*) FROM analytics_surge")
        totals.maxMultiplier = try database.query("SELECT MAX(multiplier) FROM analytics_surge").first?[0].doubleValue ?? 1
        return totals
    }

    /// The report's lines.
    public static func lines(_ database: any InboxTransaction) throws -> [String] {
        var lines = ["Rides report (from rides-analytics' store)"]
        for row in try database.query(
            "SELECT zone, outcome, COUNT(*) FROM analytics_outcomes GROUP BY zone, outcome ORDER BY zone, outcome")
        {
            lines.append("\(row[0].textValue ?? "?")  \(row[1].textValue ?? "?") \(row[2].integerValue ?? 0)")
        }
        for row in try database.query("SELECT zone, MAX(multiplier) FROM analytics_surge GROUP BY zone ORDER BY zone") {
            lines.append("surge \(row[0].textValue ?? "?") up to ×\(row[1].doubleValue ?? 1)")
        }
        let waits = try database.query("SELECT ms FROM analytics_matches").compactMap { $0[0].integerValue.map(Double.init) }
        lines.append("request → match           p50 \(Int(Percentile.of(50, waits))) ms, p99 \(Int(Percentile.of(99, waits))) ms")
        let totals = try totals(database)
        let decided = max(1, totals.matched + totals.expired)
        lines.append("match rate \(totals.matched * 100 / decided)%, expiry rate \(totals.expired * 100 / decided)%")
        lines.append(totals.line)
        return lines
    }
}
