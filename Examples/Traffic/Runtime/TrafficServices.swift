import DabbaEvents
import DabbaInbox
import DabbaKafka
import DabbaPipeline
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import Synchronization
import TrafficDomain

/// The two services of the example, by executable name, in start order.
public let trafficServiceNames = ["traffic-status", "traffic-alerts"]

/// Reports and status changes, keyed by zone.
public let trafficReportsTopic = "traffic.reports"

/// Alerts, keyed by subscriber.
public let trafficAlertsTopic = "traffic.alerts"

/// The example system's name in messages.
public let trafficSystem = "traffic"

/// The event types on `traffic.reports`.
public let trafficReportEventTypes: [any Event.Type] = [TrafficReported.self, ZoneStatusChanged.self]

/// The database of the handled event (the traffic services keep their state in the inbox database).
public func trafficDatabase(_ context: EventContext) throws -> any InboxTransaction {
    try ServiceEffects.database(context, system: trafficSystem)
}

/// Watches `traffic.reports` and `traffic.alerts` from the outside: it folds each zone's reports in log order with
/// the status rule, so it knows every change the status service should have announced (with the right previous
/// status), and checks the announced changes and every subscriber's alerts against that.
public final class TrafficObserver: Sendable {
    struct Zone {
        var reports: [(heavy: Bool, at: Date)] = []
        var status = TrafficStatus.unknown
        /// The changes the rule gives, in order: (previous, current, heavy, counted, cause).
        var expected: [ZoneStatusChanged] = []
        var announced: [ZoneStatusChanged] = []
    }

    struct State {
        var zones: [String: Zone] = [:]
        var seenReports: Set<String> = []
        var resends = 0
        var alerts: [String: Int] = [:]
        var undecodable = 0
        /// Each distinct report's record timestamp (ms), for the latency of the alerts it causes.
        var reportedMilliseconds: [String: Int64] = [:]
        /// Cause report → first alert of each (subscriber, change), by record timestamps (ms).
        var alertLatencies: [Double] = []
        /// The first report's record timestamp and the latest of any report, change or alert (ms).
        var firstReportMilliseconds: Int64?
        var lastMilliseconds: Int64?
    }

    final class Tracker: Sendable {
        let state = Mutex(State())
    }

    private let tracker = Tracker()
    private let watcher: EventLogWatcher

    /// Creates an observer (call ``run()`` to start reading).
    public init(bootstrap: String, deadLetterTopics: [String], logger: Logger) throws {
        let tracker = self.tracker
        watcher = try EventLogWatcher(
            bootstrap: bootstrap, mainTopics: [trafficReportsTopic, trafficAlertsTopic], deadLetterTopics: deadLetterTopics,
            groupPrefix: "traffic-observer", logger: logger
        ) { message, type, timestamp in
            tracker.state.withLock { state in Self.track(message, type: type, timestamp: timestamp, in: &state) }
        }
    }

    /// Whether the consumer has its partitions.
    public var isAssigned: Bool { watcher.isAssigned }
    /// Reads until ``stop()``.
    public func run() async throws { try await watcher.run() }
    /// Stops reading.
    public func stop() async { await watcher.stop() }

    private static func track(_ message: KafkaMessage, type: String, timestamp: Int64, in state: inout State) {
        switch type {
        case TrafficReported.eventType:
            guard let report = EventLogWatcher.payload(TrafficReported.self, of: message) else {
                state.undecodable += 1
                return
            }
            guard state.seenReports.insert(report.reportId).inserted else {
                state.resends += 1
                return
            }
            state.reportedMilliseconds[report.reportId] = timestamp
            state.firstReportMilliseconds = min(state.firstReportMilliseconds ?? timestamp, timestamp)
            state.lastMilliseconds = max(state.lastMilliseconds ?? timestamp, timestamp)
            var zone = state.zones[report.zone] ?? Zone()
            zone.reports.append((report.heavy, report.reportedAt))
            let now = TrafficRules.status(of: zone.reports)
            if now.status != zone.status {
                zone.expected.append(
                    ZoneStatusChanged(
                        zone: report.zone, previous: zone.status, current: now.status, heavyReports: now.heavy,
                        reports: now.counted, causeReportId: report.reportId, changedAt: report.reportedAt))
                zone.status = now.status
            }
            state.zones[report.zone] = zone
        case ZoneStatusChanged.eventType:
            guard let change = EventLogWatcher.payload(ZoneStatusChanged.self, of: message) else {
                state.undecodable += 1
                return
            }
            state.zones[change.zone, default: Zone()].announced.append(change)
            state.lastMilliseconds = max(state.lastMilliseconds ?? timestamp, timestamp)
        case AlertSent.eventType:
            guard let alert = EventLogWatcher.payload(AlertSent.self, of: message) else {
                state.undecodable += 1
                return
            }
            let key = "\(alert.subscriberId)|\(alert.zone)|\(alert.causeReportId)|\(alert.previous)|\(alert.current)"
            state.alerts[key, default: 0] += 1
            if state.alerts[key] == 1, let reported = state.reportedMilliseconds[alert.causeReportId] {
                state.alertLatencies.append(Double(timestamp - reported))
            }
            state.lastMilliseconds = max(state.lastMilliseconds ?? timestamp, timestamp)
        default:
            return
        }
    }

