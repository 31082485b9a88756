import DabbaInbox
import Foundation
import MessagingDomain

extension Date {
    /// Milliseconds since 1970, for the stores.
    public var chatMilliseconds: Int64 { Int64((timeIntervalSince1970 * 1000).rounded()) }

    /// The date of milliseconds since 1970.
    public init(chatMilliseconds: Int64) { self.init(timeIntervalSince1970: Double(chatMilliseconds) / 1000) }
}

/// The router's store: groups and their members, each conversation's next sequence number, and every message id it
/// decided (so a resend is recognised). Statements are portable to PostgreSQL.
public enum RouterBook {
    /// The tables.
    public static let migrations = [
        "CREATE TABLE IF NOT EXISTS chat_groups (group_id TEXT PRIMARY KEY, name TEXT NOT NULL, owner TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS chat_members (group_id TEXT NOT NULL, user_id TEXT NOT NULL, PRIMARY KEY (group_id, user_id))",
        "CREATE TABLE IF NOT EXISTS chat_conversations (conversation_id TEXT PRIMARY KEY, last_sequence BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS chat_messages (conversation_id TEXT NOT NULL, message_id TEXT NOT NULL, sequence BIGINT, PRIMARY KEY (conversation_id, message_id))",
    ]

    /// A group's members, or nil when there is no such group.
    public static func members(of groupId: String, in database: any InboxTransaction) throws -> Set<String>? {
        guard try !database.query("SELECT 1 FROM chat_groups WHERE group_id = ?", [.text(groupId)]).isEmpty else {
            return nil
        }
        return Set(
            try database.query("SELECT user_id FROM chat_members WHERE group_id = ?", [.text(groupId)]).compactMap {
                $0[0].textValue
            })
    }

    /// Writes a group change: creates the group when it is new and adds or removes the members that differ.
    public static func setMembers(
        of groupId: String, from old: Set<String>?, to new: Set<String>, created: GroupCreated?,
        in database: any InboxTransaction
    ) throws {
        if let created {
            _ = try database.execute(
                "INSERT INTO chat_groups (group_id, name, owner) VALUES (?, ?, ?)",
                [.text(groupId), .text(created.name), .text(created.ownerId)])
        }
        let before = old ?? []
        for user in new.subtracting(before).sorted() {
            _ = try database.execute(
                "INSERT INTO chat_members (group_id, user_id) VALUES (?, ?)", [.text(groupId), .text(user)])
        }
        for user in before.subtracting(new).sorted() {
            _ = try database.execute(
                "DELETE FROM chat_members WHERE group_id = ? AND user_id = ?", [.text(groupId), .text(user)])
        }
    }

    /// Whether the conversation has a message with this id (accepted, or rejected when `acceptedOnly` is false).
    public static func knows(
        _ messageId: String, in conversationId: String, acceptedOnly: Bool = false, database: any InboxTransaction
    ) throws -> Bool {
        let rows = try database.query(
            "SELECT sequence FROM chat_messages WHERE conversation_id = ? AND message_id = ?",
            [.text(conversationId), .text(messageId)])
        guard let row = rows.first else { return false }
        return !acceptedOnly || row[0].integerValue != nil
    }

    /// Records a rejected message id (a resend of it is then ignored).
    public static func recordRejected(_ messageId: String, in conversationId: String, database: any InboxTransaction)
        throws
    {
        _ = try database.execute(
            "INSERT INTO chat_messages (conversation_id, message_id, sequence) VALUES (?, ?, NULL)",
            [.text(conversationId), .text(messageId)])
    }

    /// Gives an accepted message the conversation's next sequence number and records it.
    public static func accept(_ messageId: String, in conversationId: String, database: any InboxTransaction) throws
        -> Int
    {
        _ = try database.execute(
            "INSERT INTO chat_conversations (conversation_id, last_sequence) VALUES (?, 1) ON CONFLICT (conversation_id) DO UPDATE SET last_sequence = chat_conversations.last_sequence + 1",
            [.text(conversationId)])
        let sequence =
            try database.query(
                "SELECT last_sequence FROM chat_conversations WHERE conversation_id = ?", [.text(conversationId)]
            ).first?[0].integerValue ?? 0
        _ = try database.execute(
            "INSERT INTO chat_messages (conversation_id, message_id, sequence) VALUES (?, ?, ?)",
            [.text(conversationId), .text(messageId), .integer(sequence)])
        return Int(sequence)
    }
}

