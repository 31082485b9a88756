import DabbaInbox
import DemoKit
import DemoServiceKit

/// The analytics service's store and report. The last line is machine-readable:
/// `analytics confirmed=… revenue_paise=… expired=… promoted=… refunds=… refunded_paise=…`.
public enum TatkalReport {
    /// The tables.
    public static let migrations = ServiceEffects.migrations + [
        "CREATE TABLE IF NOT EXISTS analytics_requests (request_id TEXT PRIMARY KEY, inventory TEXT NOT NULL, outcome TEXT NOT NULL, reason TEXT)",
        "CREATE TABLE IF NOT EXISTS analytics_confirmed (request_id TEXT PRIMARY KEY, inventory TEXT NOT NULL, fare_paise BIGINT NOT NULL, hold_ms BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS analytics_refunds (request_id TEXT NOT NULL, amount_paise BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS analytics_counts (inventory TEXT NOT NULL, kind TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (inventory, kind))",
    ]

    /// The totals.
    public struct Totals: Sendable, Hashable {
        /// Confirmed bookings.
        public var confirmed = 0
        /// Their fares.
        public var revenuePaise = 0
        /// Holds expired.
        public var expired = 0
        /// Waitlist promotions.
        public var promoted = 0
        /// Refunds.
        public var refunds = 0
        /// Their amounts.
        public var refundedPaise = 0

        /// The machine-readable line.
        public var line: String {
            "analytics confirmed=\(confirmed) revenue_paise=\(revenuePaise) expired=\(expired) promoted=\(promoted) refunds=\(refunds) refunded_paise=\(refundedPaise)"
        }
    }

    /// The totals from the store.
    public static func totals(_ database: any InboxTransaction) throws -> Totals {
        func number(_ sql: String) throws -> Int { Int(try database.query(sql).first?[0].integerValue ?? 0) }
        var totals = Totals()
        totals.confirmed = try number("SELECT COUNT(*) FROM analytics_confirmed")
        totals.revenuePaise = try number("SELECT CAST(COALESCE(SUM(fare_paise), 0) AS BIGINT) FROM analytics_confirmed")
        totals.expired = try number("SELECT COUNT(*) FROM analytics_requests WHERE outcome = 'expired'")
        totals.promoted = try number("SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM analytics_counts WHERE kind = 'promoted'")
        totals.refunds = try number("SELECT COUNT(*) FROM analytics_refunds")
        totals.refundedPaise = try number("SELECT CAST(COALESCE(SUM(amount_paise), 0) AS BIGINT) FROM analytics_refunds")
        return totals
    }

    /// The report's lines.
    public static func lines(_ database: any InboxTransaction) throws -> [String] {
        var lines = ["Tatkal report (from tatkal-analytics' store)"]
        for row in try database.query(
            "SELECT inventory, outcome, COUNT(*) FROM analytics_requests GROUP BY inventory, outcome ORDER BY inventory, outcome"
        ) {
            lines.append("\(row[0].textValue ?? "?")  \(row[1].textValue ?? "?") \(row[2].integerValue ?? 0)")
        }
        for row in try database.query(
            "SELECT reason, COUNT(*) FROM analytics_requests WHERE outcome = 'rejected' GROUP BY reason ORDER BY reason"
        ) {
            lines.append("rejected \(row[0].textValue ?? "?") \(row[1].integerValue ?? 0)")
        }
        let holds = try database.query("SELECT hold_ms FROM analytics_confirmed").compactMap { $0[0].integerValue.map(Double.init) }
        lines.append("hold to confirmation     p50 \(Int(Percentile.of(50, holds))) ms, p99 \(Int(Percentile.of(99, holds))) ms")
        lines.append(try totals(database).line)
        return lines
    }
}