    /// What the log shows now, checked.
    public func snapshot() -> TrafficRun {
        let counts = watcher.counts
        return tracker.state.withLock { state in
            var run = TrafficRun()
            run.reports = state.seenReports.count
            run.resends = state.resends
            var expectedAlerts = Set<String>()
            for (name, zone) in state.zones {
                run.changes += zone.announced.count
                run.expectedChanges += zone.expected.count
                let expected = zone.expected.map { Self.key($0) }
                let announced = zone.announced.map { Self.key($0) }
                // Every change in order, with its previous status, counts and cause; nothing else.
                for index in 0..<max(expected.count, announced.count)
                where index >= expected.count || index >= announced.count || expected[index] != announced[index] {
                    run.statusMismatches.append("\(name) change \(index + 1): \(index < announced.count ? announced[index] : "none") vs \(index < expected.count ? expected[index] : "none")")
                }
                run.statuses[name] = zone.status
                for change in zone.announced {
                    for subscriber in TrafficRules.subscribers(of: name) {
                        expectedAlerts.insert(
                            "\(subscriber)|\(name)|\(change.causeReportId)|\(change.previous)|\(change.current)")
                    }
                }
            }
            run.alerts = state.alerts.count
            run.duplicateAlerts = state.alerts.values.reduce(0) { $0 + max(0, $1 - 1) }
            run.missingAlerts = expectedAlerts.subtracting(state.alerts.keys).count
            run.strayAlerts = Set(state.alerts.keys).subtracting(expectedAlerts).count
            run.undecodable = state.undecodable
            run.deadLetters = counts.deadLetters
            run.p50Milliseconds = Percentile.of(50, state.alertLatencies)
            run.p99Milliseconds = Percentile.of(99, state.alertLatencies)
            if let first = state.firstReportMilliseconds, let last = state.lastMilliseconds {
                run.spanSeconds = Double(last - first) / 1000
            }
            return run
        }
    }

    private static func key(_ change: ZoneStatusChanged) -> String {
        "\(change.previous)→\(change.current) \(change.heavyReports)/\(change.reports) by \(change.causeReportId)"
    }
}

/// What the observer saw, checked.
public struct TrafficRun: Sendable {
    /// Distinct reports.
    public var reports = 0
    /// Reports sent again with an id seen before.
    public var resends = 0
    /// Changes announced.
    public var changes = 0
    /// Changes the rule gives over the log.
    public var expectedChanges = 0
    /// Announced changes that differ from the rule's (status, previous status, counts, cause), or are missing.
    public var statusMismatches: [String] = []
    /// Each zone's status by the rule.
    public var statuses: [String: TrafficStatus] = [:]
    /// Distinct alerts.
    public var alerts = 0
    /// Alerts beyond one per subscriber and change.
    public var duplicateAlerts = 0
    /// Subscribers not told of a change.
    public var missingAlerts = 0
    /// Alerts of no announced change.
    public var strayAlerts = 0
    /// Records that did not decode.
    public var undecodable = 0
    /// Dead-lettered records.
    public var deadLetters: [DeadLetter] = []
    /// Cause report → alert, by record timestamps: the median over every first alert of a (subscriber, change).
    public var p50Milliseconds: Double = 0
    /// 99th percentile of the same.
    public var p99Milliseconds: Double = 0
    /// Seconds from the first report's record to the last report, change or alert in the log.
    public var spanSeconds: Double = 0

    /// Distinct reports per second through both services, over ``spanSeconds`` (0 before any span).
    public var reportsPerSecond: Int { spanSeconds > 0 ? Int(Double(reports) / spanSeconds) : 0 }
}