/// The mailbox's store: each user's presence (the current session) and every delivery, queued until the recipient is
/// online, then delivered. Statements are portable to PostgreSQL.
public enum MailboxBook {
    /// The tables.
    public static let migrations = [
        "CREATE TABLE IF NOT EXISTS chat_presence (user_id TEXT PRIMARY KEY, session_id TEXT NOT NULL, status TEXT NOT NULL, last_seen_ms BIGINT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS chat_mailbox (delivery_id TEXT PRIMARY KEY, recipient TEXT NOT NULL, conversation_id TEXT NOT NULL, message_id TEXT NOT NULL, sender TEXT NOT NULL, sequence BIGINT NOT NULL, kind TEXT NOT NULL, recipient_count BIGINT NOT NULL, sent_ms BIGINT NOT NULL, queued_ms BIGINT NOT NULL, state TEXT NOT NULL, delivered_ms BIGINT)",
        "CREATE INDEX IF NOT EXISTS chat_mailbox_queued ON chat_mailbox (recipient, state, conversation_id, sequence)",
    ]

    /// A session's status.
    public enum PresenceStatus: String, Sendable {
        /// Connected and heartbeating.
        case online
        /// Disconnected cleanly.
        case offline
        /// No heartbeat in time; a late heartbeat of the same session resumes it.
        case expired
    }

    /// A user's presence.
    public struct Presence: Sendable, Hashable {
        /// The current (or last) session.
        public var sessionId: String
        /// That session's status.
        public var status: PresenceStatus
        /// Its last heartbeat or connection.
        public var lastSeenMilliseconds: Int64

        /// Creates a presence.
        public init(sessionId: String, status: PresenceStatus, lastSeenMilliseconds: Int64) {
            self.sessionId = sessionId
            self.status = status
            self.lastSeenMilliseconds = lastSeenMilliseconds
        }

        /// Whether the user is online.
        public var online: Bool { status == .online }
    }

    /// A user's presence, if they ever connected.
    public static func presence(of userId: String, in database: any InboxTransaction) throws -> Presence? {
        guard
            let row = try database.query(
                "SELECT session_id, status, last_seen_ms FROM chat_presence WHERE user_id = ?", [.text(userId)]
            ).first, let session = row[0].textValue, let status = row[1].textValue.flatMap(PresenceStatus.init(rawValue:))
        else { return nil }
        return Presence(sessionId: session, status: status, lastSeenMilliseconds: row[2].integerValue ?? 0)
    }

    /// Sets a user's presence.
    public static func setPresence(_ userId: String, _ presence: Presence, in database: any InboxTransaction) throws {
        _ = try database.execute(
            "INSERT INTO chat_presence (user_id, session_id, status, last_seen_ms) VALUES (?, ?, ?, ?) ON CONFLICT (user_id) DO UPDATE SET session_id = excluded.session_id, status = excluded.status, last_seen_ms = excluded.last_seen_ms",
            [
                .text(userId), .text(presence.sessionId), .text(presence.status.rawValue),
                .integer(presence.lastSeenMilliseconds),
            ])
    }

    /// Stores a delivery as queued; false when it was already there (a replayed or duplicated delivery).
    public static func enqueue(_ delivery: DeliveryQueued, in database: any InboxTransaction) throws -> Bool {
        let inserted = try database.execute(
            "INSERT INTO chat_mailbox (delivery_id, recipient, conversation_id, message_id, sender, sequence, kind, recipient_count, sent_ms, queued_ms, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'queued') ON CONFLICT (delivery_id) DO NOTHING",
            [
                .text(delivery.deliveryId), .text(delivery.recipientId), .text(delivery.conversationId),
                .text(delivery.messageId), .text(delivery.senderId), .integer(Int64(delivery.sequence)),
                .text(delivery.kind.rawValue), .integer(Int64(delivery.recipientCount)),
                .integer(delivery.sentAt.chatMilliseconds), .integer(Date().chatMilliseconds),
            ])
        return inserted == 1
    }

