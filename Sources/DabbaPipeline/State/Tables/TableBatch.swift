import DabbaEvents
import DabbaInbox
import Foundation
import Synchronization

/// One inbox transaction's table changes: staged by each event whose handler succeeded, read back by the handlers
/// after it, and written just before the commit, once per key (conflation), for the events that are committed.
final class TableBatch: Sendable {
    /// The batch of the inbox transaction the current task runs in.
    @TaskLocal static var current: TableBatch?

    let tables: PipelineTables

    private struct State {
        /// Every staged change with the event that made it, in order.
        var log: [(eventID: String, change: TableChange)] = []
        /// Per key, its latest staged change: what the batch's handlers read.
        var latest: [TableKey: TableChange] = [:]
        /// Written before the commit: per table, changes applied and rows written (counted once committed).
        var updates: [String: Int] = [:]
        var writes: [String: Int] = [:]
    }

    private let state = Mutex(State())

    init(tables: PipelineTables) { self.tables = tables }

    /// Stages an event's changes in the current batch.
    /// - Throws: ``TableError`` `noInbox` when there is no batch: the event is not handled in an inbox transaction.
    static func stage(_ changes: [TableChange], of event: DecodedEvent) throws {
        guard let batch = current else {
            throw TableError(
                .noInbox, table: changes.first?.key.table ?? "?",
                "the event \(event.id) is not handled in an inbox transaction, so its table change cannot be kept: "
                    + "configure an inbox (SQLite or PostgreSQL)"
            )
        }
        guard !changes.isEmpty else { return }
        let eventID = event.id
        batch.state.withLock { state in
            for change in changes {
                state.log.append((eventID, change))
                state.latest[change.key] = change
            }
        }
    }

    /// The latest change staged for a key, if any.
    func staged(_ key: TableKey) -> TableChange? { state.withLock { $0.latest[key] } }

    /// The latest staged changes of a table's keys starting with `prefix`.
    func staged(table: String, prefix: String) -> [TableChange] {
        state.withLock { state in
            state.latest.values.filter { $0.key.table == table && $0.key.key.hasPrefix(prefix) }
        }
    }

    /// Writes the committed events' changes: per key only the last one, keys in order (so two instances writing
    /// the same keys lock them in the same order).
    /// - Parameters:
    ///   - end: The batch's transaction and outcomes.
    ///   - eventIDs: The batch's event ids, in the order of the outcomes.
    /// - Throws: ``TableError`` if a value cannot be encoded, ``InboxError`` if a statement fails (the batch then
    ///   rolls back).
    func write(_ end: InboxBatchEnd, eventIDs: [String]) throws {
        let log = state.withLock { $0.log }
        guard !log.isEmpty else { return }
        var committed: Set<String> = []
        for (eventID, outcome) in zip(eventIDs, end.outcomes) where outcome == .processed { committed.insert(eventID) }
        var latest: [TableKey: TableChange] = [:]
        var updates: [String: Int] = [:]
        for (eventID, change) in log where committed.contains(eventID) {
            latest[change.key] = change
            updates[change.key.table, default: 0] += 1
        }
        var writes: [String: Int] = [:]
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        for (key, change) in latest.sorted(by: { $0.key < $1.key }) {
            if let value = change.value {
                let json = try value.encode()
                try TableSQL.upsert(group: tables.group, key: key, json: json, now: now, in: end.transaction)
            } else {
                try TableSQL.delete(group: tables.group, key: key, in: end.transaction)
            }
            writes[key.table, default: 0] += 1
        }
        state.withLock { state in
            state.updates = updates
            state.writes = writes
        }
    }

    /// Counts what the batch wrote, once its transaction committed.
    func recordCommitted() {
        let (updates, writes) = state.withLock { ($0.updates, $0.writes) }
        tables.record(updates: updates, writes: writes)
    }
}
