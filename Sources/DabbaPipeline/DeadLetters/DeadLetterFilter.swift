import Foundation

/// Which dead-letter records an operator's command applies to (`dabba dlq`, the console's Dead letters page).
package struct DeadLetterFilter: Sendable {
    package var errorType: String?
    package var key: String?
    package var eventType: String?
    package var eventID: String?
    package var since: Date?
    package var until: Date?

    package init(
        errorType: String? = nil, key: String? = nil, eventType: String? = nil, eventID: String? = nil,
        since: Date? = nil, until: Date? = nil
    ) {
        self.errorType = errorType
        self.key = key
        self.eventType = eventType
        self.eventID = eventID
        self.since = since
        self.until = until
    }

    /// Whether a record matches every given criterion. An error type matches the full name or its last component
    /// (`HandlerFailure` matches `DabbaPipeline.HandlerFailure`).
    package func matches(_ record: DeadLetterRecord) -> Bool {
        if let errorType {
            guard let recorded = record.errorType,
                recorded == errorType || recorded.hasSuffix(".\(errorType)")
            else { return false }
        }
        if let key, record.message.keyString != key { return false }
        if let eventType, record.eventType != eventType { return false }
        if let eventID, record.eventID != eventID { return false }
        if let since { guard let time = record.failureTime, time >= since else { return false } }
        if let until { guard let time = record.failureTime, time <= until else { return false } }
        return true
    }
}

/// What a replay does with one dead-letter record: the one rule `dabba dlq replay` and the console share.
package struct DeadLetterReplay: Sendable {
    /// What happens to a record.
    package enum Decision: Sendable, Equatable {
        /// Sent back to this topic.
        case replay(to: String)
        /// Skipped by the loop guard: replayed this many times already and dead-lettered again.
        case loopGuarded(replays: Int)
        /// Skipped: no original-topic header, and no destination given.
        case unroutable
        /// Not selected by the filter (passed over).
        case notMatching
    }

    package var filter: DeadLetterFilter
    /// Send everything here instead of each record's original topic.
    package var destination: String?
    /// The loop guard: records replayed this many times are skipped.
    package var maxReplays: Int

    package init(filter: DeadLetterFilter, destination: String? = nil, maxReplays: Int = 1) {
        self.filter = filter
        self.destination = destination
        self.maxReplays = maxReplays
    }

    /// The consumer group that keeps a dead-letter topic's replay progress: every record examined by a replay
    /// (replayed, skipped or not matching) is passed over by the next one.
    package static func progressGroup(of topic: String) -> String { "dabba-dlq-replay.\(topic)" }

    /// The decision for one record.
    package func decide(_ record: DeadLetterRecord) -> Decision {
        guard filter.matches(record) else { return .notMatching }
        guard record.replayCount < maxReplays else { return .loopGuarded(replays: record.replayCount) }
        guard let topic = destination ?? record.originalTopic else { return .unroutable }
        return .replay(to: topic)
    }
}