    /// A queued delivery.
    public struct Queued: Sendable, Hashable {
        /// The delivery id.
        public var deliveryId: String
        /// The delivered receipt it becomes (without its time).
        public var receipt: MessageDelivered
    }

    /// A user's queued deliveries, per conversation in sequence order.
    public static func queued(for userId: String, in database: any InboxTransaction) throws -> [Queued] {
        try database.query(
            "SELECT delivery_id, conversation_id, message_id, sender, sequence, kind, recipient_count, sent_ms FROM chat_mailbox WHERE recipient = ? AND state = 'queued' ORDER BY conversation_id, sequence",
            [.text(userId)]
        ).compactMap { row in
            guard let id = row[0].textValue, let conversation = row[1].textValue, let message = row[2].textValue,
                let sender = row[3].textValue, let kind = row[5].textValue.flatMap(MessageKind.init(rawValue:))
            else { return nil }
            return Queued(
                deliveryId: id,
                receipt: MessageDelivered(
                    messageId: message, conversationId: conversation, senderId: sender, recipientId: userId,
                    sequence: Int(row[4].integerValue ?? 0), kind: kind, recipientCount: Int(row[6].integerValue ?? 0),
                    sentAt: Date(chatMilliseconds: row[7].integerValue ?? 0), deliveredAt: Date(), flushed: true))
        }
    }

    /// Marks a delivery delivered.
    public static func markDelivered(_ deliveryId: String, at date: Date, in database: any InboxTransaction) throws {
        _ = try database.execute(
            "UPDATE chat_mailbox SET state = 'delivered', delivered_ms = ? WHERE delivery_id = ?",
            [.integer(date.chatMilliseconds), .text(deliveryId)])
    }

    /// Deliveries per state, and per user the queued ones (what the demo checks at the end).
    public static func audit(_ database: any InboxTransaction) throws -> (byState: [String: Int], queuedPerUser: [String: Int]) {
        var byState: [String: Int] = [:]
        for row in try database.query("SELECT state, COUNT(*) FROM chat_mailbox GROUP BY state") {
            if let state = row[0].textValue { byState[state] = Int(row[1].integerValue ?? 0) }
        }
        var perUser: [String: Int] = [:]
        for row in try database.query(
            "SELECT recipient, COUNT(*) FROM chat_mailbox WHERE state = 'queued' GROUP BY recipient")
        {
            if let user = row[0].textValue { perUser[user] = Int(row[1].integerValue ?? 0) }
        }
        return (byState, perUser)
    }

}

/// The receipts service's store: who has each message and who read it, and the ticks given. Statements are portable
/// to PostgreSQL.
public enum ReceiptsBook {
    /// The tables.
    public static let migrations = [
        "CREATE TABLE IF NOT EXISTS chat_receipts (conversation_id TEXT NOT NULL, message_id TEXT NOT NULL, recipient TEXT NOT NULL, delivered_ms BIGINT NOT NULL, read_ms BIGINT, PRIMARY KEY (conversation_id, message_id, recipient))",
        "CREATE TABLE IF NOT EXISTS chat_ticks (conversation_id TEXT NOT NULL, message_id TEXT NOT NULL, sender TEXT NOT NULL, recipient_count BIGINT NOT NULL, delivered BIGINT NOT NULL, read BIGINT NOT NULL, delivered_tick INTEGER NOT NULL, read_tick INTEGER NOT NULL, PRIMARY KEY (conversation_id, message_id))",
    ]

