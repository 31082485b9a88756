import DabbaEvents
import DabbaKafka
import DemoKit
import Foundation
import MessagingDomain
import Synchronization

/// The phones of the demo and the tests: they connect (a new session each time), send heartbeats while connected,
/// disconnect or silently lose their connection, send messages, statuses and group changes, and read some of what
/// is delivered to them. Everything goes through one producer, in order.
public final class ChatClients: Sendable {
    struct State {
        var sessions: [String: Int] = [:]
        var connected: Set<String> = []
        /// Connected as far as the phone knows, but its heartbeats no longer arrive.
        var silent: Set<String> = []
        var reading = true
        /// Rounds of ``keepAlive(reading:readShare:)`` completed.
        var rounds = 0
    }

    private let state = Mutex(State())
    /// The typed producer.
    public let events: EventProducer
    /// How much faster than real time the services' timers run (heartbeats are sent that much more often).
    public let timeScale: Double

    /// Creates the clients.
    public init(events: EventProducer, timeScale: Double = 1) {
        self.events = events
        self.timeScale = timeScale
    }

    /// Users connected, as their phones see it.
    public var connected: Set<String> { state.withLock { $0.connected } }

    /// Connects users, each with a new session (a user already connected reconnects).
    public func connect(_ users: [String]) async throws {
        for user in users {
            let session = state.withLock { state -> String in
                state.sessions[user, default: 0] += 1
                state.connected.insert(user)
                state.silent.remove(user)
                return "\(user)-s\(state.sessions[user, default: 0])"
            }
            _ = try await events.enqueue(UserOnline(userId: user, sessionId: session, connectedAt: Date()))
        }
        try await flush()
    }

    /// Disconnects users cleanly.
    public func disconnect(_ users: [String]) async throws {
        for user in users {
            guard let session = state.withLock({ state -> String? in
                guard state.connected.remove(user) != nil, let number = state.sessions[user] else { return nil }
                state.silent.remove(user)
                return "\(user)-s\(number)"
            }) else { continue }
            _ = try await events.enqueue(UserOffline(userId: user, sessionId: session, disconnectedAt: Date()))
        }
        try await flush()
    }

    /// Users lose their connection without a word: no more heartbeats, so their presence expires.
    public func loseConnection(_ users: [String]) {
        state.withLock { state in
            for user in users where state.connected.contains(user) {
                state.silent.insert(user)
                state.connected.remove(user)
            }
        }
    }

    /// One heartbeat from every connected phone.
    public func heartbeat() async throws {
        let beating = state.withLock { state in
            state.connected.compactMap { user in state.sessions[user].map { (user, "\(user)-s\($0)") } }
        }
        for (user, session) in beating.sorted(by: { $0.0 < $1.0 }) {
            _ = try await events.enqueue(PresenceHeartbeat(userId: user, sessionId: session, sentAt: Date()))
        }
        try await flush()
    }

    /// Sends read receipts for `share` percent of the messages delivered to connected users (chosen by a stable
    /// hash, so the same ones in every run).
    @discardableResult
    public func read(_ delivered: [MessageDelivered], share: Int) async throws -> Int {
        let connected = self.connected
        var sent = 0
        for receipt in delivered where connected.contains(receipt.recipientId) {
            let id = DeliveryQueued.id(
                conversation: receipt.conversationId, message: receipt.messageId, recipient: receipt.recipientId)
            guard stableHash(id) % 100 < UInt64(share) else { continue }
            _ = try await events.enqueue(
                MessageRead(
                    messageId: receipt.messageId, conversationId: receipt.conversationId, readerId: receipt.recipientId,
                    readAt: Date()),
                metadata: EventMetadata(id: "read/\(id)"))
            sent += 1
        }
        if sent > 0 { try await flush() }
        return sent
    }

