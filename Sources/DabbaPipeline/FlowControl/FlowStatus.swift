import DabbaKafka

/// What holds an instance back, as its service's `GET /flow` shows it.
public struct FlowStatus: Encodable, Sendable {
    /// A paused partition and why.
    public struct PausedPartition: Encodable, Sendable, Hashable {
        /// The topic.
        public var topic: String
        /// The partition.
        public var partition: Int32
        /// The reasons (`operator`, `throttle`, `retry-delay`, `breaker:<name>`), sorted.
        public var reasons: [String]
    }

    /// The consumer group.
    public var group: String
    /// The control topic followed, or nil when operator pauses are off.
    public var controlTopic: String?
    /// The group's latest operator state, or nil when it was never paused or resumed.
    public var `operator`: OperatorPauseState?
    /// The reasons pausing the whole instance, sorted.
    public var pausedBy: [String]
    /// The paused partitions.
    public var pausedPartitions: [PausedPartition]
    /// The instance's rate limit in events per second, if any.
    public var rateLimit: Double?
    /// The per-partition rate limit in events per second, if any.
    public var partitionRateLimit: Double?
}

extension PipelineRunner {
    /// What holds this instance back now: the operator's pause, the throttle, every paused partition.
    public var flowStatus: FlowStatus {
        FlowStatus(
            group: pipeline.groupID, controlTopic: configuration.controlTopic, operator: admission.operatorPause?.state,
            pausedBy: pauses.pipelineReasons.map(\.description).sorted(),
            pausedPartitions: pauses.snapshot.map { partition, reasons in
                FlowStatus.PausedPartition(
                    topic: partition.topic, partition: partition.partition,
                    reasons: reasons.map(\.description).sorted()
                )
            }.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) },
            rateLimit: configuration.throttle.eventsPerSecond,
            partitionRateLimit: configuration.throttle.eventsPerSecondPerPartition
        )
    }
}
