import DabbaInbox
import DemoKit
import Foundation

/// The analytics service's regulatory report, from its store: volumes per minute, outcomes, reasons, latency per
/// layer, refunds and flags. The last line is machine-readable:
/// `analytics payments=… settled=… settled_paise=… rejected=… failed=… refunded=… refunded_paise=… flagged=…`.
public enum AnalyticsReport {
    /// The report's totals.
    public struct Totals: Sendable, Hashable {
        /// Distinct transactions initiated.
        public var payments = 0
        /// Settled (refunded ones included).
        public var settled = 0
        /// Their amount.
        public var settledPaise = 0
        /// Rejected by the gateway.
        public var rejected = 0
        /// Failed.
        public var failed = 0
        /// Refunded.
        public var refunded = 0
        /// Their amount.
        public var refundedPaise = 0
        /// Flagged by risk.
        public var flagged = 0

        /// The machine-readable line.
        public var line: String {
            "analytics payments=\(payments) settled=\(settled) settled_paise=\(settledPaise) rejected=\(rejected) failed=\(failed) refunded=\(refunded) refunded_paise=\(refundedPaise) flagged=\(flagged)"
        }
    }

    /// The totals.
    public static func totals(_ database: any InboxTransaction) throws -> Totals {
        func number(_ sql: String) throws -> Int { try database.query(sql).first?[0].integerValue.map(Int.init) ?? 0 }
        var totals = Totals()
        totals.payments = try number("SELECT COUNT(*) FROM analytics_payments")
        totals.settled = try number("SELECT COUNT(*) FROM analytics_payments WHERE outcome = 'settled'")
        totals.settledPaise = try number(
            "SELECT CAST(COALESCE(SUM(amount_paise), 0) AS BIGINT) FROM analytics_payments WHERE outcome = 'settled'")
        totals.rejected = try number("SELECT COUNT(*) FROM analytics_payments WHERE outcome = 'rejected'")
        totals.failed = try number("SELECT COUNT(*) FROM analytics_payments WHERE outcome = 'failed'")
        totals.refunded = try number("SELECT COUNT(*) FROM analytics_payments WHERE refunded_paise > 0")
        totals.refundedPaise = try number("SELECT CAST(COALESCE(SUM(refunded_paise), 0) AS BIGINT) FROM analytics_payments")
        totals.flagged = try number("SELECT COUNT(*) FROM analytics_payments WHERE flagged = 1")
        return totals
    }

    /// The report's lines.
    public static func lines(_ database: any InboxTransaction) throws -> [String] {
        var lines = ["UPI regulatory report (from upi-analytics' store)"]
        let totals = try totals(database)
        let decided = totals.settled + totals.rejected + totals.failed
        let success = decided == 0 ? 0 : Double(totals.settled) * 100 / Double(decided)
        lines.append("payments initiated       \(totals.payments)")
        lines.append(
            "outcomes                 settled \(totals.settled), rejected \(totals.rejected), failed \(totals.failed) (success rate \(String(format: "%.1f", success)) %)"
        )
        lines.append("money settled            ₹\(totals.settledPaise / 100) (refunded ₹\(totals.refundedPaise / 100) in \(totals.refunded))")
        for (outcome, label) in [("rejected", "rejections"), ("failed", "failures")] {
            let rows = try database.query(
                "SELECT reason, COUNT(*) FROM analytics_payments WHERE outcome = ? GROUP BY reason ORDER BY reason",
                [.text(outcome)])
            let parts = rows.map { "\($0[0].textValue ?? "?") \($0[1].integerValue ?? 0)" }
            lines.append("\(label.padding(toLength: 25, withPad: " ", startingAt: 0))\(parts.joined(separator: ", "))")
        }
        let layers: [(String, String)] = [
            ("real-time", "SELECT realtime_ms - initiated_ms FROM analytics_payments WHERE realtime_ms IS NOT NULL"),
            ("end to end", "SELECT terminal_ms - initiated_ms FROM analytics_payments WHERE outcome = 'settled'"),
            ("business", "SELECT scored_ms - terminal_ms FROM analytics_payments WHERE scored_ms IS NOT NULL"),
        ]
        for (layer, sql) in layers {
            let values = try database.query(sql).compactMap { $0[0].integerValue.map(Double.init) }
            lines.append(
                "latency \(layer.padding(toLength: 17, withPad: " ", startingAt: 0))p50 \(Int(Percentile.of(50, values))) ms, p99 \(Int(Percentile.of(99, values))) ms (\(values.count) payments)"
            )
        }
        let minutes = try database.query("SELECT minute, initiated FROM analytics_minutes ORDER BY minute")
        let formatter = ISO8601DateFormatter()
        for row in minutes {
            let minute = Date(timeIntervalSince1970: Double(row[0].integerValue ?? 0) * 60)
            let count = Int(row[1].integerValue ?? 0)
            lines.append("minute \(formatter.string(from: minute))  \(count) payments, \(String(format: "%.1f", Double(count) / 60)) TPS")
        }
        lines.append("flagged for review       \(totals.flagged)")
        lines.append(totals.line)
        return lines
    }
}
