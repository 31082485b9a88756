import DabbaKafka
import Synchronization

/// Why a partition is not fetched. A partition fetches only while no reason holds, so one cause of a pause can
/// never lift another's (a breaker closing does not resume a partition a retry tier paused for its delay).
package enum PauseReason: Hashable, Sendable, CustomStringConvertible {
    /// A retry tier's next record is not due yet.
    case retryDelay
    /// The named circuit breaker is open.
    case breaker(String)
    /// A rate limit's budget is spent.
    case throttle
    /// An operator paused the group (`dabba group pause`).
    case operatorPause

    /// The reason as a metrics label and log word: `retry-delay`, `breaker:<name>`, `throttle`, `operator`.
    package var description: String {
        switch self {
        case .retryDelay: "retry-delay"
        case .breaker(let name): "breaker:\(name)"
        case .throttle: "throttle"
        case .operatorPause: "operator"
        }
    }
}

/// What ``PartitionPauses`` pauses and resumes: the pipeline's consumer (a fake in unit tests).
package protocol PausablePartitions: AnyObject, Sendable {
    /// The partitions assigned to this member now.
    var assignment: Set<TopicPartition> { get }
    /// Stops fetching these partitions.
    func pause(_ partitions: [TopicPartition]) throws
    /// Resumes fetching these partitions.
    func resume(_ partitions: [TopicPartition]) throws
}

extension KafkaConsumer: PausablePartitions {}

