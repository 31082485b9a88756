// chat-push: notifications for offline users, collapsed. The first message queued for an offline user opens a
// two-second window (a durable timer); what arrives meanwhile joins it, and one notification announces them all
// ("5 new messages in 2 chats"). A user who connects before the window closes needs no notification: it is dropped
// and counted as suppressed.
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
struct PushService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-push", abstract: "Collapsed push notifications for offline users.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: chatSystem)
        var pipeline = Pipeline(service: "chat-push", groupID: "chat-push")
        pipeline.emits(ChatSamples.push)
        pipeline.ignoreOthers(
            of: chatDeliveryEventTypes, handled: [PushRequested.self, PushCollapseDue.self, UserOnline.self])
        pipeline.on(PushRequested.self, Push.requested)
        pipeline.on(PushCollapseDue.self, Push.due)
        pipeline.on(UserOnline.self, Push.online)
        try await PipelineService.run(
            pipeline, options: options, migrations: ServiceEffects.migrations + PushBook.migrations,
            configure: { configuration in
                demo.apply(to: &configuration)
                // The collapse window is a timer: what it sends must commit with the pending notification it
                // clears (Docs/pipelines.md, "Transactional outbox").
                configuration.outbox.enabled = true
            })
    }
}

/// The push service's handlers.
enum Push {
    static let timer = "push"

    /// Adds a message to the user's pending notification, opening a window when there is none.
    @Sendable static func requested(_ request: PushRequested, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        if try PushBook.add(request, in: database) {
            try context.timers.schedule(
                PushCollapseDue(userId: request.userId), id: timer, after: MessagingRules.pushCollapseWindow)
        }
    }

    /// The window closed: one notification for everything pending.
    @Sendable static func due(_ due: PushCollapseDue, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        guard let pending = try PushBook.take(due.userId, in: database) else { return }
        try PushBook.count("sent", in: database)
        try PushBook.count("messages", by: pending.messages, in: database)
        try ServiceEffects.record("push:\(due.userId):\(pending.firstMessageId)", context: context, in: database)
        try await context.emit(
            PushSent(
                userId: due.userId, messages: pending.messages, conversations: pending.conversations,
                firstMessageId: pending.firstMessageId, sentAt: Date()))
    }

    /// The user is back: a pending notification is no longer needed.
    @Sendable static func online(_ event: UserOnline, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        guard try PushBook.take(event.userId, in: database) != nil else { return }
        try context.timers.cancel(id: timer)
        try PushBook.count("suppressed", in: database)
    }
}
