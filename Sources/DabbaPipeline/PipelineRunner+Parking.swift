import DabbaEvents
import DabbaKafka
import Foundation

extension PipelineRunner {
    /// Sends a failed event to its next retry tier, or to the dead-letter topic when no tier is left or the failure
    /// is permanent. Without a dead-letter topic the event is retried in place until it succeeds: it is never
    /// dropped.
    /// The failure's span, if any, records where the event went (`dabba.retry_scheduled` or `dabba.dead_lettered`).
    func routeFailure(_ message: KafkaMessage, failure: EventFailure, attempt: Int, eventType: String) async throws {
        metrics.failed.increment()
        let (errorType, errorMessage) = describeFailure(failure.error)
        let kind = FailureKind(failure.error)
        if kind != .permanent, let tier = topology.nextTier(after: message.topic) {
            try await park(
                retryRecord(
                    message, tier: tier, nextAttempt: attempt + 1, errorType: errorType, errorMessage: errorMessage
                ),
                what: "retry tier \(tier.topic)"
            )
            metrics.retried.increment()
            failure.record(
                "retry_scheduled",
                ["messaging.destination.name": .string(tier.topic), "dabba.delivery.attempt": .int64(Int64(attempt + 1))]
            )
            logger.info(
                "event \(eventType) failed on attempt \(attempt); retrying in \(tier.delay) via \(tier.topic)",
                metadata: ["error": "\(errorMessage)"]
            )
            return
        }
        try await deadLetter(message, errorType: errorType, errorMessage: errorMessage, attempt: attempt, span: failure)
    }

    /// Writes a failed record to its main topic's dead-letter topic with Spring-compatible diagnostic headers.
    /// - Parameter span: The event's failure, whose span records `dabba.dead_lettered` (nil for an undecodable record).
    func deadLetter(
        _ message: KafkaMessage, errorType: String, errorMessage: String, attempt: Int, span: EventFailure? = nil
    ) async throws {
        let origin = Origin(message: message)
        guard let topic = topology.deadLetterTopics[topology.mainTopic(of: message.topic)] else {
            span?.record("retrying_until_handled", ["error.type": .string(errorType)])
            try await retryForever(message, errorType: errorType, errorMessage: errorMessage)
            return
        }
        let limit = configuration.maxErrorMessageBytes
        let shortMessage = capped(errorMessage, limit)
        var headers = message.headers.filter {
            !SpringDeadLetterHeaders.all.contains($0.name) && !RetryHeaders.all.contains($0.name)
        }
        headers += [
            KafkaHeader(name: SpringDeadLetterHeaders.originalTopic, string: origin.topic),
            KafkaHeader(name: SpringDeadLetterHeaders.originalPartition, value: SpringDeadLetterHeaders.encode(origin.partition)),
            KafkaHeader(name: SpringDeadLetterHeaders.originalOffset, value: SpringDeadLetterHeaders.encode(origin.offset)),
            KafkaHeader(name: SpringDeadLetterHeaders.originalTimestamp, value: SpringDeadLetterHeaders.encode(origin.timestamp)),
            KafkaHeader(name: SpringDeadLetterHeaders.originalTimestampType, string: "CreateTime"),
            KafkaHeader(name: SpringDeadLetterHeaders.originalConsumerGroup, string: pipeline.groupID),
            KafkaHeader(name: SpringDeadLetterHeaders.exceptionFQCN, string: errorType),
            KafkaHeader(name: SpringDeadLetterHeaders.exceptionMessage, string: shortMessage),
            KafkaHeader(
                name: SpringDeadLetterHeaders.exceptionStacktrace, string: capped("\(errorType): \(shortMessage)", limit)
            ),
        ]
        headers += diagnosticHeaders(origin: origin, attempt: attempt, errorType: errorType, errorMessage: shortMessage)
        try await park(
            ProducerMessage(topic: topic, key: message.key, value: message.value, headers: headers),
            what: "dead-letter topic \(topic)"
        )
        metrics.deadLettered.increment()
        span?.record("dead_lettered", ["messaging.destination.name": .string(topic), "error.type": .string(errorType)])
        logger.warning(
            "event dead-lettered to \(topic)",
            metadata: ["error.type": "\(errorType)", "error": "\(shortMessage)", "attempts": "\(attempt)",
                       "origin": "\(origin.topic)[\(origin.partition)]@\(origin.offset)"]
        )
    }

