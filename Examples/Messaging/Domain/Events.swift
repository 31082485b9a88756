import DabbaEvents
import Foundation

/// Conversation ids: a one-to-one chat is the sorted pair of its users, a group is its id, and a user's status feed
/// is a conversation whose members are the user's contacts. Everything of one conversation (its messages, its
/// membership changes, its receipts) is keyed by the conversation, so every member sees one order.
public enum Conversation {
    /// `dm:<a>:<b>` with `a < b`.
    public static func direct(_ first: String, _ second: String) -> String {
        first < second ? "dm:\(first):\(second)" : "dm:\(second):\(first)"
    }

    /// `group:<groupId>`.
    public static func group(_ groupId: String) -> String { "group:\(groupId)" }

    /// `status:<userId>`.
    public static func status(_ userId: String) -> String { "status:\(userId)" }
}

/// What a message carries.
public enum MessageKind: String, Codable, Sendable, CaseIterable {
    /// Text.
    case text
    /// A photo, video or document (its URL; the text is the caption).
    case media
    /// A reply to an earlier message of the conversation.
    case reply
    /// A status update, delivered to the user's contacts.
    case status
}

/// `chat.message.sent`: a client sends a message, with an id it chose (a resend after a timeout carries the same id).
/// To one user (`recipientId`) or to a group (`groupId`), never both.
public struct MessageSent: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.message.sent"
    /// The client's message id (unique per conversation).
    public var messageId: String
    /// The sender.
    public var senderId: String
    /// The recipient of a one-to-one message.
    public var recipientId: String?
    /// The group of a group message.
    public var groupId: String?
    /// Text, media or reply.
    public var kind: MessageKind
    /// The text (a media message's caption).
    public var text: String
    /// A media message's URL.
    public var mediaUrl: String?
    /// The message a reply answers (an id of the same conversation).
    public var replyTo: String?
    /// Users mentioned (`@name`).
    public var mentions: [String]
    /// When the client sent it.
    public var sentAt: Date

    /// Creates the event.
    public init(
        messageId: String, senderId: String, recipientId: String? = nil, groupId: String? = nil, kind: MessageKind = .text,
        text: String, mediaUrl: String? = nil, replyTo: String? = nil, mentions: [String] = [], sentAt: Date
    ) {
        self.messageId = messageId
        self.senderId = senderId
        self.recipientId = recipientId
        self.groupId = groupId
        self.kind = kind
        self.text = text
        self.mediaUrl = mediaUrl
        self.replyTo = replyTo
        self.mentions = mentions
        self.sentAt = sentAt
    }

    /// The conversation: the group, the sorted pair, or `invalid:<sender>` when the recipient is missing or doubled
    /// (the router rejects it).
    public var conversationId: String {
        switch (recipientId, groupId) {
        case (let recipient?, nil): Conversation.direct(senderId, recipient)
        case (nil, let group?): Conversation.group(group)
        default: "invalid:\(senderId)"
        }
    }

    /// The conversation.
    public var partitionKey: String? { conversationId }
}

/// Why the router refused a message or a group change.
public enum MessageRejection: String, Codable, Sendable, CaseIterable {
    /// The sender is not a member of the group (never was, or was removed before the message).
    case notMember = "not_member"
    /// No such group.
    case unknownGroup = "unknown_group"
    /// A text or reply without text, or a media message without a URL.
    case empty
    /// Longer than ``MessagingRules/maximumTextLength``.
    case tooLarge = "too_large"
    /// The sender, the recipient or a member is not a registered user.
    case unknownUser = "unknown_user"
    /// Neither or both of recipient and group, a message to oneself, or a status sent as a message.
    case invalidRecipient = "invalid_recipient"
    /// A reply to a message the conversation does not have.
    case unknownReply = "unknown_reply"
    /// A group created with no members besides its owner, or created twice.
    case invalidGroup = "invalid_group"
}

