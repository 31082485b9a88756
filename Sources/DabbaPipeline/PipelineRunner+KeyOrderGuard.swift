import DabbaEvents
import DabbaInbox
import DabbaKafka

extension PipelineRunner {
    /// Handles one record under the per-key order guard.
    ///
    /// A key whose queue is not empty has an event parked in the retry tiers. Only the head of the queue is
    /// processed; any other event of the key is parked behind it: events from the main topic join the queue and
    /// go to the first tier, events already in a tier move to the next one (or around the last tier again). Retry
    /// tiers are first-in first-out per key (same key, same partition), so the key's events keep their order.
    func handleGuarded(_ message: KafkaMessage, inbox: any InboxStore, keyGuard: KeyOrderGuard) async throws {
        guard !skipsHeld(message) else { return }
        let decoded: DecodedEvent
        switch decode(message) {
        case .failure(let error):
            try await handleUndecodableForInbox(message, error)
            return
        case .success(let event):
            decoded = event
        }
        guard hasHandler(decoded) else {
            metrics.ignored.increment()
            return
        }
        let eventID = decoded.envelope.id
        let mainTopic = topology.mainTopic(of: message.topic)
        let attempt = Self.attempt(of: message)
        guard let key = message.keyString else {
            try await handleOne(message, decoded: decoded, inbox: inbox, attempt: attempt)
            return
        }
        let head = try await keyGuard.head(topic: mainTopic, key: key)
        if let head, head != eventID {
            let fromTier = topology.isRetryTopic(message.topic)
            let queued = try await keyGuard.contains(topic: mainTopic, key: key, eventID: eventID)
            // A tier record no longer queued is a leftover copy of a resolved event: the inbox deduplicates it.
            if !fromTier || queued {
                if !fromTier { try await keyGuard.enqueue(topic: mainTopic, key: key, eventID: eventID) }
                try await holdBehind(message, head: head, attempt: attempt)
                return
            }
        }
        let resolved = try await handleOne(message, decoded: decoded, inbox: inbox, attempt: attempt) {
            // Joins (or stays in) the queue before it is parked, so a crash in between cannot lose the key's place.
            try await keyGuard.enqueue(topic: mainTopic, key: key, eventID: eventID)
        }
        if resolved { try await keyGuard.remove(topic: mainTopic, key: key, eventID: eventID) }
    }

    /// Processes one event in its own inbox transaction and routes a failure.
    /// - Parameter beforeRetry: Runs before the event is parked in a retry tier.
    /// - Returns: Whether the event is resolved: handled, a duplicate, or dead-lettered (not parked for a retry).
    @discardableResult
    private func handleOne(
        _ message: KafkaMessage,
        decoded: DecodedEvent,
        inbox: any InboxStore,
        attempt: Int,
        beforeRetry: () async throws -> Void = {}
    ) async throws -> Bool {
        var failure: EventFailure?
        defer { failure?.end() }
        let outcomes = try await processInInbox(inbox, eventIDs: [decoded.envelope.id]) { _, transaction in
            if let failed = await invoke(decoded, database: transaction) {
                failure = failed
                throw failed.error
            }
        }
        outboxRelay?.wake()
        switch outcomes.first {
        case .processed, nil:
            metrics.handled.increment()
            return true
        case .duplicate:
            metrics.duplicates.increment()
            return true
        case .failed(let reason):
            let failed = failure ?? EventFailure(error: HandlerFailure(reason), span: nil)
            // Held for a dependency: neither resolved nor parked; the key keeps its place.
            if holdIfUnavailable(message, failure: failed) { return false }
            let goesToTier = FailureKind(failed.error) != .permanent && topology.nextTier(after: message.topic) != nil
            if goesToTier { try await beforeRetry() }
            try await routeFailure(message, failure: failed, attempt: attempt, eventType: decoded.eventType)
            return !goesToTier
        }
    }

    /// Parks a record behind its key's head without counting a failure.
    private func holdBehind(_ message: KafkaMessage, head: String, attempt: Int) async throws {
        let tiers = topology.retryTiers[topology.mainTopic(of: message.topic)] ?? []
        guard let tier = topology.nextTier(after: message.topic) ?? tiers.last else {
            throw PipelineError(.configuration, "the key order guard needs retry tiers on \(message.topic)")
        }
        let record = retryRecord(
            message, tier: tier, nextAttempt: attempt, errorType: "DabbaPipeline.KeyOrderGuard",
            errorMessage: "held behind event \(head) of the same key"
        )
        try await parkInTier(record, tier: tier)
        metrics.held.increment()
    }
}