    func retryRecord(
        _ message: KafkaMessage, tier: RetryTier, nextAttempt: Int, errorType: String, errorMessage: String
    ) -> ProducerMessage {
        let origin = Origin(message: message)
        var headers = message.headers.filter { !RetryHeaders.all.contains($0.name) }
        headers += diagnosticHeaders(
            origin: origin, attempt: nextAttempt, errorType: errorType,
            errorMessage: capped(errorMessage, configuration.maxErrorMessageBytes)
        )
        let due = Self.nowMilliseconds() + tier.delay.totalMilliseconds
        headers.append(KafkaHeader(name: RetryHeaders.dueAt, string: String(due)))
        return ProducerMessage(topic: tier.topic, key: message.key, value: message.value, headers: headers)
    }

    private func diagnosticHeaders(origin: Origin, attempt: Int, errorType: String, errorMessage: String) -> [KafkaHeader] {
        [
            KafkaHeader(name: RetryHeaders.attempt, string: String(attempt)),
            KafkaHeader(name: RetryHeaders.originalTopic, string: origin.topic),
            KafkaHeader(name: RetryHeaders.originalPartition, string: String(origin.partition)),
            KafkaHeader(name: RetryHeaders.originalOffset, string: String(origin.offset)),
            KafkaHeader(name: RetryHeaders.originalTimestamp, string: String(origin.timestamp)),
            KafkaHeader(name: RetryHeaders.errorType, string: errorType),
            KafkaHeader(name: RetryHeaders.errorMessage, string: errorMessage),
            KafkaHeader(name: RetryHeaders.failedAt, string: RFC3339.format(Date())),
            KafkaHeader(name: RetryHeaders.group, string: pipeline.groupID),
        ]
    }

    /// Parks a record in a retry tier (for the key order guard, which holds records without a failure).
    func parkInTier(_ record: ProducerMessage, tier: RetryTier) async throws {
        try await park(record, what: "retry tier \(tier.topic)")
    }

    /// Sends a parked record, retrying the send a few times; if it still fails the batch fails (its offsets are
    /// not committed, so the event is redelivered after a restart).
    func park(_ record: ProducerMessage, what: String) async throws {
        var lastError: (any Error)?
        for attempt in 1...5 {
            do {
                try await emitter.send(record)
                return
            } catch {
                lastError = error
                logger.error("could not write to \(what) (attempt \(attempt)): \(error)")
                try? await Task.sleep(for: .milliseconds(200 * attempt))
            }
        }
        throw PipelineError(.parkingFailed, "could not write a failed event to \(what): \(lastError.map { "\($0)" } ?? "")")
    }

    /// With no dead-letter topic declared, a failed event is retried in place with capped backoff until it succeeds,
    /// blocking its partition: the catalog's `x-dabba-retry` is how to avoid that.
    private func retryForever(_ message: KafkaMessage, errorType: String, errorMessage: String) async throws {
        logger.error(
            "no dead-letter topic for \(message.topic): retrying in place until it succeeds",
            metadata: ["error.type": "\(errorType)", "error": "\(errorMessage)",
                       "position": "\(message.topic)[\(message.partition)]@\(message.offset)"]
        )
        var delay = Duration.milliseconds(500)
        while !stopped.load(ordering: .acquiring) {
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(30))
            guard case .success(let decoded) = decode(message), hasHandler(decoded)
            else { continue }
            if try await retryOnce(decoded, message: message) {
                metrics.handled.increment()
                return
            }
        }
        throw PipelineError(.parkingFailed, "stopped while \(message.topic)[\(message.partition)]@\(message.offset) was still failing")
    }

    /// One more attempt of a failing event; with an inbox, in its own inbox transaction, so the handler's writes
    /// and the mark commit together (or the event turns out to be done already).
    private func retryOnce(_ decoded: DecodedEvent, message: KafkaMessage) async throws -> Bool {
        guard let inbox else {
            let failure = await invoke(decoded, database: nil)
            failure?.end()
            return failure == nil
        }
        let outcomes = try await processInInbox(inbox, eventIDs: [decoded.envelope.id]) { _, transaction in
            if let failure = await invoke(decoded, database: transaction) {
                failure.end()
                throw failure.error
            }
        }
        switch outcomes.first {
        case .processed?, .duplicate?: return true
        case .failed?, nil: return false
        }
    }

    // MARK: - Delayed retry tiers

    /// Rewinds a partition to a not-yet-due retry record and pauses it until the record is due; other partitions
    /// keep flowing.
    func deferPartition(_ partition: TopicPartition, at offset: Int64, until due: Int64) async throws {
        let wait = Duration.milliseconds(max(0, due - Self.nowMilliseconds()))
        pauses.pause([partition], reason: .retryDelay, until: .now + wait)
        try await rewind(partition, to: offset, because: "a retry is not due")
    }

    /// Resumes partitions whose pause has lapsed (a retry record now due, a breaker's open period over).
    func releaseExpiredPauses() async {
        while !stopped.load(ordering: .acquiring) {
            pauses.releaseExpired()
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
