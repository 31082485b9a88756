import Foundation

/// A consumer group as its coordinator describes it, from ``KafkaAdmin/describeConsumerGroup(_:timeout:)``.
public struct ConsumerGroupDescription: Sendable, Hashable {
    /// The group id.
    public var groupID: String
    /// The group's state as the coordinator reports it: `Stable`, `Empty`, `PreparingRebalance`,
    /// `CompletingRebalance`, `Dead` (a group the coordinator does not know) or `Unknown`.
    public var state: String
    /// Whether it is a simple group (offsets only, no members ever joined through the group protocol).
    public var isSimple: Bool
    /// The partition assignor the members agreed on (empty without members).
    public var assignor: String
    /// The coordinator broker's id, when known.
    public var coordinator: Int32?
    /// The active members, sorted by member id.
    public var members: [ConsumerGroupMember]

    /// Creates a description.
    public init(
        groupID: String, state: String, isSimple: Bool, assignor: String, coordinator: Int32?,
        members: [ConsumerGroupMember]
    ) {
        self.groupID = groupID
        self.state = state
        self.isSimple = isSimple
        self.assignor = assignor
        self.coordinator = coordinator
        self.members = members
    }

    /// Whether the group has no active member (so its offsets may be changed).
    public var isEmpty: Bool { members.isEmpty }
}

/// One active member of a consumer group.
public struct ConsumerGroupMember: Sendable, Hashable, CustomStringConvertible {
    /// The member id the coordinator gave it.
    public var memberID: String
    /// The client's `client.id`.
    public var clientID: String
    /// Its `group.instance.id` (static membership), if any.
    public var instanceID: String?
    /// The host it connected from.
    public var host: String
    /// The partitions assigned to it, sorted.
    public var assignment: [TopicPartition]

    /// Creates a member.
    public init(memberID: String, clientID: String, instanceID: String?, host: String, assignment: [TopicPartition]) {
        self.memberID = memberID
        self.clientID = clientID
        self.instanceID = instanceID
        self.host = host
        self.assignment = assignment
    }

    /// `client-id (member-id) from host, n partitions`.
    public var description: String {
        "\(clientID)\(instanceID.map { " [\($0)]" } ?? "") (\(memberID)) from \(host), \(assignment.count) partitions"
    }
}

/// Where an offset reset moves a group, per partition (``KafkaAdmin/planOffsetReset(group:topics:to:timeout:)``).
public enum OffsetResetTarget: Sendable, Hashable, CustomStringConvertible {
    /// The oldest offset still in the log (the low watermark).
    case earliest
    /// The end of the log (the high watermark): skips everything not yet read.
    case latest
    /// The first record whose timestamp is at or after the date (the end when there is none).
    case timestamp(Date)
    /// This offset on every partition (clamped to the log: below the low watermark reads from it, above the high
    /// watermark from the end).
    case offset(Int64)
    /// The committed offset moved by this many records (negative: back, to read again), clamped to the log; a
    /// partition without a committed offset moves from the low watermark.
    case shift(Int64)

    public var description: String {
        switch self {
        case .earliest: "earliest"
        case .latest: "latest"
        case .timestamp(let date): "timestamp \(date.ISO8601Format(.iso8601WithTimeZone(includingFractionalSeconds: true)))"
        case .offset(let offset): "offset \(offset)"
        case .shift(let count): "shift by \(count)"
        }
    }
}

/// One partition of an offset reset: where the group is, and where it will be.
public struct OffsetResetStep: Sendable, Hashable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The committed offset now, nil when the group committed nothing here.
    public var current: Int64?
    /// The offset the group will read next after the reset.
    public var target: Int64
    /// The partition's low watermark when planned.
    public var lowWatermark: Int64
    /// The partition's high watermark when planned.
    public var highWatermark: Int64

    /// Creates a step.
    public init(topic: String, partition: Int32, current: Int64?, target: Int64, lowWatermark: Int64, highWatermark: Int64) {
        self.topic = topic
        self.partition = partition
        self.current = current
        self.target = target
        self.lowWatermark = lowWatermark
        self.highWatermark = highWatermark
    }

    /// Records the group will read (again, when positive) or skip (when negative) compared with now.
    public var change: Int64 { (current ?? lowWatermark) - target }
    /// The lag after the reset.
    public var lagAfter: Int64 { max(0, highWatermark - target) }

    public var description: String {
        "\(topic)[\(partition)] \(current.map(String.init) ?? "none") → \(target) (lag after \(lagAfter))"
    }
}

extension OffsetResetTarget {
    /// The names ``init(kind:value:)`` takes, in the order a form lists them.
    public static let kinds = ["earliest", "latest", "timestamp", "offset", "shift"]

    /// Parses a target from its kind and value, as a form or a command line gives them: `earliest`, `latest`,
    /// `timestamp` with an RFC 3339 time (`2026-12-07T10:00:00Z`) or milliseconds since the epoch, `offset` with a
    /// number 0 or more, `shift` with a signed number.
    /// - Throws: ``KafkaError`` with code `invalidArgument` naming the kind and the value.
    public init(kind: String, value: String?) throws {
        let text = value?.trimmingCharacters(in: .whitespaces) ?? ""
        switch kind {
        case "earliest": self = .earliest
        case "latest": self = .latest
        case "timestamp":
            if let milliseconds = Int64(text) {
                self = .timestamp(Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            } else if let date = Self.rfc3339(text) {
                self = .timestamp(date)
            } else {
                throw KafkaError(
                    .invalidArgument, "'\(text)' is not a time: give an RFC 3339 time such as 2026-12-07T10:00:00Z, or milliseconds since the epoch")
            }
        case "offset":
            guard let offset = Int64(text), offset >= 0 else {
                throw KafkaError(.invalidArgument, "'\(text)' is not an offset: give a whole number, 0 or more")
            }
            self = .offset(offset)
        case "shift":
            guard let count = Int64(text.hasPrefix("+") ? String(text.dropFirst()) : text) else {
                throw KafkaError(.invalidArgument, "'\(text)' is not a shift: give a whole number of records, negative to go back")
            }
            self = .shift(count)
        default:
            throw KafkaError(
                .invalidArgument, "'\(kind)' is not an offset-reset target: use one of \(Self.kinds.joined(separator: ", "))")
        }
    }

    private static func rfc3339(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
