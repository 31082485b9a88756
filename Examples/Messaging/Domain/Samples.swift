import Foundation

/// Representative events of each type, for `Pipeline.emits` contract declarations and tests.
public enum ChatSamples {
    static let time = Date(timeIntervalSince1970: 1_798_741_800)  // 2027-01-01T00:00:00+05:30
    static let group = Conversation.group("g007")

    /// A group message.
    public static let sent = MessageSent(
        messageId: "M000042", senderId: "u0007", groupId: "g007", text: "Happy New Year! 🎉", mentions: ["u0012"],
        sentAt: time)
    /// A rejection.
    public static let rejected = MessageRejected(
        messageId: "M000043", conversationId: group, senderId: "u0099", reason: .notMember,
        detail: "u0099 is not a member of g007", rejectedAt: time)
    /// An acceptance.
    public static let accepted = MessageAccepted(
        messageId: "M000042", conversationId: group, senderId: "u0007", kind: .text, sequence: 17, recipientCount: 11,
        sentAt: time, acceptedAt: time)
    /// A group created.
    public static let created = GroupCreated(
        groupId: "g007", name: "Cricket 7", ownerId: "u0007", members: ["u0007", "u0012", "u0031"], createdAt: time)
    /// A member added.
    public static let added = MemberAdded(groupId: "g007", userId: "u0044", addedBy: "u0007", addedAt: time)
    /// A member removed.
    public static let removed = MemberRemoved(groupId: "g007", userId: "u0031", removedBy: "u0007", removedAt: time)
    /// A group change refused.
    public static let changeRejected = GroupChangeRejected(
        groupId: "g404", change: MemberAdded.eventType, requestedBy: "u0007", reason: .unknownGroup,
        detail: "no group g404", rejectedAt: time)
    /// A status update.
    public static let status = StatusUpdated(statusId: "S000001", userId: "u0007", text: "At the nets", updatedAt: time)
    /// A delivery.
    public static let queued = DeliveryQueued(
        deliveryId: "group:g007/M000042/u0012", messageId: "M000042", conversationId: group, senderId: "u0007",
        recipientId: "u0012", sequence: 17, kind: .text, preview: "Happy New Year! 🎉", recipientCount: 11, sentAt: time,
        queuedAt: time)
    /// Online.
    public static let online = UserOnline(userId: "u0012", sessionId: "u0012-s3", connectedAt: time)
    /// Offline.
    public static let offline = UserOffline(userId: "u0012", sessionId: "u0012-s3", disconnectedAt: time)
    /// A heartbeat.
    public static let heartbeat = PresenceHeartbeat(userId: "u0012", sessionId: "u0012-s3", sentAt: time)
    /// The presence timer.
    public static let presenceDue = PresenceTimeoutDue(userId: "u0012", sessionId: "u0012-s3")
    /// Presence expired.
    public static let presenceChanged = PresenceChanged(
        userId: "u0012", sessionId: "u0012-s3", online: false, reason: .expired, lastSeenAt: time,
        changedAt: time.addingTimeInterval(30))
    /// A push request.
    public static let pushRequested = PushRequested(
        userId: "u0012", messageId: "M000042", conversationId: group, senderId: "u0007", requestedAt: time)
    /// The push timer.
    public static let pushDue = PushCollapseDue(userId: "u0012")
    /// A push.
    public static let push = PushSent(
        userId: "u0012", messages: 3, conversations: [group], firstMessageId: "M000042", sentAt: time)
    /// Delivered.
    public static let delivered = MessageDelivered(
        messageId: "M000042", conversationId: group, senderId: "u0007", recipientId: "u0012", sequence: 17,
        kind: .text, recipientCount: 11, sentAt: time, deliveredAt: time, flushed: false)
    /// Read.
    public static let read = MessageRead(messageId: "M000042", conversationId: group, readerId: "u0012", readAt: time)
    /// Ticked.
    public static let ticked = MessageTicked(
        messageId: "M000042", conversationId: group, senderId: "u0007", tick: .delivered, recipients: 11, tickedAt: time)
}
