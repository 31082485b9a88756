import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import MessagingDomain
import Synchronization

/// Watches `chat.messages`, `chat.deliveries` and `chat.receipts` (and the dead-letter topics) from the outside. It
/// replays the router's membership rules over the log, so for every accepted message it knows who should receive it
/// (the members at that point of the log but the sender, or the poster's contacts), and checks the deliveries and
/// receipts against that: one delivery and one delivered receipt per (message, recipient), nobody else, each
/// recipient's messages of a conversation in sequence order with no gaps, reads only of delivered messages. It also
/// follows presence as the mailbox announces it, to know who is online at the end.
public final class ChatObserver: Sendable {
    struct Accepted {
        var sequence: Int
        var kind: MessageKind
        var recipientCount: Int
    }

    /// The rules' decision at the message's first send: its recipients, or the reason it is refused.
    enum Decision {
        case accept([String])
        case refuse(String)
    }

    struct State {
        var groups: [String: Set<String>] = [:]
        var sent: Set<MessageKey> = []
        var decisions: [MessageKey: Decision] = [:]
        var resends = 0
        var rejected: [MessageKey: String] = [:]
        var accepted: [MessageKey: Accepted] = [:]
        var lastSequence: [String: Int] = [:]
        var sequenceGaps = 0
        var queued: [String: Int] = [:]
        var delivered: [String: Int] = [:]
        /// Per recipient and conversation, the sequence numbers delivered, in log order.
        var deliveredOrder: [String: [Int]] = [:]
        var reads: [String] = []
        var ticks: [MessageKey: [Tick]] = [:]
        var sessions: [String: (session: String, online: Bool)] = [:]
        var pushes = 0
        var expiredSessions = 0
        var resumedSessions = 0
        var onlineLatencies: [Double] = []
        var flushed = 0
        var readable: [MessageDelivered] = []
        var undecodable = 0
        var groupChangesRejected = 0
        /// The large group's deliveries queued, and the first and last record timestamps.
        var largeGroupQueued: (count: Int, first: Int64, last: Int64)?
        /// Each message's first send, by record timestamp (ms).
        var sentMilliseconds: [MessageKey: Int64] = [:]
        /// Each message's latest decision or delivery, by record timestamp (ms).
        var finishedMilliseconds: [MessageKey: Int64] = [:]
    }

    final class Tracker: Sendable {
        let state = Mutex(State())
        let reference: ChatReference
        init(reference: ChatReference) { self.reference = reference }
    }

    private let tracker: Tracker
    private let watcher: EventLogWatcher

    /// Creates an observer (call ``run()`` to start reading).
    public init(bootstrap: String, deadLetterTopics: [String], reference: ChatReference = .standard, logger: Logger) throws {
        let tracker = Tracker(reference: reference)
        self.tracker = tracker
        watcher = try EventLogWatcher(
            bootstrap: bootstrap, mainTopics: [chatMessagesTopic, chatDeliveriesTopic, chatReceiptsTopic],
            deadLetterTopics: deadLetterTopics, groupPrefix: "chat-observer", logger: logger
        ) { message, type, timestamp in
            tracker.state.withLock { state in
                Self.track(message, type: type, timestamp: timestamp, reference: tracker.reference, in: &state)
            }
        }
    }

    /// Whether the consumer has its partitions.
    public var isAssigned: Bool { watcher.isAssigned }
    /// Reads until ``stop()``.
    public func run() async throws { try await watcher.run() }
    /// Stops reading.
    public func stop() async { await watcher.stop() }

    /// Takes the delivered receipts seen since the last call (the clients read some of them).
    public func takeDelivered() -> [MessageDelivered] {
        tracker.state.withLock { state in
            defer { state.readable.removeAll(keepingCapacity: true) }
            return state.readable
        }
    }

    private static func decode<E: Decodable>(_ type: E.Type, _ message: KafkaMessage) -> E? {
        EventLogWatcher.payload(type, of: message)
    }

