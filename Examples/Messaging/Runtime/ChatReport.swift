import DabbaInbox
import DemoKit
import DemoServiceKit
import Foundation
import MessagingDomain

/// The analytics service's store and report. The last line is machine-readable:
/// `analytics messages=… rejected=… accepted=… deliveries=… delivered=… reads=… pushes=… expired_sessions=… resumed_sessions=… fanout=…`.
public enum ChatReport {
    /// The tables.
    public static let migrations = ServiceEffects.migrations + [
        "CREATE TABLE IF NOT EXISTS analytics_counts (kind TEXT PRIMARY KEY, n BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS analytics_per_second (second BIGINT NOT NULL, kind TEXT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (second, kind))",
        "CREATE TABLE IF NOT EXISTS analytics_sent (conversation_id TEXT NOT NULL, message_id TEXT NOT NULL, PRIMARY KEY (conversation_id, message_id))",
        "CREATE TABLE IF NOT EXISTS analytics_latency (delivery TEXT PRIMARY KEY, ms BIGINT NOT NULL, flushed INTEGER NOT NULL)",
    ]

    /// Adds to a counter, and to its count for the second `at` falls in.
    public static func count(_ kind: String, by amount: Int = 1, at date: Date? = nil, in database: any InboxTransaction)
        throws
    {
        _ = try database.execute(
            "INSERT INTO analytics_counts (kind, n) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET n = analytics_counts.n + excluded.n",
            [.text(kind), .integer(Int64(amount))])
        if let date {
            _ = try database.execute(
                "INSERT INTO analytics_per_second (second, kind, n) VALUES (?, ?, ?) ON CONFLICT (second, kind) DO UPDATE SET n = analytics_per_second.n + excluded.n",
                [.integer(Int64(date.timeIntervalSince1970)), .text(kind), .integer(Int64(amount))])
        }
    }

    /// The totals.
    public struct Totals: Sendable, Hashable {
        /// Distinct messages and status updates sent.
        public var messages = 0
        /// Resends of a message id already sent.
        public var resends = 0
        /// Refused.
        public var rejected = 0
        /// Accepted (status updates included).
        public var accepted = 0
        /// Deliveries queued.
        public var deliveries = 0
        /// Delivered receipts.
        public var delivered = 0
        /// Read receipts.
        public var reads = 0
        /// Push notifications sent.
        public var pushes = 0
        /// Sessions that timed out.
        public var expiredSessions = 0
        /// Sessions that timed out and then resumed (a late heartbeat).
        public var resumedSessions = 0
        /// The most deliveries queued in one second.
        public var peakQueuedPerSecond = 0
        /// The most deliveries delivered in one second.
        public var peakDeliveredPerSecond = 0

        /// Deliveries per accepted message.
        public var fanOut: Double { accepted == 0 ? 0 : Double(deliveries) / Double(accepted) }

        /// The machine-readable line.
        public var line: String {
            "analytics messages=\(messages) rejected=\(rejected) accepted=\(accepted) deliveries=\(deliveries) delivered=\(delivered) reads=\(reads) pushes=\(pushes) expired_sessions=\(expiredSessions) resumed_sessions=\(resumedSessions) fanout=\(String(format: "%.2f", fanOut))"
        }
    }

    /// The totals from the store.
    public static func totals(_ database: any InboxTransaction) throws -> Totals {
        var counts: [String: Int] = [:]
        for row in try database.query("SELECT kind, n FROM analytics_counts") {
            if let kind = row[0].textValue { counts[kind] = Int(row[1].integerValue ?? 0) }
        }
        var totals = Totals()
        totals.messages = counts["sent"] ?? 0
        totals.resends = counts["resent"] ?? 0
        totals.rejected = counts["rejected"] ?? 0
        totals.accepted = counts["accepted"] ?? 0
        totals.deliveries = counts["queued"] ?? 0
        totals.delivered = counts["delivered"] ?? 0
        totals.reads = counts["read"] ?? 0
        totals.pushes = counts["push"] ?? 0
        totals.expiredSessions = counts["expired"] ?? 0
        totals.resumedSessions = counts["resumed"] ?? 0
        totals.peakQueuedPerSecond = try peak("queued", database)
        totals.peakDeliveredPerSecond = try peak("delivered", database)
        return totals
    }

    /// The most of a kind counted in one second.
    static func peak(_ kind: String, _ database: any InboxTransaction) throws -> Int {
        Int(
            try database.query(
                "SELECT CAST(COALESCE(MAX(n), 0) AS BIGINT) FROM analytics_per_second WHERE kind = ?", [.text(kind)]
            ).first?[0].integerValue ?? 0)
    }

    /// The report's lines.
    public static func lines(_ database: any InboxTransaction) throws -> [String] {
        var lines = ["Messaging report (from chat-analytics' store)"]
        for row in try database.query("SELECT kind, n FROM analytics_counts WHERE kind LIKE 'rejected:%' ORDER BY kind") {
            lines.append("\(row[0].textValue ?? "?") \(row[1].integerValue ?? 0)")
        }
        for kind in ["sent", "queued", "delivered"] {
            lines.append("peak \(kind) per second  \(try peak(kind, database))")
        }
        let online = try database.query("SELECT ms FROM analytics_latency WHERE flushed = 0").compactMap {
            $0[0].integerValue.map(Double.init)
        }
        lines.append(
            "sent → delivered (online) p50 \(Int(Percentile.of(50, online))) ms, p99 \(Int(Percentile.of(99, online))) ms over \(online.count)")
        lines.append(try totals(database).line)
        return lines
    }
}