/// `chat.message.rejected`: the router refused a message; nothing was delivered.
public struct MessageRejected: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.message.rejected"
    /// The message id.
    public var messageId: String
    /// The conversation.
    public var conversationId: String
    /// The sender.
    public var senderId: String
    /// Why.
    public var reason: MessageRejection
    /// A human-readable detail.
    public var detail: String
    /// When.
    public var rejectedAt: Date

    /// Creates the event.
    public init(
        messageId: String, conversationId: String, senderId: String, reason: MessageRejection, detail: String,
        rejectedAt: Date
    ) {
        self.messageId = messageId
        self.conversationId = conversationId
        self.senderId = senderId
        self.reason = reason
        self.detail = detail
        self.rejectedAt = rejectedAt
    }

    /// The conversation.
    public var partitionKey: String? { conversationId }
}

/// `chat.message.accepted`: the router gave a message (or a status update) its place in the conversation and fanned
/// it out: one ``DeliveryQueued`` per recipient.
public struct MessageAccepted: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.message.accepted"
    /// The message id.
    public var messageId: String
    /// The conversation.
    public var conversationId: String
    /// The sender.
    public var senderId: String
    /// What it is.
    public var kind: MessageKind
    /// Its place in the conversation: 1, 2, 3… with no gaps.
    public var sequence: Int
    /// How many deliveries it fanned out to (members at send time, the sender excluded).
    public var recipientCount: Int
    /// When the client sent it.
    public var sentAt: Date
    /// When.
    public var acceptedAt: Date

    /// Creates the event.
    public init(
        messageId: String, conversationId: String, senderId: String, kind: MessageKind, sequence: Int,
        recipientCount: Int, sentAt: Date, acceptedAt: Date
    ) {
        self.messageId = messageId
        self.conversationId = conversationId
        self.senderId = senderId
        self.kind = kind
        self.sequence = sequence
        self.recipientCount = recipientCount
        self.sentAt = sentAt
        self.acceptedAt = acceptedAt
    }

    /// The conversation.
    public var partitionKey: String? { conversationId }
}

/// `chat.group.created`: a user creates a group with its first members (the creator is one).
public struct GroupCreated: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.group.created"
    /// The group.
    public var groupId: String
    /// Its name.
    public var name: String
    /// Who created it.
    public var ownerId: String
    /// The members (the owner is a member whether listed or not).
    public var members: [String]
    /// When.
    public var createdAt: Date

    /// Creates the event.
    public init(groupId: String, name: String, ownerId: String, members: [String], createdAt: Date) {
        self.groupId = groupId
        self.name = name
        self.ownerId = ownerId
        self.members = members
        self.createdAt = createdAt
    }

    /// The group's conversation, so its membership is ordered with its messages.
    public var partitionKey: String? { Conversation.group(groupId) }
}

/// `chat.group.member-added`: a member adds a user to a group; messages after it in the log reach the new member.
public struct MemberAdded: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.group.member-added"
    /// The group.
    public var groupId: String
    /// The user added.
    public var userId: String
    /// The member who added them.
    public var addedBy: String
    /// When.
    public var addedAt: Date

    /// Creates the event.
    public init(groupId: String, userId: String, addedBy: String, addedAt: Date) {
        self.groupId = groupId
        self.userId = userId
        self.addedBy = addedBy
        self.addedAt = addedAt
    }

    /// The group's conversation.
    public var partitionKey: String? { Conversation.group(groupId) }
}

/// `chat.group.member-removed`: a member removes a user (or a user leaves); messages after it in the log do not
/// reach them.
public struct MemberRemoved: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.group.member-removed"
    /// The group.
    public var groupId: String
    /// The user removed.
    public var userId: String
    /// The member who removed them (the user themself when leaving).
    public var removedBy: String
    /// When.
    public var removedAt: Date

    /// Creates the event.
    public init(groupId: String, userId: String, removedBy: String, removedAt: Date) {
        self.groupId = groupId
        self.userId = userId
        self.removedBy = removedBy
        self.removedAt = removedAt
    }

    /// The group's conversation.
    public var partitionKey: String? { Conversation.group(groupId) }
}