    private static func track(
        _ message: KafkaMessage, type: String, timestamp: Int64, reference: ChatReference, in state: inout State
    ) {
        func change(_ change: MessagingRules.GroupChange) {
            if case .success(let members) = MessagingRules.apply(
                change, to: state.groups[change.groupId], reference: reference)
            {
                state.groups[change.groupId] = members
            }
        }
        switch type {
        case MessageSent.eventType:
            // The router decides a message where its first send is in the log: replay that decision here.
            guard let event = decode(MessageSent.self, message) else { state.undecodable += 1; return }
            let key = MessageKey(conversationId: event.conversationId, messageId: event.messageId)
            guard state.sent.insert(key).inserted else {
                state.resends += 1
                return
            }
            state.sentMilliseconds[key] = timestamp
            let members = event.groupId.flatMap { state.groups[$0] }
            let replyKnown = event.replyTo.map { reply in
                if case .accept = state.decisions[MessageKey(conversationId: key.conversationId, messageId: reply)] {
                    return true
                }
                return false
            } ?? false
            if let refusal = MessagingRules.check(event, members: members, replyKnown: replyKnown, reference: reference) {
                state.decisions[key] = .refuse(refusal.reason.rawValue)
            } else {
                state.decisions[key] = .accept(MessagingRules.recipients(of: event, members: members ?? []))
            }
        case StatusUpdated.eventType:
            guard let event = decode(StatusUpdated.self, message) else { state.undecodable += 1; return }
            let key = MessageKey(conversationId: Conversation.status(event.userId), messageId: event.statusId)
            guard state.sent.insert(key).inserted else {
                state.resends += 1
                return
            }
            state.sentMilliseconds[key] = timestamp
            if let refusal = MessagingRules.check(event, reference: reference) {
                state.decisions[key] = .refuse(refusal.reason.rawValue)
            } else {
                state.decisions[key] = .accept(reference.contacts(of: event.userId))
            }
        case GroupCreated.eventType:
            guard let event = decode(GroupCreated.self, message) else { state.undecodable += 1; return }
            change(.created(event))
        case MemberAdded.eventType:
            guard let event = decode(MemberAdded.self, message) else { state.undecodable += 1; return }
            change(.added(event))
        case MemberRemoved.eventType:
            guard let event = decode(MemberRemoved.self, message) else { state.undecodable += 1; return }
            change(.removed(event))
        case GroupChangeRejected.eventType:
            state.groupChangesRejected += 1
        case MessageRejected.eventType:
            guard let event = decode(MessageRejected.self, message) else { state.undecodable += 1; return }
            let key = MessageKey(conversationId: event.conversationId, messageId: event.messageId)
            state.rejected[key] = event.reason.rawValue
            state.finishedMilliseconds[key] = max(state.finishedMilliseconds[key] ?? timestamp, timestamp)
        case MessageAccepted.eventType:
            guard let event = decode(MessageAccepted.self, message) else { state.undecodable += 1; return }
            let key = MessageKey(conversationId: event.conversationId, messageId: event.messageId)
            if event.sequence != state.lastSequence[event.conversationId, default: 0] + 1 { state.sequenceGaps += 1 }
            state.lastSequence[event.conversationId] = max(state.lastSequence[event.conversationId, default: 0], event.sequence)
            state.accepted[key] = Accepted(sequence: event.sequence, kind: event.kind, recipientCount: event.recipientCount)
            state.finishedMilliseconds[key] = max(state.finishedMilliseconds[key] ?? timestamp, timestamp)
        case DeliveryQueued.eventType:
            guard let event = decode(DeliveryQueued.self, message) else { state.undecodable += 1; return }
            state.queued[event.deliveryId, default: 0] += 1
            if event.conversationId == Conversation.group(ChatReference.largeGroup) {
                let seen = state.largeGroupQueued ?? (0, timestamp, timestamp)
                state.largeGroupQueued = (seen.count + 1, min(seen.first, timestamp), max(seen.last, timestamp))
            }
        case MessageDelivered.eventType:
            guard let event = decode(MessageDelivered.self, message) else { state.undecodable += 1; return }
            let id = DeliveryQueued.id(conversation: event.conversationId, message: event.messageId, recipient: event.recipientId)
            state.delivered[id, default: 0] += 1
            state.deliveredOrder["\(event.recipientId) \(event.conversationId)", default: []].append(event.sequence)
            let key = MessageKey(conversationId: event.conversationId, messageId: event.messageId)
            state.finishedMilliseconds[key] = max(state.finishedMilliseconds[key] ?? timestamp, timestamp)
            if event.flushed {
                state.flushed += 1
            } else {
                state.onlineLatencies.append(event.deliveredAt.timeIntervalSince(event.sentAt) * 1000)
            }
            if event.kind != .status { state.readable.append(event) }
        case MessageRead.eventType:
            guard let event = decode(MessageRead.self, message) else { state.undecodable += 1; return }
            state.reads.append(
                DeliveryQueued.id(conversation: event.conversationId, message: event.messageId, recipient: event.readerId))
        case MessageTicked.eventType:
            guard let event = decode(MessageTicked.self, message) else { state.undecodable += 1; return }
            state.ticks[MessageKey(conversationId: event.conversationId, messageId: event.messageId), default: []].append(
                event.tick)
        case PresenceChanged.eventType:
            // Presence as the mailbox decided it: its own announcements, in its order (a client's online or offline
            // record may sit in the log before or after the mailbox's decision about an earlier heartbeat).
            guard let event = decode(PresenceChanged.self, message) else { state.undecodable += 1; return }
            state.sessions[event.userId] = (event.sessionId, event.online)
            if event.reason == .expired { state.expiredSessions += 1 }
            if event.reason == .resumed { state.resumedSessions += 1 }
        case PushSent.eventType:
            state.pushes += 1
        default:
            return
        }
    }

