// chat-router: one conversation's messages, status updates and membership changes are on one partition, so the
// router decides them in the log's order: it validates each message against the membership at that point, gives it
// the conversation's next sequence number, and fans it out as one delivery per recipient (the group's members at
// send time but the sender; a status's contacts), each on the recipient's key with an id derived from the
// conversation, the message and the recipient. A client's resend (the same message id) is recognised and
// ignored. Everything it decides is a function of its partition's log, so a replay after a crash decides the same.
import ArgumentParser
import DabbaEvents
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import MessagingDomain
import MessagingRuntime

@main
struct RouterService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-router", abstract: "Membership, per-conversation sequence numbers, validation and fan-out.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: chatSystem)
        let router = Router(reference: .standard)
        var pipeline = Pipeline(service: "chat-router", groupID: "chat-router")
        pipeline.emits(ChatSamples.accepted)
        pipeline.emits(ChatSamples.rejected)
        pipeline.emits(ChatSamples.changeRejected)
        pipeline.emits(ChatSamples.queued)
        let handled: [any Event.Type] = [
            MessageSent.self, StatusUpdated.self, GroupCreated.self, MemberAdded.self, MemberRemoved.self,
        ]
        pipeline.ignoreOthers(of: chatMessageEventTypes, handled: handled)
        pipeline.on(MessageSent.self, router.send)
        pipeline.on(StatusUpdated.self, router.status)
        pipeline.on(GroupCreated.self) { event, context in try await router.change(.created(event), context) }
        pipeline.on(MemberAdded.self) { event, context in try await router.change(.added(event), context) }
        pipeline.on(MemberRemoved.self) { event, context in try await router.change(.removed(event), context) }
        try await PipelineService.run(
            pipeline, options: options, migrations: ServiceEffects.migrations + RouterBook.migrations,
            configure: { demo.apply(to: &$0) })
    }
}

/// The router's handlers.
struct Router: Sendable {
    let reference: ChatReference

    /// Validates a message, numbers it and fans it out.
    @Sendable func send(_ message: MessageSent, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        let conversation = message.conversationId
        // A resend of a message already decided (accepted or refused): the client did not see our answer.
        guard try !RouterBook.knows(message.messageId, in: conversation, database: database) else { return }
        let members = try message.groupId.flatMap { try RouterBook.members(of: $0, in: database) }
        let replyKnown = try message.replyTo.map {
            try RouterBook.knows($0, in: conversation, acceptedOnly: true, database: database)
        } ?? false
        if let refusal = MessagingRules.check(message, members: members, replyKnown: replyKnown, reference: reference) {
            try RouterBook.recordRejected(message.messageId, in: conversation, database: database)
            try await context.emit(
                MessageRejected(
                    messageId: message.messageId, conversationId: conversation, senderId: message.senderId,
                    reason: refusal.reason, detail: refusal.detail, rejectedAt: Date()))
            return
        }
        let recipients = MessagingRules.recipients(of: message, members: members ?? [])
        try await fanOut(
            messageId: message.messageId, conversation: conversation, sender: message.senderId, kind: message.kind,
            text: message.text, sentAt: message.sentAt, to: recipients, context, database)
    }

    /// Validates a status update and fans it out to the poster's contacts.
    @Sendable func status(_ status: StatusUpdated, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        let conversation = Conversation.status(status.userId)
        guard try !RouterBook.knows(status.statusId, in: conversation, database: database) else { return }
        if let refusal = MessagingRules.check(status, reference: reference) {
            try RouterBook.recordRejected(status.statusId, in: conversation, database: database)
            try await context.emit(
                MessageRejected(
                    messageId: status.statusId, conversationId: conversation, senderId: status.userId,
                    reason: refusal.reason, detail: refusal.detail, rejectedAt: Date()))
            return
        }
        try await fanOut(
            messageId: status.statusId, conversation: conversation, sender: status.userId, kind: .status,
            text: status.text, sentAt: status.updatedAt, to: reference.contacts(of: status.userId), context, database)
    }

    /// Applies a group change, or refuses it.
    @Sendable func change(_ change: MessagingRules.GroupChange, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        let members = try RouterBook.members(of: change.groupId, in: database)
        switch MessagingRules.apply(change, to: members, reference: reference) {
        case .success(let updated):
            var created: GroupCreated?
            if case .created(let event) = change { created = event }
            try RouterBook.setMembers(of: change.groupId, from: members, to: updated, created: created, in: database)
        case .failure(let refusal):
            try await context.emit(
                GroupChangeRejected(
                    groupId: change.groupId, change: change.eventType, requestedBy: change.requestedBy,
                    reason: refusal.reason, detail: refusal.detail, rejectedAt: Date()))
        }
    }

    /// Numbers an accepted message and emits its acceptance and one delivery per recipient.
    private func fanOut(
        messageId: String, conversation: String, sender: String, kind: MessageKind, text: String, sentAt: Date,
        to recipients: [String], _ context: EventContext, _ database: any InboxTransaction
    ) async throws {
        let sequence = try RouterBook.accept(messageId, in: conversation, database: database)
        try ServiceEffects.record("accept:\(conversation)/\(messageId)", context: context, in: database)
        let now = Date()
        try await context.emit(
            MessageAccepted(
                messageId: messageId, conversationId: conversation, senderId: sender, kind: kind, sequence: sequence,
                recipientCount: recipients.count, sentAt: sentAt, acceptedAt: now))
        let preview = MessagingRules.preview(text)
        for recipient in recipients {
            try await context.emit(
                DeliveryQueued(
                    deliveryId: DeliveryQueued.id(conversation: conversation, message: messageId, recipient: recipient),
                    messageId: messageId, conversationId: conversation, senderId: sender, recipientId: recipient,
                    sequence: sequence, kind: kind, preview: preview, recipientCount: recipients.count, sentAt: sentAt,
                    queuedAt: now))
        }
    }
}