    /// Counts a receipt on a message and returns the message's counts and whether each tick was already given.
    public static func count(
        _ tick: Tick, conversation: String, message: String, sender: String, recipientCount: Int,
        in database: any InboxTransaction
    ) throws -> (delivered: Int, read: Int, recipients: Int, deliveredTicked: Bool, readTicked: Bool) {
        let column = tick == .delivered ? "delivered" : "read"
        _ = try database.execute(
            "INSERT INTO chat_ticks (conversation_id, message_id, sender, recipient_count, delivered, read, delivered_tick, read_tick) VALUES (?, ?, ?, ?, 0, 0, 0, 0) ON CONFLICT (conversation_id, message_id) DO NOTHING",
            [.text(conversation), .text(message), .text(sender), .integer(Int64(recipientCount))])
        _ = try database.execute(
            "UPDATE chat_ticks SET \(column) = \(column) + 1 WHERE conversation_id = ? AND message_id = ?",
            [.text(conversation), .text(message)])
        let row =
            try database.query(
                "SELECT delivered, read, recipient_count, delivered_tick, read_tick, sender FROM chat_ticks WHERE conversation_id = ? AND message_id = ?",
                [.text(conversation), .text(message)]
            ).first ?? []
        func number(_ index: Int) -> Int { index < row.count ? Int(row[index].integerValue ?? 0) : 0 }
        return (number(0), number(1), number(2), number(3) == 1, number(4) == 1)
    }

    /// Records that a tick was given.
    public static func ticked(_ tick: Tick, conversation: String, message: String, in database: any InboxTransaction)
        throws
    {
        let column = tick == .delivered ? "delivered_tick" : "read_tick"
        _ = try database.execute(
            "UPDATE chat_ticks SET \(column) = 1 WHERE conversation_id = ? AND message_id = ?",
            [.text(conversation), .text(message)])
    }

    /// Ticks given, by kind.
    public static func ticks(_ database: any InboxTransaction) throws -> (delivered: Int, read: Int) {
        let row = try database.query("SELECT CAST(COALESCE(SUM(delivered_tick), 0) AS BIGINT), CAST(COALESCE(SUM(read_tick), 0) AS BIGINT) FROM chat_ticks").first
        return (Int(row?[0].integerValue ?? 0), Int(row?[1].integerValue ?? 0))
    }
}

/// The push service's store: per offline user, what the next collapsed notification announces.
public enum PushBook {
    /// The tables.
    public static let migrations = [
        "CREATE TABLE IF NOT EXISTS chat_push_pending (user_id TEXT PRIMARY KEY, messages BIGINT NOT NULL, conversations TEXT NOT NULL, first_message_id TEXT NOT NULL)",
        "CREATE TABLE IF NOT EXISTS chat_push_counts (kind TEXT PRIMARY KEY, n BIGINT NOT NULL)",
    ]

    /// Adds a message to a user's pending notification; true when it opened a new one.
    public static func add(_ request: PushRequested, in database: any InboxTransaction) throws -> Bool {
        let rows = try database.query(
            "SELECT conversations FROM chat_push_pending WHERE user_id = ?", [.text(request.userId)])
        guard let row = rows.first else {
            _ = try database.execute(
                "INSERT INTO chat_push_pending (user_id, messages, conversations, first_message_id) VALUES (?, 1, ?, ?)",
                [.text(request.userId), .text(request.conversationId), .text(request.messageId)])
            return true
        }
        var conversations = (row[0].textValue ?? "").split(separator: ",").map(String.init)
        if !conversations.contains(request.conversationId) { conversations.append(request.conversationId) }
        _ = try database.execute(
            "UPDATE chat_push_pending SET messages = messages + 1, conversations = ? WHERE user_id = ?",
            [.text(conversations.joined(separator: ",")), .text(request.userId)])
        return false
    }

    /// Takes a user's pending notification.
    public static func take(_ userId: String, in database: any InboxTransaction) throws
        -> (messages: Int, conversations: [String], firstMessageId: String)?
    {
        guard
            let row = try database.query(
                "SELECT messages, conversations, first_message_id FROM chat_push_pending WHERE user_id = ?", [.text(userId)]
            ).first
        else { return nil }
        _ = try database.execute("DELETE FROM chat_push_pending WHERE user_id = ?", [.text(userId)])
        return (
            Int(row[0].integerValue ?? 0), (row[1].textValue ?? "").split(separator: ",").map(String.init),
            row[2].textValue ?? ""
        )
    }

    /// Counts notifications sent or suppressed.
    public static func count(_ kind: String, by amount: Int = 1, in database: any InboxTransaction) throws {
        _ = try database.execute(
            "INSERT INTO chat_push_counts (kind, n) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET n = chat_push_counts.n + excluded.n",
            [.text(kind), .integer(Int64(amount))])
    }
}
