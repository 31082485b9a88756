internal import CRDKafka
import Synchronization

/// Finished fetch batches, destroyed on the consumer's fetch thread instead of the application's, and their arrays
/// reused for the next batches.
///
/// Destroying a batch frees each record and its parsed headers: work that would otherwise fall on the thread that
/// releases the last message, which is the application's. The fetch thread also allocated those headers
/// (``ConsumerConfiguration/parsesHeadersOnFetch``), so freeing them there keeps the allocator's memory where it
/// came from; and since it reuses the batch arrays, it makes no large allocation per batch either (with glibc, one
/// makes the allocator consolidate every small block freed since, which cost the fetch thread a third of its time).
///
/// A batch is retired when its last message is released; the fetch loop destroys retired batches between fetches.
/// Once the loop has stopped (``close()``), batches are destroyed by whoever retires them, as before.
final class MessageRecycler: Sendable {
    typealias Pointers = [UnsafeMutablePointer<rd_kafka_message_t>]

    /// A batch's arrays, emptied for reuse. `@unchecked Sendable`: the record pointers are handed from the thread
    /// that retires a batch to the fetch thread, which alone destroys them.
    struct Storage: @unchecked Sendable {
        var pointers: Pointers
        var topicIndices: [UInt16]
    }

    private struct Retired: Sendable {
        /// Keeps the handle alive until its records are destroyed.
        let client: RDKafkaClient
        var storage: Storage
    }

    private struct State: Sendable {
        var retired: [Retired] = []
        var spare: [Storage] = []
        var closed = false
    }

    private let state = Mutex<State>(State())
    private let spareLimit: Int

    /// - Parameter spareLimit: How many emptied arrays to keep for reuse.
    init(spareLimit: Int) {
        self.spareLimit = spareLimit
    }

    /// Hands over a finished batch's records; destroys them here if the fetch loop has stopped.
    func retire(client: RDKafkaClient, _ storage: Storage) {
        let accepted = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            state.retired.append(Retired(client: client, storage: storage))
            return true
        }
        if !accepted {
            for pointer in storage.pointers { rd_kafka_message_destroy(pointer) }
        }
    }

    /// Destroys the retired batches' records (on the fetch thread) and keeps their emptied arrays.
    func destroyRetired() {
        var retired = state.withLock { state -> [Retired] in
            guard !state.retired.isEmpty else { return [] }
            var taken: [Retired] = []
            swap(&taken, &state.retired)
            return taken
        }
        guard !retired.isEmpty else { return }
        var emptied: [Storage] = []
        // Each batch is moved out of the list, so its arrays are uniquely referenced and are emptied in place (a
        // shared array would be copied into a new allocation instead).
        while var batch = retired.popLast() {
            for pointer in batch.storage.pointers { rd_kafka_message_destroy(pointer) }
            batch.storage.pointers.removeAll(keepingCapacity: true)
            batch.storage.topicIndices.removeAll(keepingCapacity: true)
            emptied.append(batch.storage)
        }
        state.withLock { state in
            for storage in emptied where state.spare.count < spareLimit { state.spare.append(storage) }
        }
    }

    /// Emptied arrays for a new batch, if any were kept.
    func spareStorage() -> Storage? {
        state.withLock { $0.spare.popLast() }
    }

    /// The fetch loop stopped: destroys what is retired and has later batches destroyed when they are retired.
    func close() {
        let retired = state.withLock { state -> [Retired] in
            state.closed = true
            state.spare = []
            defer { state.retired = [] }
            return state.retired
        }
        for batch in retired {
            for pointer in batch.storage.pointers { rd_kafka_message_destroy(pointer) }
        }
    }
}