/// `chat.group.change-rejected`: the router refused a group change (unknown group or user, a non-member changing
/// the group, a group with no members or created twice); membership is unchanged.
public struct GroupChangeRejected: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.group.change-rejected"
    /// The group.
    public var groupId: String
    /// The refused change's event type.
    public var change: String
    /// Who asked.
    public var requestedBy: String
    /// Why.
    public var reason: MessageRejection
    /// A human-readable detail.
    public var detail: String
    /// When.
    public var rejectedAt: Date

    /// Creates the event.
    public init(
        groupId: String, change: String, requestedBy: String, reason: MessageRejection, detail: String, rejectedAt: Date
    ) {
        self.groupId = groupId
        self.change = change
        self.requestedBy = requestedBy
        self.reason = reason
        self.detail = detail
        self.rejectedAt = rejectedAt
    }

    /// The group's conversation.
    public var partitionKey: String? { Conversation.group(groupId) }
}

/// `chat.status.updated`: a user posts a status; it is delivered to the user's contacts like a message of the
/// conversation `status:<user>`.
public struct StatusUpdated: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.status.updated"
    /// The status id (the client's).
    public var statusId: String
    /// The user.
    public var userId: String
    /// The text.
    public var text: String
    /// When.
    public var updatedAt: Date

    /// Creates the event.
    public init(statusId: String, userId: String, text: String, updatedAt: Date) {
        self.statusId = statusId
        self.userId = userId
        self.text = text
        self.updatedAt = updatedAt
    }

    /// The status feed.
    public var partitionKey: String? { Conversation.status(userId) }
}

/// `chat.delivery.queued`: one recipient's copy of a message, on the recipient's key (per-user sharding). Its id is
/// derived from the conversation, the message and the recipient, so a resend or a replay never makes a second one.
public struct DeliveryQueued: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.delivery.queued"
    /// `<conversation>/<message>/<recipient>`.
    public var deliveryId: String
    /// The message.
    public var messageId: String
    /// The conversation.
    public var conversationId: String
    /// The sender.
    public var senderId: String
    /// The recipient.
    public var recipientId: String
    /// The message's place in the conversation.
    public var sequence: Int
    /// What it is.
    public var kind: MessageKind
    /// The first characters of the text, for a notification.
    public var preview: String
    /// How many recipients the message has in all (for the receipts' ticks).
    public var recipientCount: Int
    /// When the client sent it.
    public var sentAt: Date
    /// When.
    public var queuedAt: Date

    /// Creates the event.
    public init(
        deliveryId: String, messageId: String, conversationId: String, senderId: String, recipientId: String,
        sequence: Int, kind: MessageKind, preview: String, recipientCount: Int, sentAt: Date, queuedAt: Date
    ) {
        self.deliveryId = deliveryId
        self.messageId = messageId
        self.conversationId = conversationId
        self.senderId = senderId
        self.recipientId = recipientId
        self.sequence = sequence
        self.kind = kind
        self.preview = preview
        self.recipientCount = recipientCount
        self.sentAt = sentAt
        self.queuedAt = queuedAt
    }

    /// The delivery id of a message's copy for one recipient.
    public static func id(conversation: String, message: String, recipient: String) -> String {
        "\(conversation)/\(message)/\(recipient)"
    }

    /// The recipient.
    public var partitionKey: String? { recipientId }
}

/// An event of one user's presence, on the user's key (co-partitioned with the user's deliveries).
public protocol PresenceEvent: Event {
    /// The user.
    var userId: String { get }
}

extension PresenceEvent {
    /// The user.
    public var partitionKey: String? { userId }
}