/// The one place that pauses and resumes a pipeline's partitions, keeping every reason apart.
///
/// A reason is held by some partitions (a retry delay, a breaker whose dependency those partitions' events need)
/// or by all of them (a breaker of consumer scope, an operator pause, the pipeline's rate limit). A reason held by
/// all also holds for partitions assigned later: ``pausedOnAssignment(_:)`` is the consumer's assignment hook, so
/// a pause outlives a rebalance. A partition newly assigned starts without its previous per-partition reasons (its
/// records are read again from the committed offset, and whatever paused it then pauses it again), but with the
/// reasons set by ``pauseOnAssignment(reason:until:)`` (a breaker of partition scope that is open: the new
/// partitions' events most likely need the same dependency).
///
/// Any reason may carry a time at which it lapses by itself (``releaseExpired(now:)``).
package final class PartitionPauses: Sendable {
    private struct State {
        var target: (any PausablePartitions)?
        /// Reasons held by some partitions, each with the time it lapses (nil: until released).
        var partitionReasons: [TopicPartition: [PauseReason: ContinuousClock.Instant?]] = [:]
        /// Reasons held by all partitions, present and future.
        var everywhere: [PauseReason: ContinuousClock.Instant?] = [:]
        /// Reasons a newly assigned partition starts with (then held by it alone).
        var onAssignment: [PauseReason: ContinuousClock.Instant?] = [:]
        /// The partitions this registry has paused in the consumer.
        var paused: Set<TopicPartition> = []
    }

    private let state = Mutex(State())
    private let onError: @Sendable (String) -> Void

    /// Creates an empty registry.
    /// - Parameter onError: Where failures to pause or resume go (a partition revoked meanwhile, usually).
    package init(onError: @escaping @Sendable (String) -> Void = { _ in }) {
        self.onError = onError
    }

    /// Binds the consumer whose partitions this registry pauses (once, after both exist).
    package func bind(_ target: any PausablePartitions) {
        state.withLock { $0.target = target }
    }

    /// Pauses partitions for a reason, until `until` or until ``release(_:reason:)``.
    package func pause(_ partitions: [TopicPartition], reason: PauseReason, until: ContinuousClock.Instant? = nil) {
        update { state in
            for partition in partitions { state.partitionReasons[partition, default: [:]][reason] = until }
        }
    }

    /// Lifts one reason from partitions; those with no reason left resume.
    package func release(_ partitions: [TopicPartition], reason: PauseReason) {
        update { state in
            for partition in partitions { state.partitionReasons[partition]?[reason] = nil }
        }
    }

    /// Pauses every partition, including those assigned later, for a reason.
    package func pauseAll(reason: PauseReason, until: ContinuousClock.Instant? = nil) {
        update { $0.everywhere[reason] = until }
    }

    /// Makes partitions assigned from now on start paused for a reason (each then holds it on its own), until
    /// `until` or until ``releaseAll(reason:)``. Partitions already assigned are not affected.
    package func pauseOnAssignment(reason: PauseReason, until: ContinuousClock.Instant? = nil) {
        state.withLock { $0.onAssignment[reason] = until }
    }

    /// Changes when a reason lapses, wherever it is held (by some partitions, by all, or on assignment).
    package func retime(reason: PauseReason, until: ContinuousClock.Instant?) {
        update { state in
            if state.everywhere[reason] != nil { state.everywhere[reason] = until }
            if state.onAssignment[reason] != nil { state.onAssignment[reason] = until }
            for (partition, reasons) in state.partitionReasons where reasons[reason] != nil {
                state.partitionReasons[partition]?[reason] = until
            }
        }
    }

    /// Lifts a reason from every partition (held by all, or by some) and from partitions assigned later.
    package func releaseAll(reason: PauseReason) {
        update { state in
            state.everywhere[reason] = nil
            state.onAssignment[reason] = nil
            for partition in state.partitionReasons.keys { state.partitionReasons[partition]?[reason] = nil }
        }
    }

    /// Lifts the reasons whose time has come; returns whether any did.
    @discardableResult
    package func releaseExpired(now: ContinuousClock.Instant = .now) -> Bool {
        var released = false
        update { state in
            for (reason, until) in state.everywhere where until.map({ $0 <= now }) ?? false {
                state.everywhere[reason] = nil
                released = true
            }
            for (reason, until) in state.onAssignment where until.map({ $0 <= now }) ?? false {
                state.onAssignment[reason] = nil
            }
            for (partition, reasons) in state.partitionReasons {
                for (reason, until) in reasons where until.map({ $0 <= now }) ?? false {
                    state.partitionReasons[partition]?[reason] = nil
                    released = true
                }
            }
        }
        return released
    }

    /// Forgets every reason (shutdown): nothing this registry did outlives the pipeline.
    package func releaseEverything() {
        update { state in
            state.everywhere = [:]
            state.onAssignment = [:]
            state.partitionReasons = [:]
        }
    }

    /// The consumer's assignment hook: the newly assigned partitions that must start paused. Their previous
    /// per-partition reasons are forgotten, and the reasons set for new partitions apply (see the type's
    /// documentation).
    package func pausedOnAssignment(_ partitions: [TopicPartition]) -> [TopicPartition] {
        state.withLock { state in
            let now = ContinuousClock.now
            let onAssignment = state.onAssignment.filter { $0.value.map { $0 > now } ?? true }
            for partition in partitions {
                state.partitionReasons[partition] = onAssignment.isEmpty ? nil : onAssignment
                state.paused.remove(partition)
            }
            guard !state.everywhere.isEmpty || !onAssignment.isEmpty else { return [] }
            state.paused.formUnion(partitions)
            return partitions
        }
    }

    /// Why each paused partition is paused, for metrics and status output.
    package var snapshot: [TopicPartition: Set<PauseReason>] {
        state.withLock { state in
            var result: [TopicPartition: Set<PauseReason>] = [:]
            for partition in state.paused { result[partition] = Self.reasons(of: partition, in: state) }
            return result
        }
    }

    /// The reasons held by all partitions.
    package var pipelineReasons: Set<PauseReason> { state.withLock { Set($0.everywhere.keys) } }

    /// Whether a reason holds for this partition.
    package func isPaused(_ partition: TopicPartition, for reason: PauseReason) -> Bool {
        state.withLock { Self.reasons(of: partition, in: $0).contains(reason) }
    }

    private static func reasons(of partition: TopicPartition, in state: State) -> Set<PauseReason> {
        var reasons = Set(state.everywhere.keys)
        if let own = state.partitionReasons[partition] { reasons.formUnion(own.keys) }
        return reasons
    }

    /// Applies a change, then brings the consumer in line: partitions with a reason and not yet paused are paused,
    /// paused ones with none left resume. Done under the lock so two changes cannot reach the consumer out of order.
    private func update(_ change: (inout State) -> Void) {
        state.withLock { state in
            change(&state)
            state.partitionReasons = state.partitionReasons.filter { !$0.value.isEmpty }
            guard let target = state.target else { return }
            let assigned = target.assignment
            let wanted = state.everywhere.isEmpty
                ? Set(state.partitionReasons.keys).intersection(assigned) : assigned
            let toPause = wanted.subtracting(state.paused)
            // A revoked partition needs no resume (and cannot have one): it is simply forgotten.
            let toResume = state.paused.subtracting(wanted).intersection(assigned)
            if !toPause.isEmpty {
                do { try target.pause(Array(toPause)) } catch { onError("could not pause \(toPause): \(error)") }
            }
            if !toResume.isEmpty {
                do { try target.resume(Array(toResume)) } catch { onError("could not resume \(toResume): \(error)") }
            }
            state.paused = wanted
        }
    }
}
