import DabbaEvents
import DabbaInbox
import DabbaPipeline
import DemoServiceKit
import MessagingDomain

/// The five services of the example, by executable name, in start order.
public let chatServiceNames = ["chat-router", "chat-mailbox", "chat-receipts", "chat-push", "chat-analytics"]

/// Messages, status updates, group changes and the router's decisions, keyed by conversation.
public let chatMessagesTopic = "chat.messages"

/// Each recipient's deliveries, presence and push notifications, keyed by user (per-user sharding).
public let chatDeliveriesTopic = "chat.deliveries"

/// Delivered and read receipts and the senders' ticks, keyed by conversation.
public let chatReceiptsTopic = "chat.receipts"

/// The example system's name in messages.
public let chatSystem = "messaging"

/// The fetch wait the demo and the tests give the services (see `DemoServiceOptions.fetchWait`).
public let chatFetchWait = "20ms"

/// The event types on `chat.messages`.
public let chatMessageEventTypes: [any Event.Type] = [
    MessageSent.self, MessageRejected.self, MessageAccepted.self, GroupCreated.self, MemberAdded.self,
    MemberRemoved.self, GroupChangeRejected.self, StatusUpdated.self,
]

/// The event types on `chat.deliveries`.
public let chatDeliveryEventTypes: [any Event.Type] = [
    DeliveryQueued.self, UserOnline.self, UserOffline.self, PresenceHeartbeat.self, PresenceChanged.self,
    PushRequested.self, PushSent.self,
    // The durable timers' events: declared on the topic for the contract checks, never produced to it.
    PresenceTimeoutDue.self, PushCollapseDue.self,
]

/// The event types on `chat.receipts`.
public let chatReceiptEventTypes: [any Event.Type] = [MessageDelivered.self, MessageRead.self, MessageTicked.self]

/// The database of the handled event (the messaging services keep their state in the inbox database).
public func chatDatabase(_ context: EventContext) throws -> any InboxTransaction {
    try ServiceEffects.database(context, system: chatSystem)
}
