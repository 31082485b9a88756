import DemoKit
import Foundation

/// One thing a client sends: a message (or a resend of one: the same message id in a new record), or a status.
public enum ChatAction: Sendable, Hashable {
    /// A message; `submission` 1 for the first send, 2 for the client's resend.
    case message(MessageSent, submission: Int)
    /// A status update.
    case status(StatusUpdated)

    /// The record's event id.
    public var eventID: String {
        switch self {
        case .message(let message, let submission): "\(message.conversationId)/\(message.messageId)/sent/\(submission)"
        case .status(let status): "status/\(status.statusId)"
        }
    }

    /// The message or status id and its conversation.
    public var key: MessageKey {
        switch self {
        case .message(let message, _): MessageKey(conversationId: message.conversationId, messageId: message.messageId)
        case .status(let status): MessageKey(conversationId: Conversation.status(status.userId), messageId: status.statusId)
        }
    }

    /// The action stamped with another send time.
    public func stamped(_ date: Date) -> ChatAction {
        switch self {
        case .message(var message, let submission):
            message.sentAt = date
            return .message(message, submission: submission)
        case .status(var status):
            status.updatedAt = date
            return .status(status)
        }
    }
}

/// A message of a conversation (message ids are the client's, unique per conversation).
public struct MessageKey: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The conversation.
    public var conversationId: String
    /// The message id.
    public var messageId: String

    /// Creates a key.
    public init(conversationId: String, messageId: String) {
        self.conversationId = conversationId
        self.messageId = messageId
    }

    /// `<conversation>/<message>`.
    public var description: String { "\(conversationId)/\(messageId)" }

    public static func < (lhs: MessageKey, rhs: MessageKey) -> Bool { lhs.description < rhs.description }
}

/// A deterministic mix of client actions like the seed's: 58% one-to-one (text, media, replies, mostly between
/// contacts), 25% to the small groups (a few from non-members), 10% status updates and 7% malformed (empty, too
/// large, unknown group or user, both recipient and group, a reply to nothing, media without a URL); about one
/// message in thirty is resent by its client with the same id.
public struct ChatLoad: Sendable {
    /// The users.
    public var reference: ChatReference
    /// The groups messages go to (as created).
    public var groups: [PlannedGroup]
    /// The seed.
    public var seed: UInt64
    /// The message ids' prefix.
    public var runID: String
    /// The texts' theme: `Happy New Year` greetings for the midnight burst.
    public var greeting: Bool

    /// Creates a load.
    public init(
        reference: ChatReference = .standard, groups: [PlannedGroup], seed: UInt64, runID: String, greeting: Bool = false
    ) {
        self.reference = reference
        self.groups = groups
        self.seed = seed
        self.runID = runID
        self.greeting = greeting
    }

    /// `count` actions (plus resends), stamped with `time` (the sender stamps them again).
    public func actions(count: Int, at time: Date = Date(timeIntervalSince1970: 0)) -> [ChatAction] {
        var random = SeededGenerator(seed: seed)
        var lastInConversation: [String: String] = [:]
        var result: [ChatAction] = []
        let users = reference.users
        for index in 1...max(1, count) {
            let id = "\(runID)\(String(format: "%06d", index))"
            let sender = users[Int.random(in: 0..<users.count, using: &random)]
            let text = greeting ? "Happy New Year from \(sender)! 🎆 (\(index))" : "Message \(index) from \(sender)"
            let roll = Int.random(in: 0..<100, using: &random)
            var message: MessageSent
            switch roll {
            case 0..<58:
                let contacts = reference.contacts(of: sender)
                let recipient = contacts[Int.random(in: 0..<contacts.count, using: &random)]
                message = MessageSent(messageId: id, senderId: sender, recipientId: recipient, text: text, sentAt: time)
                switch Int.random(in: 0..<10, using: &random) {
                case 0:
                    message.kind = .media
                    message.mediaUrl = "https://media.example/\(id).jpg"
                case 1:
                    if let previous = lastInConversation[message.conversationId] {
                        message.kind = .reply
                        message.replyTo = previous
                    }
                default: break
                }
            case 58..<83 where !groups.isEmpty:
                let group = groups[Int.random(in: 0..<groups.count, using: &random)]
                let member = group.members[Int.random(in: 0..<group.members.count, using: &random)]
                // A few senders who are not members (never were, or were removed).
                let from = Int.random(in: 0..<33, using: &random) == 0 ? sender : member
                let mention = group.members[Int.random(in: 0..<group.members.count, using: &random)]
                message = MessageSent(
                    messageId: id, senderId: from, groupId: group.groupId, text: text, mentions: [mention], sentAt: time)
            case 58..<93:
                result.append(.status(StatusUpdated(statusId: id, userId: sender, text: "Status \(index): \(text)", updatedAt: time)))
                continue
            default:
                message = Self.malformed(id: id, sender: sender, variant: index, time: time)
            }
            result.append(.message(message, submission: 1))
            lastInConversation[message.conversationId] = message.messageId
            if Int.random(in: 0..<30, using: &random) == 0 { result.append(.message(message, submission: 2)) }
        }
        return result
    }

    /// A message the router refuses, one variant per `variant` modulo 7.
    static func malformed(id: String, sender: String, variant: Int, time: Date) -> MessageSent {
        let other = sender == "u0001" ? "u0002" : "u0001"
        switch variant % 7 {
        case 0: return MessageSent(messageId: id, senderId: sender, recipientId: other, text: "   ", sentAt: time)
        case 1:
            return MessageSent(
                messageId: id, senderId: sender, recipientId: other,
                text: String(repeating: "x", count: MessagingRules.maximumTextLength + 1), sentAt: time)
        case 2: return MessageSent(messageId: id, senderId: sender, groupId: "g999", text: "anyone?", sentAt: time)
        case 3: return MessageSent(messageId: id, senderId: sender, recipientId: "u9999", text: "hello?", sentAt: time)
        case 4:
            return MessageSent(messageId: id, senderId: sender, recipientId: other, groupId: "g001", text: "both", sentAt: time)
        case 5:
            return MessageSent(
                messageId: id, senderId: sender, recipientId: other, kind: .reply, text: "re: ?", replyTo: "NO-SUCH",
                sentAt: time)
        default:
            return MessageSent(messageId: id, senderId: sender, recipientId: other, kind: .media, text: "", sentAt: time)
        }
    }

    /// The distinct messages and statuses, in first-sent order.
    public static func distinct(_ actions: some Sequence<ChatAction>) -> [MessageKey] {
        var seen = Set<MessageKey>()
        return actions.compactMap { seen.insert($0.key).inserted ? $0.key : nil }
    }
}
