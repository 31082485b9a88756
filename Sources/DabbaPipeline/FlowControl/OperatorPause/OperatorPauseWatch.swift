import DabbaKafka
import Logging
import Synchronization

/// Follows the control topic and keeps this instance's group paused while an operator says so: every partition,
/// including those assigned later, holds ``PauseReason/operatorPause`` until the group is resumed.
package final class OperatorPauseWatch: Sendable {
    /// The control topic.
    package let topic: String
    private let group: String
    private let pauses: PartitionPauses
    private let logger: Logger
    private let current = Mutex<OperatorPauseState?>(nil)

    /// Creates the watch; nothing is read until ``run(client:until:)``.
    /// - Parameters:
    ///   - topic: The control topic.
    ///   - group: This instance's consumer group.
    ///   - pauses: Where the pause is applied.
    ///   - logger: Where transitions are logged (once each).
    package init(topic: String, group: String, pauses: PartitionPauses, logger: Logger) {
        self.topic = topic
        self.group = group
        self.pauses = pauses
        self.logger = logger
    }

    /// The group's latest state on the control topic (nil: never paused or resumed).
    package var state: OperatorPauseState? { current.withLock { $0 } }

    /// Whether the operator holds the group paused.
    package var isPaused: Bool { state?.paused ?? false }

    /// Follows the control topic until `isStopped` says so. A missing topic is waited for; a follower that cannot be
    /// created is logged once and the instance runs unpaused.
    /// - Parameters:
    ///   - client: Connection settings.
    ///   - isStopped: Polled every 100 ms.
    package func run(client: ClientConfiguration, until isStopped: @escaping @Sendable () -> Bool) async {
        let follower: KafkaTopicFollower
        do {
            follower = try KafkaTopicFollower(configuration: client, topic: topic, logger: logger)
        } catch {
            logger.error("cannot follow the control topic \(topic); operator pauses will not apply: \(error)")
            return
        }
        await withTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await follower.follow { self.apply($0) } }
            while !isStopped() { try? await Task.sleep(for: .milliseconds(100)) }
            tasks.cancelAll()
        }
    }

    /// Applies one control record: only the latest record of this group counts.
    package func apply(_ record: FollowedRecord) {
        guard let key = record.key, String(decoding: key, as: UTF8.self) == group else { return }
        let state = record.value.flatMap(OperatorPauseState.decode)
        let wasPaused = current.withLock { current in
            defer { current = state }
            return current?.paused ?? false
        }
        if state?.paused ?? false {
            pauses.pauseAll(reason: .operatorPause)
            if !wasPaused { logger.notice("group \(group) paused by the operator: \(state?.summary ?? "")") }
        } else {
            pauses.releaseAll(reason: .operatorPause)
            if wasPaused { logger.notice("group \(group) resumed by the operator: \(state?.summary ?? "")") }
        }
    }
}