/// `chat.user.online`: a client connected; the user's queued messages are flushed in order.
public struct UserOnline: PresenceEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.user.online"
    /// The user.
    public var userId: String
    /// The connection (a reconnect is a new session).
    public var sessionId: String
    /// When.
    public var connectedAt: Date

    /// Creates the event.
    public init(userId: String, sessionId: String, connectedAt: Date) {
        self.userId = userId
        self.sessionId = sessionId
        self.connectedAt = connectedAt
    }
}

/// `chat.user.offline`: a client disconnected cleanly (ignored when it is not the current session).
public struct UserOffline: PresenceEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.user.offline"
    /// The user.
    public var userId: String
    /// The session that ended.
    public var sessionId: String
    /// When.
    public var disconnectedAt: Date

    /// Creates the event.
    public init(userId: String, sessionId: String, disconnectedAt: Date) {
        self.userId = userId
        self.sessionId = sessionId
        self.disconnectedAt = disconnectedAt
    }
}

/// `chat.presence.heartbeat`: a connected client is still there (every 10 s); presence expires 30 s after the last.
public struct PresenceHeartbeat: PresenceEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.presence.heartbeat"
    /// The user.
    public var userId: String
    /// The session.
    public var sessionId: String
    /// When.
    public var sentAt: Date

    /// Creates the event.
    public init(userId: String, sessionId: String, sentAt: Date) {
        self.userId = userId
        self.sessionId = sessionId
        self.sentAt = sentAt
    }
}

/// `chat.presence.timeout-due`: the mailbox's durable timer for a session's presence (never a record of a topic).
public struct PresenceTimeoutDue: PresenceEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.presence.timeout-due"
    /// The user.
    public var userId: String
    /// The session it watches.
    public var sessionId: String

    /// Creates the event.
    public init(userId: String, sessionId: String) {
        self.userId = userId
        self.sessionId = sessionId
    }
}

/// Why a user's presence changed.
public enum PresenceReason: String, Codable, Sendable, CaseIterable {
    /// A new session connected.
    case connected
    /// The current session disconnected cleanly.
    case disconnected
    /// No heartbeat of the current session for 30 s.
    case expired
    /// A heartbeat of the current session arrived after it had expired (it was only late: the mailbox lagged).
    case resumed
}

/// `chat.presence.changed`: the mailbox took a user online or offline. The mailbox's own record of each transition,
/// in the order it decided them, so the log tells who was online when.
public struct PresenceChanged: PresenceEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.presence.changed"
    /// The user.
    public var userId: String
    /// The session.
    public var sessionId: String
    /// Whether the user is now online.
    public var online: Bool
    /// Why.
    public var reason: PresenceReason
    /// The session's last heartbeat (or its connection).
    public var lastSeenAt: Date
    /// When.
    public var changedAt: Date

    /// Creates the event.
    public init(userId: String, sessionId: String, online: Bool, reason: PresenceReason, lastSeenAt: Date, changedAt: Date) {
        self.userId = userId
        self.sessionId = sessionId
        self.online = online
        self.reason = reason
        self.lastSeenAt = lastSeenAt
        self.changedAt = changedAt
    }
}

/// `chat.push.requested`: a message was queued for an offline user; the push service collapses these into one
/// notification.
public struct PushRequested: PresenceEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.push.requested"
    /// The offline user.
    public var userId: String
    /// The message.
    public var messageId: String
    /// Its conversation.
    public var conversationId: String
    /// Its sender.
    public var senderId: String
    /// When.
    public var requestedAt: Date

    /// Creates the event.
    public init(userId: String, messageId: String, conversationId: String, senderId: String, requestedAt: Date) {
        self.userId = userId
        self.messageId = messageId
        self.conversationId = conversationId
        self.senderId = senderId
        self.requestedAt = requestedAt
    }
}

/// `chat.push.collapse-due`: the push service's durable timer closing a user's collapse window.
public struct PushCollapseDue: PresenceEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.push.collapse-due"
    /// The user.
    public var userId: String

    /// Creates the event.
    public init(userId: String) { self.userId = userId }
}

