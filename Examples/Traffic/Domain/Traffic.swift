import DabbaEvents
import DemoKit
import Foundation

/// A zone's traffic status.
public enum TrafficStatus: String, Codable, Sendable, CaseIterable {
    /// No report yet (a quiet zone keeps its last status: the hour counts back from its newest report).
    case unknown
    /// Moving.
    case light
    /// Seven or more of the last ten reports within the hour of the newest say heavy.
    case heavy
}

/// Who reported.
public enum ReportSource: String, Codable, Sendable, CaseIterable {
    /// A citizen's app.
    case citizen
    /// A traffic camera's sample.
    case camera
}

/// `traffic.report.submitted`: a citizen or a camera says how a zone's traffic is, keyed by zone.
public struct TrafficReported: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "traffic.report.submitted"
    /// The report's id (a resend carries the same one).
    public var reportId: String
    /// The zone (`WEH-Andheri`).
    public var zone: String
    /// Who.
    public var source: ReportSource
    /// Whether it says heavy.
    public var heavy: Bool
    /// When it was observed.
    public var reportedAt: Date

    /// Creates the event.
    public init(reportId: String, zone: String, source: ReportSource, heavy: Bool, reportedAt: Date) {
        self.reportId = reportId
        self.zone = zone
        self.source = source
        self.heavy = heavy
        self.reportedAt = reportedAt
    }

    /// The zone.
    public var partitionKey: String? { zone }
}

/// `traffic.zone.status-changed`: a zone's status changed, with the status before and after.
public struct ZoneStatusChanged: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "traffic.zone.status-changed"
    /// The zone.
    public var zone: String
    /// The status before.
    public var previous: TrafficStatus
    /// The status now.
    public var current: TrafficStatus
    /// Reports saying heavy among those counted.
    public var heavyReports: Int
    /// Reports counted (the last ten within the hour).
    public var reports: Int
    /// The report that changed it.
    public var causeReportId: String
    /// When.
    public var changedAt: Date

    /// Creates the event.
    public init(
        zone: String, previous: TrafficStatus, current: TrafficStatus, heavyReports: Int, reports: Int,
        causeReportId: String, changedAt: Date
    ) {
        self.zone = zone
        self.previous = previous
        self.current = current
        self.heavyReports = heavyReports
        self.reports = reports
        self.causeReportId = causeReportId
        self.changedAt = changedAt
    }

    /// The zone.
    public var partitionKey: String? { zone }
}

/// `traffic.alert.sent`: a subscriber of a zone is told of one change, once (keyed by subscriber).
public struct AlertSent: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "traffic.alert.sent"
    /// The subscriber.
    public var subscriberId: String
    /// The zone.
    public var zone: String
    /// The status before.
    public var previous: TrafficStatus
    /// The status now.
    public var current: TrafficStatus
    /// The report that changed it (with the zone, it names the change).
    public var causeReportId: String
    /// When.
    public var sentAt: Date

    /// Creates the event.
    public init(
        subscriberId: String, zone: String, previous: TrafficStatus, current: TrafficStatus, causeReportId: String,
        sentAt: Date
    ) {
        self.subscriberId = subscriberId
        self.zone = zone
        self.previous = previous
        self.current = current
        self.causeReportId = causeReportId
        self.sentAt = sentAt
    }

    /// The subscriber.
    public var partitionKey: String? { subscriberId }
}

/// The zones, their subscribers and the status rule, the same in every process.
public enum TrafficRules {
    /// The zones.
    public static let zones = [
        "WEH-Andheri", "WEH-Goregaon", "SV-Road-Bandra", "LBS-Kurla", "Sion-Circle", "Dadar-TT", "Worli-Sealink",
        "Marine-Drive",
    ]
    /// How many of the last reports count.
    public static let window = 10
    /// How many of them must say heavy.
    public static let heavyThreshold = 7
    /// How long a report counts, from the newest report of its zone.
    public static let reportLifetime: TimeInterval = 3600

    /// A zone's subscribers (commuters who asked for its alerts).
    public static func subscribers(of zone: String) -> [String] {
        let count = 3 + Int(stableHash(zone) % 4)
        return (1...count).map { "sub-\(zone)-\($0)" }
    }

    /// The reports that count and the status they give: the last ten (in log order) of those within the hour of
    /// the newest; heavy when seven say so, light otherwise, unknown with none.
    public static func status(of reports: [(heavy: Bool, at: Date)]) -> (status: TrafficStatus, heavy: Int, counted: Int) {
        guard let newest = reports.map(\.at).max() else { return (.unknown, 0, 0) }
        let counted = reports.filter { newest.timeIntervalSince($0.at) <= reportLifetime }.suffix(window)
        let heavy = counted.filter(\.heavy).count
        return (heavy >= heavyThreshold ? .heavy : .light, heavy, counted.count)
    }
}
