import DabbaEvents
import DabbaInbox
import DabbaKafka
import Synchronization

extension PipelineRunner {
    /// Fires one page of due timers of the partitions this instance owns, in one inbox transaction: each timer's
    /// event is handled like a fetched one (same middleware, retries, retry tiers and dead letters), and its row is
    /// deleted in the event's savepoint, so a committed firing is never repeated and a failed one is never lost.
    /// - Returns: Whether more timers may be due now (the page was full).
    /// - Throws: ``InboxError`` when the transaction fails, ``PipelineError`` when a failed timer event cannot be
    ///   parked (as for a batch: the runner stops).
    func fireDueTimers() async throws -> Bool {
        guard let inbox, let horizon = timerEnvironment?.horizon else { return false }
        // A revocation waits for this firing to end, and a partition revoked before it began is not fired.
        inFlight.begin()
        defer { inFlight.end() }
        let owned = consumer.assignment
        guard !owned.isEmpty else { return false }
        let timers = configuration.timers
        let group = pipeline.groupID
        let now = timers.clock.nowMilliseconds
        // Without a timer that may be due, no query: an idle pipeline without timers leaves the database alone.
        guard horizon.mayBeDue(at: now, owning: owned) else { return false }
        let due = try await inbox.withConnection { database in
            try TimerStore.duePage(group: group, partitions: owned, now: now, limit: timers.pageSize, in: database)
        }
        if !due.isEmpty {
            // Not committed: the page is still pending and the horizon still says so.
            guard try await fire(due, inbox: inbox) else { return false }
            if due.count == timers.pageSize { return true }
        }
        // Asked after the firing committed: timers its handlers scheduled (even due at once) are included.
        let next = try await inbox.withConnection { database in
            try TimerStore.nextDue(group: group, partitions: owned, in: database)
        }
        horizon.learned(nextDue: next, owning: owned, at: now)
        return false
    }

    /// Fires a page of due timers; returns whether its transaction committed.
    private func fire(_ due: [StoredTimer], inbox: any InboxStore) async throws -> Bool {
        var timers: [StoredTimer] = []
        var candidates: [DecodedEvent] = []
        for timer in due {
            let record = timer.record()
            switch decodeNow(record) {
            case .success(let decoded) where hasHandler(decoded):
                timers.append(timer)
                candidates.append(decoded)
            case .success(let decoded):
                // The handler was removed since the timer was scheduled: dead-lettered, never dropped.
                try await settleUnhandled(
                    timer, record: record,
                    EventDecodingError(
                        .unknownEventType, "no handler for the timer event \(decoded.eventType)", message: record,
                        eventType: decoded.eventType, eventID: timer.eventID
                    )
                )
            case .failure(let error):
                try await settleUnhandled(timer, record: record, error)
            }
        }
        guard !candidates.isEmpty else { return true }
        let failures = Mutex<[Int: EventFailure]>([:])
        // Their spans end once the failures are routed, or on any other way out.
        defer { failures.withLock { for failure in $0.values { failure.end() } } }
        let deliveries = BatchDeliveries()
        var tally = HandleTally()
        defer { tally.record(into: metrics) }
        let outcomes: [InboxOutcome]
        do {
            outcomes = try await BatchDeliveries.$current.withValue(deliveries) {
                // The same transaction hooks as any batch: a timer event that feeds a table is written too.
                try await processInInbox(inbox, eventIDs: candidates.map(\.id)) { index, transaction in
                    // Cancelled or rescheduled by a timer handled before it in this page: not this firing.
                    guard try TimerStore.take(timers[index], group: pipeline.groupID, in: transaction) else {
                        throw TimerGone()
                    }
                    if let failure = await invoke(candidates[index], database: transaction) {
                        failures.withLock { $0[index] = failure }
                        throw failure.error
                    }
                }
            }
        } catch let refused as EmitNotAcknowledged {
            // Nothing of the page committed: its timers are still pending and fire again at the next look.
            logger.warning("due timers not fired, they fire again: \(refused)")
            _ = await deliveries.settle()
            return false
        }
        _ = await deliveries.settle()
        outboxRelay?.wake()
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .processed:
                tally.handled += 1
                metrics.timersFired.increment()
            case .duplicate:
                // Fired and recorded before (its row deleted by another transaction, or left by an earlier
                // parking): only the row is left to remove.
                metrics.duplicates.increment()
                try await remove(timers[index])
            case .failed(let reason):
                guard let failure = failures.withLock({ $0[index] }) else { continue }  // TimerGone
                let candidate = candidates[index]
                try await routeFailure(candidate.message, failure: failure, attempt: 1, eventType: candidate.eventType)
                logger.debug("timer \(timers[index].id) failed and was parked: \(reason)")
                try await remove(timers[index])
            }
        }
        return true
    }

    /// Dead-letters a timer whose event can no longer be handled, then deletes it.
    private func settleUnhandled(_ timer: StoredTimer, record: KafkaMessage, _ error: EventDecodingError) async throws {
        try await handleUndecodableForInbox(record, error)
        try await remove(timer)
    }

    /// Deletes a firing of a timer outside any event (after it was parked or found recorded already).
    private func remove(_ timer: StoredTimer) async throws {
        guard let inbox else { return }
        let group = pipeline.groupID
        try await inbox.withConnection { database in _ = try TimerStore.take(timer, group: group, in: database) }
    }

    /// Waits for the next fetched batch, firing due timers meanwhile (the loop's seam to ``DueWorkPoll``).
    func nextBatch<Batch: Sendable>(_ fetch: Task<Batch, any Error>) async throws -> Batch {
        guard let dueTimers else { return try await fetch.value }
        return try await dueTimers.value(of: fetch) { try await self.fireDueTimers() }
    }
}

/// A due timer was cancelled or rescheduled by a timer fired before it in the same transaction.
struct TimerGone: Error {}
