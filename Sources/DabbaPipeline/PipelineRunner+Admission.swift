import DabbaKafka

extension PipelineRunner {
    /// Takes out of a batch the records of partitions that must wait (throttled, or paused by the operator) and
    /// rewinds each such partition to its first held record: records fetched before a pause are read again once it
    /// lifts, never handled while it holds.
    func holdBackPaused(_ messages: [KafkaMessage]) async throws -> [KafkaMessage] {
        guard admission.mayHold else { return messages }
        var admitted: [KafkaMessage] = []
        var held = false
        for run in Self.partitionRuns(messages) {
            guard admission.holds(run.partition), let first = run.messages.first else {
                admitted += run.messages
                continue
            }
            held = true
            try await rewind(run.partition, to: first.offset, because: "it is paused or throttled")
        }
        return held ? admitted : messages
    }

    /// Charges what a batch took to the rate limits (see ``AdmissionControl/debit(_:)``).
    func debitAdmitted(_ messages: [KafkaMessage]) {
        guard admission.throttle != nil, !messages.isEmpty else { return }
        var counts: [TopicPartition: Int] = [:]
        for run in Self.partitionRuns(messages) { counts[run.partition, default: 0] += run.messages.count }
        admission.debit(counts)
    }
}

extension PipelineRunner {
    /// Once the operator's pause holds, commits what was handled before it, as soon as the batch in hand is done:
    /// the committed offsets then show where the group stopped (its lag is what it has left), and a rebalance during
    /// the pause (an instance restarted, one added) hands out nothing that was already handled. Exactly-once commits
    /// through its transactions and needs none of this. A failed commit is retried each second while the pause lasts;
    /// the offsets stay stored meanwhile and are committed on the interval anyway.
    func commitWhenOperatorPauses() async {
        guard let watch = admission.operatorPause, !configuration.exactlyOnce else { return }
        // The `at` of the pause already committed for: one commit per pause.
        var committedFor: String?
        while !stopped.load(ordering: .acquiring) {
            try? await Task.sleep(for: .milliseconds(100))
            // Idle after the pause holds: every later batch is held back, so nothing is marked after this commit.
            guard let state = watch.state, state.paused, state.at != committedFor, inFlight.isIdle else { continue }
            do {
                try await consumer.commit()
                committedFor = state.at
                logger.info("offsets of the events handled before the operator's pause committed")
            } catch {
                logger.warning("could not commit the offsets handled before the operator's pause; retrying: \(error)")
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