    /// What the log shows now for the messages and statuses `keys` (the load's), checked against the rules.
    public func snapshot(of keys: [MessageKey]) -> ChatRun {
        let counts = watcher.counts
        return tracker.state.withLock { state in
            var run = ChatRun()
            run.messages = keys.count
            run.resends = state.resends
            var expectedByPair: [String: [Int]] = [:]
            var expected = Set<String>()
            var firstSent: Int64?
            var lastFinished: Int64?
            for key in keys {
                if let sent = state.sentMilliseconds[key] { firstSent = min(firstSent ?? sent, sent) }
                if let finished = state.finishedMilliseconds[key] { lastFinished = max(lastFinished ?? finished, finished) }
                let decision = state.decisions[key]
                if let reason = state.rejected[key] {
                    run.rejections[reason, default: 0] += 1
                    run.rejected += 1
                    if case .refuse(reason) = decision {} else { run.wrongDecisions.append(key) }
                    continue
                }
                guard let accepted = state.accepted[key] else {
                    run.undecided.append(key)
                    continue
                }
                guard case .accept(let recipients) = decision else {
                    run.wrongDecisions.append(key)
                    continue
                }
                run.accepted += 1
                if accepted.kind == .status { run.statuses += 1 }
                if accepted.recipientCount != recipients.count { run.countMismatches += 1 }
                var allDelivered = true
                for recipient in recipients {
                    let id = DeliveryQueued.id(conversation: key.conversationId, message: key.messageId, recipient: recipient)
                    expected.insert(id)
                    expectedByPair["\(recipient) \(key.conversationId)", default: []].append(accepted.sequence)
                    if accepted.kind == .status { run.statusDeliveries += 1 } else { run.expectedDeliveries += 1 }
                    if state.queued[id] == nil { run.missing += 1 }
                    if state.delivered[id] == nil {
                        allDelivered = false
                        if state.sessions[recipient]?.online == true {
                            run.undeliveredOnline += 1
                        } else {
                            run.waitingOffline += 1
                        }
                    }
                }
                if accepted.kind != .status {
                    let ticks = state.ticks[key] ?? []
                    let deliveredTicks = ticks.filter { $0 == .delivered }.count
                    if deliveredTicks > 1 { run.duplicateTicks += deliveredTicks - 1 }
                    if allDelivered, deliveredTicks == 0 { run.missingTicks += 1 }
                    if !allDelivered, deliveredTicks > 0 { run.earlyTicks += 1 }
                    if key.conversationId.hasPrefix("group:") { run.groupMessages += 1 }
                }
            }
            run.queued = state.queued.count
            run.leaked += state.queued.keys.filter { !expected.contains($0) }.count
            for (id, count) in state.delivered {
                if !expected.contains(id) { run.leaked += 1 }
                run.delivered += 1
                run.duplicateDeliveries += count - 1
            }
            for (pair, delivered) in state.deliveredOrder {
                let wanted = (expectedByPair[pair] ?? []).sorted()
                var next = 0
                for sequence in delivered {
                    if next < wanted.count, wanted[next] == sequence {
                        next += 1
                    } else {
                        run.orderViolations += 1
                        if let position = wanted.firstIndex(of: sequence) { next = position + 1 }
                    }
                }
            }
            run.reads = state.reads.count
            run.readsWithoutDelivery = state.reads.filter { state.delivered[$0] == nil }.count
            run.sequenceGaps = state.sequenceGaps
            run.online = Set(state.sessions.filter { $0.value.online }.keys)
            run.pushes = state.pushes
            run.expiredSessions = state.expiredSessions
            run.resumedSessions = state.resumedSessions
            run.flushed = state.flushed
            run.onlineDelivered = state.onlineLatencies.count
            run.p50Milliseconds = Percentile.of(50, state.onlineLatencies)
            run.p99Milliseconds = Percentile.of(99, state.onlineLatencies)
            run.groupChangesRejected = state.groupChangesRejected
            run.undecodable = state.undecodable
            if let large = state.largeGroupQueued, large.last > large.first {
                run.largeGroupFanOutPerSecond = Double(large.count) * 1000 / Double(large.last - large.first)
            }
            if let first = firstSent, let last = lastFinished, last > first {
                run.spanSeconds = Double(last - first) / 1000
            }
            run.events = counts.events
            run.duplicateRecords = counts.duplicateDeliveries
            run.deadLetters = counts.deadLetters
            return run
        }
    }
}

