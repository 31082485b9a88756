import DabbaKafka
import Logging

/// The pipeline's admission of work, as the runner reaches it: the rate limits (``Throttle``) and the operator's
/// pause (``OperatorPauseWatch``), both applied through ``PartitionPauses``.
///
/// Pausing stops fetching, but records fetched before the pause are already buffered: the runner asks
/// ``holds(_:)`` for each partition of a batch and rewinds the held ones, so nothing is handled while paused and
/// those records are read again once the pause lifts. After a batch, ``debit(_:)`` charges what it took.
final class AdmissionControl: Sendable {
    let throttle: Throttle?
    let operatorPause: OperatorPauseWatch?
    private let pauses: PartitionPauses

    /// Creates the admission of one runner.
    /// - Parameters:
    ///   - configuration: The runner's settings (throttle, control topic).
    ///   - group: The consumer group.
    ///   - pauses: The runner's pauses.
    ///   - logger: The runner's logger.
    init(configuration: PipelineConfiguration, group: String, pauses: PartitionPauses, logger: Logger) {
        throttle = configuration.throttle.isEnabled ? Throttle(configuration: configuration.throttle) : nil
        operatorPause = configuration.controlTopic.map {
            OperatorPauseWatch(topic: $0, group: group, pauses: pauses, logger: logger)
        }
        self.pauses = pauses
    }

    /// Whether any partition may have to wait now: a cheap check before asking per partition.
    var mayHold: Bool { throttle != nil || (operatorPause?.isPaused ?? false) }

    /// Whether a partition's records must wait (throttled or paused by the operator).
    func holds(_ partition: TopicPartition) -> Bool {
        (operatorPause?.isPaused ?? false)
            || (throttle != nil && pauses.isPaused(partition, for: .throttle))
    }

    /// Charges the records a batch took to the rate limits, pausing whatever is over its budget until repaid.
    /// - Parameter counts: Records taken per partition.
    func debit(_ counts: [TopicPartition: Int]) {
        guard let throttle else { return }
        let debts = throttle.debit(counts)
        if let until = debts.everything { pauses.pauseAll(reason: .throttle, until: until) }
        for (partition, until) in debts.partitions { pauses.pause([partition], reason: .throttle, until: until) }
    }

    /// Follows the control topic (when there is one) until the runner stops.
    func run(client: ClientConfiguration, until isStopped: @escaping @Sendable () -> Bool) async {
        await operatorPause?.run(client: client, until: isStopped)
    }

    /// Why the instance is degraded (still ready), or nil: the operator's pause.
    var degradedReason: String? {
        guard let state = operatorPause?.state, state.paused else { return nil }
        return "degraded: \(state.summary)"
    }

    /// Whether each of this seam's reasons holds for the whole instance now (for the `dabba_pipeline_paused` gauge).
    var pausedReasons: [PauseReason: Bool] {
        let everywhere = pauses.pipelineReasons
        return [.operatorPause: everywhere.contains(.operatorPause), .throttle: everywhere.contains(.throttle)]
    }
}
