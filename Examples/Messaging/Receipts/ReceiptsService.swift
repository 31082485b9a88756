// chat-receipts: the sender's ticks. Delivered and read receipts are on the conversation's key, each recipient's
// read after its delivered; the service counts them per message and ticks the message once every recipient at send
// time has it (delivered) and once every one has read it (read) — for a group, once all of its members then. A read
// receipt for a message never delivered to the reader is a client's bug and is dead-lettered with that reason.
// Status updates have no ticks.
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
struct ReceiptsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat-receipts", abstract: "Delivered and read ticks per message, fully delivered/read for groups.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: chatSystem)
        var pipeline = Pipeline(service: "chat-receipts", groupID: "chat-receipts")
        pipeline.emits(ChatSamples.ticked)
        pipeline.ignoreOthers(of: chatReceiptEventTypes, handled: [MessageDelivered.self, MessageRead.self])
        pipeline.on(MessageDelivered.self, Receipts.delivered)
        pipeline.on(MessageRead.self, Receipts.read)
        try await PipelineService.run(
            pipeline, options: options, migrations: ServiceEffects.migrations + ReceiptsBook.migrations,
            configure: { demo.apply(to: &$0) })
    }
}

/// The receipts service's handlers.
enum Receipts {
    /// Counts a delivery; ticks the message when every recipient has it.
    @Sendable static func delivered(_ receipt: MessageDelivered, _ context: EventContext) async throws {
        guard receipt.kind != .status else { return }
        let database = try chatDatabase(context)
        let inserted = try database.execute(
            "INSERT INTO chat_receipts (conversation_id, message_id, recipient, delivered_ms) VALUES (?, ?, ?, ?) ON CONFLICT (conversation_id, message_id, recipient) DO NOTHING",
            [
                .text(receipt.conversationId), .text(receipt.messageId), .text(receipt.recipientId),
                .integer(receipt.deliveredAt.chatMilliseconds),
            ])
        guard inserted == 1 else { return }
        let counts = try ReceiptsBook.count(
            .delivered, conversation: receipt.conversationId, message: receipt.messageId, sender: receipt.senderId,
            recipientCount: receipt.recipientCount, in: database)
        if counts.delivered >= counts.recipients, !counts.deliveredTicked {
            try await tick(.delivered, receipt.messageId, receipt.conversationId, receipt.senderId, counts.recipients, context, database)
        }
    }

    /// Counts a read; ticks the message blue when every recipient read it.
    @Sendable static func read(_ read: MessageRead, _ context: EventContext) async throws {
        let database = try chatDatabase(context)
        guard
            let row = try database.query(
                "SELECT read_ms FROM chat_receipts WHERE conversation_id = ? AND message_id = ? AND recipient = ?",
                [.text(read.conversationId), .text(read.messageId), .text(read.readerId)]
            ).first
        else {
            throw PermanentError(
                HandlerFailure(
                    "\(read.readerId) read \(read.messageId) of \(read.conversationId), which was never delivered to them"))
        }
        guard row[0].integerValue == nil else { return }
        _ = try database.execute(
            "UPDATE chat_receipts SET read_ms = ? WHERE conversation_id = ? AND message_id = ? AND recipient = ?",
            [.integer(read.readAt.chatMilliseconds), .text(read.conversationId), .text(read.messageId), .text(read.readerId)])
        let counts = try ReceiptsBook.count(
            .read, conversation: read.conversationId, message: read.messageId, sender: "", recipientCount: 0,
            in: database)
        if counts.read >= counts.recipients, !counts.readTicked {
            let sender =
                try database.query(
                    "SELECT sender FROM chat_ticks WHERE conversation_id = ? AND message_id = ?",
                    [.text(read.conversationId), .text(read.messageId)]
                ).first?[0].textValue ?? ""
            try await tick(.read, read.messageId, read.conversationId, sender, counts.recipients, context, database)
        }
    }

    private static func tick(
        _ tick: Tick, _ message: String, _ conversation: String, _ sender: String, _ recipients: Int,
        _ context: EventContext, _ database: any InboxTransaction
    ) async throws {
        try ReceiptsBook.ticked(tick, conversation: conversation, message: message, in: database)
        try ServiceEffects.record("tick:\(tick.rawValue):\(conversation)/\(message)", context: context, in: database)
        try await context.emit(
            MessageTicked(
                messageId: message, conversationId: conversation, senderId: sender, tick: tick, recipients: recipients,
                tickedAt: Date()))
    }
}
