import DabbaPipeline
import Foundation

/// Which dead-letter records a command applies to.
struct DeadLetterFilter {
    var errorType: String?
    var key: String?
    var eventType: String?
    var since: Date?
    var until: Date?

    /// Whether a record matches every given criterion. An error type matches the full name or its last component
    /// (`HandlerFailure` matches `DabbaPipeline.HandlerFailure`).
    func matches(_ record: DeadLetterRecord) -> Bool {
        if let errorType {
            guard let recorded = record.errorType,
                recorded == errorType || recorded.hasSuffix(".\(errorType)")
            else { return false }
        }
        if let key, record.message.keyString != key { return false }
        if let eventType, record.eventType != eventType { return false }
        if let since { guard let time = record.failureTime, time >= since else { return false } }
        if let until { guard let time = record.failureTime, time <= until else { return false } }
        return true
    }
}
