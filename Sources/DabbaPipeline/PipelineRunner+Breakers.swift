import DabbaKafka
import Logging

/// How the runner meets its circuit breakers (see `FlowControl/Breaker`): an open breaker pauses partitions through
/// ``PartitionPauses``, and an event whose dependency is unavailable is held (``BreakerHolds``) instead of retried.
extension PipelineRunner {
    /// The runner's breakers, whose transitions are logged once each, counted, and turned into pauses.
    static func makeBreakers(
        _ pipeline: Pipeline, pauses: PartitionPauses, metrics: PipelineMetrics, logger: Logger
    ) throws -> CircuitBreakers {
        try CircuitBreakers(declared: pipeline.breakers, logger: logger) { name, scope, transition in
            metrics.breakerTransitioned(name, from: transition.from, to: transition.to)
            let reason = PauseReason.breaker(name)
            switch transition.to {
            case .open:
                let until = transition.openUntil ?? .now
                let seconds = Double((until - .now).totalMilliseconds) / 1000
                let paused = scope == .consumer ? "consumer" : "partitions"
                logger.warning(
                    "circuit breaker \(name) opened: its \(paused) paused, next probe in \(seconds.rounded(toPlaces: 1))s",
                    metadata: ["breaker": "\(name)", "from": "\(transition.from)"]
                )
                if scope == .consumer {
                    pauses.pauseAll(reason: reason, until: until)
                } else {
                    // Partitions held for it wait for the new probe time; new ones start paused until then.
                    pauses.retime(reason: reason, until: until)
                    pauses.pauseOnAssignment(reason: reason, until: until)
                }
            case .halfOpen:
                logger.info("circuit breaker \(name) half-open: probing", metadata: ["breaker": "\(name)"])
            case .closed:
                logger.notice("circuit breaker \(name) closed: resuming", metadata: ["breaker": "\(name)"])
                pauses.releaseAll(reason: reason)
            }
        }
    }

    /// Holds an event whose handling ended because a dependency is unavailable: ``DependencyUnavailable``, or a
    /// failure a breaker counted that is open by now. The event is not handled, retried or dead-lettered; its
    /// partition (every partition, for a breaker of consumer scope) is paused until the breaker's next probe, and is
    /// rewound to it when the batch is marked.
    /// - Returns: Whether the event is held (false outside a batch, or for any other failure).
    /// The failure's span, if any, records `dabba.held` with the dependency.
    func holdIfUnavailable(_ message: KafkaMessage, failure: EventFailure) -> Bool {
        let error = failure.error
        guard let holds = BreakerHolds.current else { return false }
        let dependency: String
        if let unavailable = Self.unavailability(in: error) {
            dependency = unavailable.dependency
        } else if let counted = holds.countedFailure(of: message), breakers.state(of: counted) != .closed {
            dependency = counted
        } else {
            return false
        }
        holds.hold(message, for: dependency)
        let until = breakers.holdUntil(dependency)
        if breakers.scope(of: dependency) == .consumer {
            pauses.pauseAll(reason: .breaker(dependency), until: until)
        } else {
            pauses.pause([message.topicPartition], reason: .breaker(dependency), until: until)
        }
        metrics.breakerHeld(dependency)
        failure.record("held", ["dabba.dependency": .string(dependency)])
        logger.debug(
            "event held until \(dependency) recovers",
            metadata: ["position": "\(message.topic)[\(message.partition)]@\(message.offset)"]
        )
        return true
    }

    /// The ``DependencyUnavailable`` an error is, or wraps as transient.
    static func unavailability(in error: any Error) -> DependencyUnavailable? {
        if let unavailable = error as? DependencyUnavailable { return unavailable }
        return (error as? TransientError)?.underlying as? DependencyUnavailable
    }

    /// Whether this batch must skip an event: it is held, or an earlier event of its partition is.
    @inline(__always)
    func skipsHeld(_ message: KafkaMessage) -> Bool {
        BreakerHolds.current?.skips(message) ?? false
    }

    /// Marks a partition's run of a batch: all of it, or, when an event of it is held, the events before it, and
    /// then rewinds the partition to the held event (its buffered records are discarded; it is paused already).
    func markProcessedUpToHold(_ messages: [KafkaMessage], of partition: TopicPartition) async throws {
        guard let hold = BreakerHolds.current?.hold(of: partition) else {
            if let last = messages.last { consumer.markProcessed(last) }
            return
        }
        if let done = messages.last(where: { $0.offset < hold.offset }) { consumer.markProcessed(done) }
        try await rewind(partition, to: hold.offset, because: "an event is held")
    }

    /// The offsets an exactly-once batch sends to its transaction: never past a held event.
    func offsetsUpToHolds(_ nextOffsets: [TopicPartition: Int64]) -> [TopicPartitionOffset] {
        let holds = BreakerHolds.current?.holds ?? [:]
        return nextOffsets.map { partition, next in
            let upTo = min(next, holds[partition]?.offset ?? next)
            return TopicPartitionOffset(topic: partition.topic, partition: partition.partition, offset: upTo)
        }
    }

    /// Rewinds every held partition of the batch to its held event (after an exactly-once batch committed).
    func rewindHeldPartitions() async throws {
        for (partition, hold) in BreakerHolds.current?.holds ?? [:] {
            try await rewind(partition, to: hold.offset, because: "an event is held")
        }
    }
}

extension Double {
    fileprivate func rounded(toPlaces places: Int) -> Double {
        let scale = (0..<places).reduce(1.0) { value, _ in value * 10 }
        return (self * scale).rounded() / scale
    }
}