/// `chat.push.sent`: one notification for every message queued for an offline user within the collapse window.
public struct PushSent: PresenceEvent, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.push.sent"
    /// The user.
    public var userId: String
    /// Messages it announces.
    public var messages: Int
    /// Their conversations.
    public var conversations: [String]
    /// The first message's id.
    public var firstMessageId: String
    /// When.
    public var sentAt: Date

    /// Creates the event.
    public init(userId: String, messages: Int, conversations: [String], firstMessageId: String, sentAt: Date) {
        self.userId = userId
        self.messages = messages
        self.conversations = conversations
        self.firstMessageId = firstMessageId
        self.sentAt = sentAt
    }
}

/// `chat.message.delivered`: a recipient's device has the message (a receipt, on the conversation's key).
public struct MessageDelivered: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.message.delivered"
    /// The message.
    public var messageId: String
    /// The conversation.
    public var conversationId: String
    /// The sender.
    public var senderId: String
    /// The recipient.
    public var recipientId: String
    /// The message's place in the conversation.
    public var sequence: Int
    /// What it is.
    public var kind: MessageKind
    /// How many recipients the message has in all.
    public var recipientCount: Int
    /// When the client sent it.
    public var sentAt: Date
    /// When.
    public var deliveredAt: Date
    /// Whether it waited in the mailbox for the recipient to come online.
    public var flushed: Bool

    /// Creates the event.
    public init(
        messageId: String, conversationId: String, senderId: String, recipientId: String, sequence: Int,
        kind: MessageKind, recipientCount: Int, sentAt: Date, deliveredAt: Date, flushed: Bool
    ) {
        self.messageId = messageId
        self.conversationId = conversationId
        self.senderId = senderId
        self.recipientId = recipientId
        self.sequence = sequence
        self.kind = kind
        self.recipientCount = recipientCount
        self.sentAt = sentAt
        self.deliveredAt = deliveredAt
        self.flushed = flushed
    }

    /// The conversation.
    public var partitionKey: String? { conversationId }
}

/// `chat.message.read`: a recipient opened a delivered message (sent by the client).
public struct MessageRead: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.message.read"
    /// The message.
    public var messageId: String
    /// The conversation.
    public var conversationId: String
    /// The reader.
    public var readerId: String
    /// When.
    public var readAt: Date

    /// Creates the event.
    public init(messageId: String, conversationId: String, readerId: String, readAt: Date) {
        self.messageId = messageId
        self.conversationId = conversationId
        self.readerId = readerId
        self.readAt = readAt
    }

    /// The conversation.
    public var partitionKey: String? { conversationId }
}

/// The sender's ticks.
public enum Tick: String, Codable, Sendable, CaseIterable {
    /// Every recipient has it (two grey ticks).
    case delivered
    /// Every recipient read it (two blue ticks).
    case read
}

/// `chat.message.ticked`: every recipient of a message has it (or has read it); a group's message ticks once all of
/// its members at send time have.
public struct MessageTicked: Event, Hashable {
    /// The event type name on the wire.
    public static let eventType = "chat.message.ticked"
    /// The message.
    public var messageId: String
    /// The conversation.
    public var conversationId: String
    /// The sender.
    public var senderId: String
    /// Delivered or read.
    public var tick: Tick
    /// How many recipients.
    public var recipients: Int
    /// When.
    public var tickedAt: Date

    /// Creates the event.
    public init(messageId: String, conversationId: String, senderId: String, tick: Tick, recipients: Int, tickedAt: Date) {
        self.messageId = messageId
        self.conversationId = conversationId
        self.senderId = senderId
        self.tick = tick
        self.recipients = recipients
        self.tickedAt = tickedAt
    }

    /// The conversation.
    public var partitionKey: String? { conversationId }
}