/// What the observer saw, checked.
public struct ChatRun: Sendable {
    /// Distinct messages and statuses of the load.
    public var messages = 0
    /// Resends of an id already sent.
    public var resends = 0
    /// Accepted (statuses included).
    public var accepted = 0
    /// Of which status updates.
    public var statuses = 0
    /// Accepted group messages.
    public var groupMessages = 0
    /// Refused.
    public var rejected = 0
    /// Refusals by reason.
    public var rejections: [String: Int] = [:]
    /// Sent but neither accepted nor refused yet.
    public var undecided: [MessageKey] = []
    /// Accepted where the rules, replayed over the log, refuse (or the other way round, or for another reason).
    public var wrongDecisions: [MessageKey] = []
    /// Message deliveries the rules call for: one per one-to-one message, members − 1 per group message.
    public var expectedDeliveries = 0
    /// Status deliveries the rules call for (contacts per status).
    public var statusDeliveries = 0
    /// Distinct deliveries queued.
    public var queued = 0
    /// Distinct deliveries delivered.
    public var delivered = 0
    /// Deliveries the rules call for that were never queued.
    public var missing = 0
    /// Deliveries queued or delivered that the rules do not call for (a removed member, the sender, a stranger).
    public var leaked = 0
    /// Delivered receipts beyond the first per (message, recipient).
    public var duplicateDeliveries = 0
    /// Deliveries out of sequence order or after a gap, per recipient and conversation.
    public var orderViolations = 0
    /// Accepted messages whose sequence number is not the conversation's previous plus one.
    public var sequenceGaps = 0
    /// Acceptances whose recipient count differs from the rules'.
    public var countMismatches = 0
    /// Deliveries not delivered to a user who is online.
    public var undeliveredOnline = 0
    /// Deliveries waiting for a user who is offline.
    public var waitingOffline = 0
    /// Messages every recipient has, without a delivered tick.
    public var missingTicks = 0
    /// Delivered ticks beyond one per message.
    public var duplicateTicks = 0
    /// Delivered ticks given before every recipient had the message.
    public var earlyTicks = 0
    /// Read receipts.
    public var reads = 0
    /// Read receipts of a message not delivered to the reader.
    public var readsWithoutDelivery = 0
    /// Users online.
    public var online: Set<String> = []
    /// Push notifications.
    public var pushes = 0
    /// Sessions that timed out.
    public var expiredSessions = 0
    /// Sessions that timed out and resumed with a late heartbeat.
    public var resumedSessions = 0
    /// Deliveries that waited in the mailbox.
    public var flushed = 0
    /// Deliveries to online users (the latency's sample).
    public var onlineDelivered = 0
    /// Sent → delivered for online users.
    public var p50Milliseconds: Double = 0
    /// 99th percentile of the same.
    public var p99Milliseconds: Double = 0
    /// Group changes refused.
    public var groupChangesRejected = 0
    /// Records that did not decode.
    public var undecodable = 0
    /// Deliveries of the large group's messages queued per second, from the first to the last (nil without any).
    public var largeGroupFanOutPerSecond: Double?
    /// Distinct events.
    public var events = 0
    /// Records with an event id seen before.
    public var duplicateRecords = 0
    /// Dead-lettered records.
    public var deadLetters: [DeadLetter] = []
    /// Seconds from the first message's record to the last decision or delivery of any message, by record
    /// timestamps.
    public var spanSeconds: Double = 0

    /// Messages decided (accepted or refused) per second through the services, over ``spanSeconds``.
    public var messagesPerSecond: Int { spanSeconds > 0 ? Int(Double(accepted + rejected) / spanSeconds) : 0 }
    /// Distinct deliveries delivered per second, over ``spanSeconds``.
    public var deliveriesPerSecond: Int { spanSeconds > 0 ? Int(Double(delivered) / spanSeconds) : 0 }
}
