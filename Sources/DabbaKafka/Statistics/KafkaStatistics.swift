import CoreMetrics
import Foundation
import Synchronization

/// Records librdkafka's statistics reports (see ``KafkaStatisticsConfiguration``) through swift-metrics:
///
/// | Metric | Kind | Labels | Meaning |
/// |---|---|---|---|
/// | `dabba_kafka_queue_operations` | gauge | client | Operations (callbacks, events) waiting for the application to serve them (`replyq`). |
/// | `dabba_kafka_producer_queue_messages` | gauge | client | Messages in the producer queue, not yet acknowledged (`msg_cnt`). |
/// | `dabba_kafka_producer_queue_bytes` | gauge | client | Their size (`msg_size`). |
/// | `dabba_kafka_broker_rtt_seconds` | gauge | client, broker | Average request round trip over the last interval (`rtt.avg`). |
/// | `dabba_kafka_broker_rtt_p99_seconds` | gauge | client, broker | Its 99th percentile (`rtt.p99`). |
/// | `dabba_kafka_broker_throttle_seconds` | gauge | client, broker | Average broker throttling (quotas) (`throttle.avg`). |
/// | `dabba_kafka_broker_requests_in_flight` | gauge | client, broker | Requests sent, awaiting a response (`waitresp_cnt`). |
/// | `dabba_kafka_broker_requests_queued` | gauge | client, broker | Requests waiting to be sent (`outbuf_cnt`). |
/// | `dabba_kafka_rebalances_total` | counter | client | Consumer group rebalances (`cgrp.rebalance_cnt`). |
/// | `dabba_kafka_assigned_partitions` | gauge | client | Partitions assigned to the consumer (`cgrp.assignment_size`). |
///
/// Brokers are the cluster's (`nodeid` ≥ 0), named `host:port/id`; bootstrap and internal entries are left out.
final class KafkaStatistics: Sendable {
    private let factory: any MetricsFactory
    private let labels: [(String, String)]
    /// The rebalance count of the previous report, to count only what is new.
    private let rebalances = Mutex<Int64?>(nil)

    init(_ configuration: KafkaStatisticsConfiguration?) {
        factory = configuration?.factory ?? MetricsSystem.factory
        labels = (configuration?.labels ?? [:]).sorted { $0.key < $1.key }
    }

    /// Records one report; a report that does not parse is skipped (the next one is complete again).
    func record(json: UnsafeRawBufferPointer) {
        guard let report = try? JSONDecoder().decode(StatisticsReport.self, from: Data(json)) else { return }
        record(report)
    }

    func record(_ report: StatisticsReport) {
        let client = labels + [("client", report.name)]
        gauge("dabba_kafka_queue_operations", client, report.replyq)
        if report.type == "producer" {
            gauge("dabba_kafka_producer_queue_messages", client, report.msgCount ?? 0)
            gauge("dabba_kafka_producer_queue_bytes", client, report.msgSize ?? 0)
        }
        for broker in report.brokers.values where broker.nodeid >= 0 {
            let labels = client + [("broker", "\(broker.nodename)/\(broker.nodeid)")]
            gauge("dabba_kafka_broker_rtt_seconds", labels, Double(broker.rtt.avg) / 1_000_000)
            gauge("dabba_kafka_broker_rtt_p99_seconds", labels, Double(broker.rtt.p99) / 1_000_000)
            gauge("dabba_kafka_broker_throttle_seconds", labels, Double(broker.throttle.avg) / 1000)
            gauge("dabba_kafka_broker_requests_in_flight", labels, broker.waitrespCount)
            gauge("dabba_kafka_broker_requests_queued", labels, broker.outbufCount)
        }
        if let group = report.cgrp {
            gauge("dabba_kafka_assigned_partitions", client, group.assignmentSize)
            let new = rebalances.withLock { previous in
                defer { previous = group.rebalanceCount }
                return max(0, group.rebalanceCount - (previous ?? 0))
            }
            Counter(label: "dabba_kafka_rebalances_total", dimensions: client, factory: factory)
                .increment(by: new)
        }
    }

    private func gauge(_ name: String, _ labels: [(String, String)], _ value: Int64) {
        gauge(name, labels, Double(value))
    }

    private func gauge(_ name: String, _ labels: [(String, String)], _ value: Double) {
        Meter(label: name, dimensions: labels, factory: factory).set(value)
    }
}

/// The parts of a librdkafka statistics report Dabba records (librdkafka's STATISTICS.md).
struct StatisticsReport: Decodable {
    struct Window: Decodable {
        var avg: Int64
        var p99: Int64
    }

    struct Broker: Decodable {
        var nodename: String
        var nodeid: Int32
        var outbufCount: Int64
        var waitrespCount: Int64
        var rtt: Window
        var throttle: Window

        enum CodingKeys: String, CodingKey {
            case nodename, nodeid, rtt, throttle
            case outbufCount = "outbuf_cnt"
            case waitrespCount = "waitresp_cnt"
        }
    }

    struct Group: Decodable {
        var rebalanceCount: Int64
        var assignmentSize: Int64

        enum CodingKeys: String, CodingKey {
            case rebalanceCount = "rebalance_cnt"
            case assignmentSize = "assignment_size"
        }
    }

    var name: String
    var type: String
    var replyq: Int64
    var msgCount: Int64?
    var msgSize: Int64?
    var brokers: [String: Broker]
    var cgrp: Group?

    enum CodingKeys: String, CodingKey {
        case name, type, replyq, brokers, cgrp
        case msgCount = "msg_cnt"
        case msgSize = "msg_size"
    }
}
