// chat-mailbox: per-user store-and-forward and presence. Each user's deliveries and presence are on the user's
// partition, so they are handled in one order: a delivery for an online user is delivered at once; for an offline
// user it is kept (and a push requested) until the user connects, when the mailbox flushes everything kept, per
// conversation in sequence order, in one transaction. A session stays online while heartbeats arrive: 30 s after
// the last one a durable timer takes it offline (a late heartbeat of that session resumes it). A disconnect or
// timeout of a session that is no longer the current one (a flapping client reconnected meanwhile) changes nothing.
// Every transition is announced (chat.presence.changed) in the order the mailbox decided it.
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
struct MailboxService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-mailbox", abstract: "Per-user store-and-forward, presence with timeouts, ordered flushes.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: chatSystem)
        var pipeline = Pipeline(service: "chat-mailbox", groupID: "chat-mailbox")
        pipeline.emits(ChatSamples.delivered)
        pipeline.emits(ChatSamples.pushRequested)
        pipeline.emits(ChatSamples.presenceChanged)
        let handled: [any Event.Type] = [
            DeliveryQueued.self, UserOnline.self, UserOffline.self, PresenceHeartbeat.self, PresenceTimeoutDue.self,
        ]
        pipeline.ignoreOthers(of: chatDeliveryEventTypes, handled: handled)
        let mailbox = Mailbox()
        pipeline.on(DeliveryQueued.self, mailbox.queued)
        pipeline.on(UserOnline.self, mailbox.online)
        pipeline.on(UserOffline.self, mailbox.offline)
        pipeline.on(PresenceHeartbeat.self, mailbox.heartbeat)
        pipeline.on(PresenceTimeoutDue.self, mailbox.timeout)
        try await PipelineService.run(
            pipeline, options: options, migrations: ServiceEffects.migrations + MailboxBook.migrations,
            configure: { configuration in
                demo.apply(to: &configuration)
                // Presence timeouts are timers that fire between batches: after a crash, a delivery handled again
                // may find its user offline where the first run delivered it, so what a batch emitted must commit
                // with the mailbox, or not at all (Docs/pipelines.md, "Transactional outbox").
                configuration.outbox.enabled = true
            }
        )
    }
}

/// The mailbox's handlers.
struct Mailbox: Sendable {
    static let presenceTimer = "presence"

    /// Keeps a delivery; delivers it at once when its recipient is online, else requests a push.
    @Sendable func queued(_ delivery: DeliveryQueued, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        guard try MailboxBook.enqueue(delivery, in: database) else { return }
        if try MailboxBook.presence(of: delivery.recipientId, in: database)?.online == true {
            try await flush(delivery.recipientId, arriving: delivery.deliveryId, context, database)
        } else {
            try await context.emit(
                PushRequested(
                    userId: delivery.recipientId, messageId: delivery.messageId,
                    conversationId: delivery.conversationId, senderId: delivery.senderId, requestedAt: Date()))
        }
    }

    /// A new session: the user is online; everything kept is flushed.
    @Sendable func online(_ event: UserOnline, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        let presence = MailboxBook.Presence(
            sessionId: event.sessionId, status: .online, lastSeenMilliseconds: Date().chatMilliseconds)
        try change(event.userId, to: presence, because: .connected, context, database)
        try await context.emit(changed(event.userId, presence, .connected))
        try await flush(event.userId, arriving: nil, context, database)
    }

    /// The current session disconnected.
    @Sendable func offline(_ event: UserOffline, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        guard var presence = try MailboxBook.presence(of: event.userId, in: database),
            presence.sessionId == event.sessionId, presence.status != .offline
        else { return }
        presence.status = .offline
        try change(event.userId, to: presence, because: .disconnected, context, database)
        try await context.emit(changed(event.userId, presence, .disconnected))
    }

    /// The current session is still there: its timeout starts again. A session that expired only because its
    /// heartbeats waited behind a backlog resumes, and what was kept meanwhile is flushed.
    @Sendable func heartbeat(_ event: PresenceHeartbeat, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        // A heartbeat of a session that disconnected or was replaced does not bring it back: the client reconnects.
        guard var presence = try MailboxBook.presence(of: event.userId, in: database),
            presence.sessionId == event.sessionId, presence.status != .offline
        else { return }
        let resumed = presence.status == .expired
        presence.status = .online
        presence.lastSeenMilliseconds = Date().chatMilliseconds
        try change(event.userId, to: presence, because: resumed ? .resumed : nil, context, database)
        if resumed {
            try await context.emit(changed(event.userId, presence, .resumed))
            try await flush(event.userId, arriving: nil, context, database)
        }
    }

    /// No heartbeat in time: the session is offline.
    @Sendable func timeout(_ due: PresenceTimeoutDue, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        guard var presence = try MailboxBook.presence(of: due.userId, in: database), presence.online,
            presence.sessionId == due.sessionId
        else { return }
        presence.status = .expired
        try change(due.userId, to: presence, because: .expired, context, database)
        try await context.emit(changed(due.userId, presence, .expired))
    }

    /// Writes a presence and (re)starts or cancels the session's timeout.
    private func change(
        _ userId: String, to presence: MailboxBook.Presence, because reason: PresenceReason?, _ context: EventContext,
        _ database: any InboxTransaction
    ) throws {
        try MailboxBook.setPresence(userId, presence, in: database)
        if presence.online {
            try context.timers.schedule(
                PresenceTimeoutDue(userId: userId, sessionId: presence.sessionId), id: Self.presenceTimer,
                after: MessagingRules.presenceTimeout)
        } else if reason == .disconnected {
            try context.timers.cancel(id: Self.presenceTimer)
        }
    }

    /// The presence change the mailbox announces.
    private func changed(_ userId: String, _ presence: MailboxBook.Presence, _ reason: PresenceReason) -> PresenceChanged {
        PresenceChanged(
            userId: userId, sessionId: presence.sessionId, online: presence.online, reason: reason,
            lastSeenAt: Date(chatMilliseconds: presence.lastSeenMilliseconds), changedAt: Date())
    }

    /// Delivers every delivery kept for an online user, per conversation in sequence order.
    private func flush(
        _ userId: String, arriving: String?, _ context: EventContext, _ database: any InboxTransaction
    ) async throws {
        for queued in try MailboxBook.queued(for: userId, in: database) {
            let now = Date()
            try MailboxBook.markDelivered(queued.deliveryId, at: now, in: database)
            try ServiceEffects.record("deliver:\(queued.deliveryId)", context: context, in: database)
            var receipt = queued.receipt
            receipt.deliveredAt = now
            receipt.flushed = queued.deliveryId != arriving
            try await context.emit(receipt)
        }
    }
}
