import Foundation

/// The router's rules, as pure functions of the conversation's state: the router applies them to its store, and the
/// demo's observer replays them over the log to know who should have received what.
public enum MessagingRules {
    /// The longest text a message may carry, in characters.
    public static let maximumTextLength = 4096
    /// How much of the text a delivery carries for a notification.
    public static let previewLength = 60
    /// Presence expires this long after the last heartbeat (or the connection).
    public static let presenceTimeout: Duration = .seconds(30)
    /// Clients send a heartbeat this often.
    public static let heartbeatInterval: Duration = .seconds(10)
    /// The push service collapses a user's notifications over this window.
    public static let pushCollapseWindow: Duration = .seconds(2)

    /// A refusal: why and a human-readable detail.
    public struct Refusal: Error, Sendable, Hashable {
        /// Why.
        public var reason: MessageRejection
        /// The detail.
        public var detail: String

        /// Creates a refusal.
        public init(_ reason: MessageRejection, _ detail: String) {
            self.reason = reason
            self.detail = detail
        }
    }

    /// Checks a message against the conversation's state.
    /// - Parameters:
    ///   - message: The message.
    ///   - members: The group's members, or nil when there is no such group (ignored for one-to-one messages).
    ///   - replyKnown: Whether the conversation has the message a reply answers.
    ///   - reference: The registered users.
    /// - Returns: The refusal, or nil when the message is accepted.
    public static func check(
        _ message: MessageSent, members: Set<String>?, replyKnown: Bool, reference: ChatReference
    ) -> Refusal? {
        guard reference.isUser(message.senderId) else {
            return Refusal(.unknownUser, "sender \(message.senderId) is not a registered user")
        }
        switch (message.recipientId, message.groupId) {
        case (let recipient?, nil):
            guard recipient != message.senderId else {
                return Refusal(.invalidRecipient, "\(message.senderId) sent a message to themself")
            }
            guard reference.isUser(recipient) else {
                return Refusal(.unknownUser, "recipient \(recipient) is not a registered user")
            }
        case (nil, let group?):
            guard let members else { return Refusal(.unknownGroup, "no group \(group)") }
            guard members.contains(message.senderId) else {
                return Refusal(.notMember, "\(message.senderId) is not a member of \(group)")
            }
        case (nil, nil):
            return Refusal(.invalidRecipient, "neither recipientId nor groupId")
        case (_?, _?):
            return Refusal(.invalidRecipient, "both recipientId and groupId")
        }
        let text = message.text.trimmingCharacters(in: .whitespacesAndNewlines)
        switch message.kind {
        case .media:
            guard let url = message.mediaUrl, !url.isEmpty else { return Refusal(.empty, "a media message without a mediaUrl") }
        case .text, .reply:
            guard !text.isEmpty else { return Refusal(.empty, "no text") }
        case .status:
            return Refusal(.invalidRecipient, "a status is posted with chat.status.updated, not sent as a message")
        }
        guard message.text.count <= maximumTextLength else {
            return Refusal(.tooLarge, "\(message.text.count) characters, more than \(maximumTextLength)")
        }
        if message.kind == .reply, message.replyTo == nil || !replyKnown {
            return Refusal(
                .unknownReply, "a reply to \(message.replyTo ?? "nothing"), which \(message.conversationId) does not have")
        }
        return nil
    }

    /// Checks a status update.
    public static func check(_ status: StatusUpdated, reference: ChatReference) -> Refusal? {
        guard reference.isUser(status.userId) else {
            return Refusal(.unknownUser, "\(status.userId) is not a registered user")
        }
        guard !status.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return Refusal(.empty, "no text") }
        guard status.text.count <= maximumTextLength else {
            return Refusal(.tooLarge, "\(status.text.count) characters, more than \(maximumTextLength)")
        }
        return nil
    }

    /// Who receives an accepted message: the other user, the group's members but the sender, or the poster's
    /// contacts — sorted, so every process fans out in one order.
    public static func recipients(of message: MessageSent, members: Set<String>) -> [String] {
        if let recipient = message.recipientId { return [recipient] }
        return members.subtracting([message.senderId]).sorted()
    }

    /// A group change's outcome.
    public enum GroupChange: Sendable, Hashable {
        /// Created.
        case created(GroupCreated)
        /// A member added.
        case added(MemberAdded)
        /// A member removed.
        case removed(MemberRemoved)

        /// The group.
        public var groupId: String {
            switch self {
            case .created(let event): event.groupId
            case .added(let event): event.groupId
            case .removed(let event): event.groupId
            }
        }

        /// Who asked.
        public var requestedBy: String {
            switch self {
            case .created(let event): event.ownerId
            case .added(let event): event.addedBy
            case .removed(let event): event.removedBy
            }
        }

        /// The event type.
        public var eventType: String {
            switch self {
            case .created: GroupCreated.eventType
            case .added: MemberAdded.eventType
            case .removed: MemberRemoved.eventType
            }
        }
    }

    /// The members after a group change, or its refusal.
    /// - Parameters:
    ///   - change: The change.
    ///   - members: The group's members now, or nil when there is no such group.
    ///   - reference: The registered users.
    public static func apply(_ change: GroupChange, to members: Set<String>?, reference: ChatReference)
        -> Result<Set<String>, Refusal>
    {
        switch change {
        case .created(let event):
            guard members == nil else { return .failure(Refusal(.invalidGroup, "group \(event.groupId) exists")) }
            let all = Set(event.members + [event.ownerId])
            guard event.members.count > 0, all.count > 1 else {
                return .failure(Refusal(.invalidGroup, "group \(event.groupId) has no members besides its owner"))
            }
            if let unknown = all.sorted().first(where: { !reference.isUser($0) }) {
                return .failure(Refusal(.unknownUser, "\(unknown) is not a registered user"))
            }
            return .success(all)
        case .added(let event):
            guard let members else { return .failure(Refusal(.unknownGroup, "no group \(event.groupId)")) }
            guard members.contains(event.addedBy) else {
                return .failure(Refusal(.notMember, "\(event.addedBy) is not a member of \(event.groupId)"))
            }
            guard reference.isUser(event.userId) else {
                return .failure(Refusal(.unknownUser, "\(event.userId) is not a registered user"))
            }
            return .success(members.union([event.userId]))
        case .removed(let event):
            guard let members else { return .failure(Refusal(.unknownGroup, "no group \(event.groupId)")) }
            guard members.contains(event.removedBy) else {
                return .failure(Refusal(.notMember, "\(event.removedBy) is not a member of \(event.groupId)"))
            }
            return .success(members.subtracting([event.userId]))
        }
    }

    /// The preview of a text.
    public static func preview(_ text: String) -> String { String(text.prefix(previewLength)) }
}