    /// Keeps the connected phones alive and reading until cancelled: heartbeats every ``MessagingRules/heartbeatInterval``
    /// (scaled), reads of `readShare` percent of what the observer saw delivered, every 250 ms.
    public func keepAlive(reading observer: ChatObserver, readShare: Int) async {
        let clock = ContinuousClock()
        let interval = MessagingRules.heartbeatInterval / timeScale
        var nextBeat = clock.now
        while !Task.isCancelled {
            do {
                if clock.now >= nextBeat {
                    try await heartbeat()
                    nextBeat = clock.now.advanced(by: interval)
                }
                let delivered = observer.takeDelivered()
                if state.withLock({ $0.reading }) { try await read(delivered, share: readShare) }
                state.withLock { $0.rounds += 1 }
                try await Task.sleep(for: .milliseconds(250))
            } catch {
                if Task.isCancelled { return }
            }
        }
    }

    /// Stops reading (heartbeats go on) and returns once no read receipt is on its way, so that a count of reads
    /// taken afterwards is final. Call it while ``keepAlive(reading:readShare:)`` runs.
    public func stopReading() async throws {
        let round = state.withLock { state in
            state.reading = false
            return state.rounds
        }
        // The round under way may have checked the flag before it was cleared; the one after it has not.
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: .seconds(30))
        while state.withLock({ $0.rounds }) < round + 2, clock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    /// Sends messages and statuses at `rate` per second (0: at once), each stamped when it leaves.
    public func send(_ actions: [ChatAction], rate: Double) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        for (index, action) in actions.enumerated() {
            if rate > 0 {
                let due = start.advanced(by: .microseconds(Int64(Double(index) / rate * 1_000_000)))
                if due > clock.now { try await Task.sleep(until: due, clock: clock) }
            }
            let metadata = EventMetadata(id: action.eventID)
            switch action.stamped(Date()) {
            case .message(let message, _): _ = try await events.enqueue(message, metadata: metadata)
            case .status(let status): _ = try await events.enqueue(status, metadata: metadata)
            }
        }
        try await flush()
    }

    /// Sends group changes, in order.
    public func send(_ changes: [MessagingRules.GroupChange]) async throws {
        for change in changes {
            switch change {
            case .created(let event): _ = try await events.enqueue(event)
            case .added(let event): _ = try await events.enqueue(event)
            case .removed(let event): _ = try await events.enqueue(event)
            }
        }
        try await flush()
    }

    private func flush() async throws { try await events.producer.flush(timeout: .seconds(120)) }
}

extension ChatClients {
    /// A member removed at the same moment as a message to the group: both records leave back to back, in the
    /// given order, and the log's order decides whether the removed member gets the message.
    public func race(_ removal: MemberRemoved, _ message: MessageSent, removalFirst: Bool) async throws {
        let metadata = EventMetadata(id: ChatAction.message(message, submission: 1).eventID)
        if removalFirst { _ = try await events.enqueue(removal) }
        _ = try await events.enqueue(message, metadata: metadata)
        if !removalFirst { _ = try await events.enqueue(removal) }
        try await events.producer.flush(timeout: .seconds(120))
    }
}

extension ChatRun {
    /// Whether everything the load sent has run its course for the users online now: every message decided,
    /// every delivery queued, every online recipient's delivered, every fully delivered message ticked, and
    /// analytics (when given) agreeing with the log (call ``ChatClients/stopReading()`` first: reads are still
    /// being sent while deliveries arrive).
    /// - Parameters:
    ///   - connected: The users whose phones are connected (``ChatClients/connected``): the mailbox must have taken
    ///     each of them online, or their deliveries would not count as owed yet.
    ///   - analytics: The analytics totals, or nil not to compare them.
    public func isSettled(connected: Set<String>, analytics: ChatReport.Totals?) -> Bool {
        guard undecided.isEmpty, missing == 0, undeliveredOnline == 0, missingTicks == 0, connected.isSubset(of: online)
        else { return false }
        guard let analytics else { return true }
        return analytics.deliveries == queued && analytics.delivered == delivered && analytics.reads == reads
            && analytics.accepted == accepted && analytics.rejected == rejected
    }
}
