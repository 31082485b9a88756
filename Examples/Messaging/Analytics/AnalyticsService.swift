// chat-analytics: messages, rejections by reason, fan-out (deliveries per accepted message), deliveries and reads per
// second, pushes, expired sessions and sent → delivered latency for online recipients; `chat-analytics --report`
// prints them from its store.
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
struct AnalyticsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-analytics", abstract: "Message rates, fan-out and delivery latency (--report).")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    @Flag(help: "Print the report from the store (--inbox sqlite:PATH) and exit, without consuming.")
    var report = false

    func run() async throws {
        try demo.check(options, system: chatSystem)
        if report {
            let path = try sqliteStorePath(inbox: options.inbox, group: "chat-analytics", instanceID: options.instanceID)
            let store = try SQLiteInbox(path: path)
            try await store.migrate(ChatReport.migrations)
            for line in try await store.withConnection({ try ChatReport.lines($0) }) { print(line) }
            return
        }
        var pipeline = Pipeline(service: "chat-analytics", groupID: "chat-analytics")
        let handled: [any Event.Type] = [
            MessageSent.self, StatusUpdated.self, MessageRejected.self, MessageAccepted.self, DeliveryQueued.self,
            PushSent.self, PresenceChanged.self, MessageDelivered.self, MessageRead.self,
        ]
        pipeline.ignoreOthers(of: chatMessageEventTypes + chatDeliveryEventTypes + chatReceiptEventTypes, handled: handled)
        pipeline.on(MessageSent.self) { event, context in
            try sent(event.conversationId, event.messageId, at: event.sentAt, context)
        }
        pipeline.on(StatusUpdated.self) { event, context in
            try sent(Conversation.status(event.userId), event.statusId, at: event.updatedAt, context)
        }
        pipeline.on(MessageRejected.self) { event, context in
            let database = try chatDatabase(context)
            try ChatReport.count("rejected", in: database)
            try ChatReport.count("rejected:\(event.reason.rawValue)", in: database)
        }
        pipeline.on(MessageAccepted.self) { _, context in try ChatReport.count("accepted", in: try chatDatabase(context)) }
        pipeline.on(DeliveryQueued.self) { event, context in
            try ChatReport.count("queued", at: event.queuedAt, in: try chatDatabase(context))
        }
        pipeline.on(PushSent.self) { _, context in try ChatReport.count("push", in: try chatDatabase(context)) }
        pipeline.on(PresenceChanged.self) { event, context in
            guard event.reason == .expired || event.reason == .resumed else { return }
            try ChatReport.count(event.reason.rawValue, in: try chatDatabase(context))
        }
        pipeline.on(MessageRead.self) { _, context in try ChatReport.count("read", in: try chatDatabase(context)) }
        pipeline.on(MessageDelivered.self) { event, context in
            let database = try chatDatabase(context)
            try ChatReport.count("delivered", at: event.deliveredAt, in: database)
            _ = try database.execute(
                "INSERT INTO analytics_latency (delivery, ms, flushed) VALUES (?, ?, ?) ON CONFLICT (delivery) DO NOTHING",
                [
                    .text(DeliveryQueued.id(conversation: event.conversationId, message: event.messageId, recipient: event.recipientId)),
                    .integer(Int64((event.deliveredAt.timeIntervalSince(event.sentAt) * 1000).rounded())),
                    .integer(event.flushed ? 1 : 0),
                ])
        }
        try await PipelineService.run(
            pipeline, options: options, migrations: ChatReport.migrations, configure: { demo.apply(to: &$0) })
    }
}

/// Counts a message sent, or a resend of one.
private func sent(_ conversation: String, _ message: String, at date: Date, _ context: EventContext) throws {
    let database = try chatDatabase(context)
    let first = try database.execute(
        "INSERT INTO analytics_sent (conversation_id, message_id) VALUES (?, ?) ON CONFLICT (conversation_id, message_id) DO NOTHING",
        [.text(conversation), .text(message)])
    try ChatReport.count(first == 1 ? "sent" : "resent", at: first == 1 ? date : nil, in: database)
}
