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
