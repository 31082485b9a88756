import DabbaInbox
import DabbaKafka
import Foundation
import Logging
import Synchronization

/// The emit side of the outbox: turns an emitted event's Kafka record into an outbox row in the event's transaction.
struct OutboxWriter: Sendable {
    let store: any OutboxStore
    let group: String

    /// Appends the record to the outbox inside `transaction` (it commits or rolls back with the handler's writes).
    func append(_ message: ProducerMessage, in transaction: any InboxTransaction) throws {
        let record = OutboxRecord(
            topic: message.topic, partition: message.partition, key: message.key, value: message.value,
            headers: message.headers.map { OutboxHeader(name: $0.name, value: $0.value) },
            createdAtMilliseconds: message.timestampMilliseconds ?? Int64(Date().timeIntervalSince1970 * 1000)
        )
        try store.appendToOutbox([record], group: group, in: transaction)
    }
}

/// Wakes one waiting task early; a wake-up with nobody waiting is kept for the next wait.
final class WakeSignal: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    /// Wakes the waiter, or the next one.
    func notify() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.pending = true
                return nil
            }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    /// Waits until notified, `timeout` passed, or the task is cancelled.
    func wait(upTo timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.waitForNotification() }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func waitForNotification() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.pending || Task.isCancelled {
                        state.pending = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}

extension PipelineRunner {
    /// The outbox's writer and relay when ``PipelineConfiguration/outbox`` is on, after checking the combination.
    static func makeOutbox(
        configuration: PipelineConfiguration, inbox: (any InboxStore)?, group: String, metrics: PipelineMetrics,
        logger: Logger
    ) throws -> (writer: OutboxWriter, relay: OutboxRelay)? {
        guard configuration.outbox.enabled else { return nil }
        guard !configuration.exactlyOnce else {
            throw PipelineError(
                .configuration,
                "the outbox and exactly-once mode both decide how emitted events are published: choose one (the "
                    + "outbox commits them with the inbox database; exactly-once commits them in a Kafka transaction)"
            )
        }
        guard let inbox else {
            throw PipelineError(
                .configuration, "the outbox is a table in the inbox database: configure an inbox (SQLite or PostgreSQL)"
            )
        }
        guard let store = inbox as? any OutboxStore else {
            throw PipelineError(
                .configuration, "the inbox store \(type(of: inbox)) keeps no outbox (it is not an OutboxStore)"
            )
        }
        let relay = try OutboxRelay(
            store: store, group: group, client: configuration.client,
            producerProperties: configuration.producerProperties, configuration: configuration.outbox, metrics: metrics,
            logger: logger
        )
        return (OutboxWriter(store: store, group: group), relay)
    }
}
