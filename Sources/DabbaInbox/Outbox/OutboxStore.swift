/// An inbox store that also keeps a transactional outbox: events a handler emits are written to an outbox table in
/// the same database transaction as the handler's state and the inbox mark, and a relay publishes them to Kafka
/// afterwards, in order, and deletes them once the broker acknowledged them.
///
/// Rows are per consumer group and ordered by a sequence number the store assigns at insert time. The relay reads
/// the oldest rows, publishes them, and deletes exactly the sequence numbers that were acknowledged (never a range:
/// with concurrent writers a lower sequence number can become visible after a higher one).
public protocol OutboxStore: InboxStore {
    /// Creates the outbox table (and what the store needs around it) if it is missing. Called once before the
    /// pipeline processes its first batch in outbox mode.
    /// - Throws: ``InboxError`` if the table cannot be created.
    func prepareOutbox() async throws

    /// Appends records to the outbox inside an event's transaction: they commit or roll back with the handler's
    /// writes and the inbox mark.
    /// - Parameters:
    ///   - records: The records, in emission order (their ``OutboxRecord/sequence`` is ignored and assigned).
    ///   - group: The consumer group whose relay publishes them.
    ///   - transaction: The event's transaction (the ``InboxTransaction`` its handler got from
    ///     ``InboxStore/processBatch(group:eventIDs:beforeCommit:_:)``).
    /// - Throws: ``InboxError`` if the insert fails (the event then fails like any failed statement of its handler).
    func appendToOutbox(_ records: [OutboxRecord], group: String, in transaction: any InboxTransaction) throws

    /// The oldest committed records of a group, by sequence number.
    /// - Parameters:
    ///   - group: The consumer group.
    ///   - limit: The most records returned.
    /// - Returns: Up to `limit` records, lowest sequence number first.
    /// - Throws: ``InboxError`` if the query fails or a stored record cannot be read back.
    func oldestOutboxRecords(group: String, limit: Int) async throws -> [OutboxRecord]

    /// Deletes published records and, in the same transaction, moves the group's read-back positions past them.
    /// - Parameters:
    ///   - group: The consumer group.
    ///   - sequences: The records' sequence numbers.
    ///   - positions: Per partition written to, the offset after the last of these records; a stored position only
    ///     moves forward.
    /// - Throws: ``InboxError`` if a statement fails (then nothing is deleted).
    func deleteOutboxRecords(group: String, sequences: [Int64], advancing positions: [OutboxPosition]) async throws

    /// Records where the relay starts writing to partitions it has no position for yet (their current ends),
    /// before it publishes there; positions already stored are kept.
    /// - Parameters:
    ///   - group: The consumer group.
    ///   - positions: Per partition, the offset the next record will get.
    /// - Throws: ``InboxError`` if the statement fails.
    func recordOutboxPositions(group: String, _ positions: [OutboxPosition]) async throws

    /// The group's read-back positions: per partition the relay wrote to, an offset at or before every record it
    /// published and has not deleted from the outbox yet. After a crash, the records from there to the partition's
    /// end are where rows still in the outbox may already be.
    /// - Parameter group: The consumer group.
    /// - Returns: The stored positions.
    /// - Throws: ``InboxError`` if the query fails.
    func outboxPositions(group: String) async throws -> [OutboxPosition]

    /// How many records wait in a group's outbox, and when the oldest was written.
    /// - Parameter group: The consumer group.
    /// - Returns: The depth and the oldest record's creation time.
    /// - Throws: ``InboxError`` if the query fails.
    func outboxStatus(group: String) async throws -> OutboxStatus

    /// Takes (or confirms) the right to publish a group's outbox. Only one relay per group may publish at a time,
    /// or two instances sharing the store would publish the same rows and break their order. A store used by one
    /// process only (SQLite) always grants it; a shared store grants it to one connection until that connection
    /// ends (a process that dies releases it).
    /// - Parameter group: The consumer group.
    /// - Returns: Whether this store's relay may publish now.
    /// - Throws: ``InboxError`` if the store cannot be asked.
    func acquireOutboxRelay(group: String) async throws -> Bool
}

/// A record waiting in the outbox: a Kafka record and where it goes, with its headers.
public struct OutboxRecord: Sendable, Hashable {
    /// Assigned by the store when the record is appended (0 before); the relay publishes in this order.
    public var sequence: Int64
    /// The destination topic.
    public var topic: String
    /// An explicit partition, or nil for the key's partition.
    public var partition: Int32?
    /// The record key.
    public var key: [UInt8]?
    /// The record value (nil for a tombstone).
    public var value: [UInt8]?
    /// The record headers, in order.
    public var headers: [OutboxHeader]
    /// When the handler emitted it, in milliseconds since the Unix epoch (also the record's timestamp).
    public var createdAtMilliseconds: Int64

    /// Creates a record.
    /// - Parameters:
    ///   - sequence: The store's sequence number (0 for a record not stored yet).
    ///   - topic: The destination topic.
    ///   - partition: An explicit partition, or nil for the key's partition.
    ///   - key: The record key.
    ///   - value: The record value.
    ///   - headers: The record headers.
    ///   - createdAtMilliseconds: The emission time.
    public init(
        sequence: Int64 = 0,
        topic: String,
        partition: Int32? = nil,
        key: [UInt8]?,
        value: [UInt8]?,
        headers: [OutboxHeader],
        createdAtMilliseconds: Int64
    ) {
        self.sequence = sequence
        self.topic = topic
        self.partition = partition
        self.key = key
        self.value = value
        self.headers = headers
        self.createdAtMilliseconds = createdAtMilliseconds
    }

    /// The first header with this name, as UTF-8 text.
    /// - Parameter name: The header name (e.g. `ce_id`).
    /// - Returns: Its value, or nil.
    public func header(_ name: String) -> String? {
        headers.first { $0.name == name }?.value.map { String(decoding: $0, as: UTF8.self) }
    }
}

/// One record header of an ``OutboxRecord``.
public struct OutboxHeader: Sendable, Hashable {
    /// The header name.
    public var name: String
    /// The header value (nil for a header without a value).
    public var value: [UInt8]?

    /// Creates a header.
    /// - Parameters:
    ///   - name: The name.
    ///   - value: The value bytes.
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }
}

/// A partition and an offset in it, in the outbox's read-back bookkeeping.
public struct OutboxPosition: Sendable, Hashable {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32
    /// The offset.
    public var offset: Int64

    /// Creates a position.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - partition: The partition.
    ///   - offset: The offset.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}

/// How far a group's outbox is behind.
public struct OutboxStatus: Sendable, Hashable {
    /// Records waiting to be published.
    public var depth: Int
    /// When the oldest waiting record was written (milliseconds since the Unix epoch), nil when empty.
    public var oldestCreatedAtMilliseconds: Int64?

    /// Creates a status.
    /// - Parameters:
    ///   - depth: Records waiting.
    ///   - oldestCreatedAtMilliseconds: The oldest record's creation time.
    public init(depth: Int, oldestCreatedAtMilliseconds: Int64?) {
        self.depth = depth
        self.oldestCreatedAtMilliseconds = oldestCreatedAtMilliseconds
    }
}

/// The stored form of an outbox record's headers: a count, then per header its name and value, each with a
/// big-endian 32-bit length (-1 for a header without a value). Portable across stores (a blob / `bytea` column).
package enum OutboxHeaderCoding {
    /// Encodes headers.
    package static func encode(_ headers: [OutboxHeader]) -> [UInt8] {
        var bytes: [UInt8] = []
        append(Int32(headers.count), to: &bytes)
        for header in headers {
            let name = Array(header.name.utf8)
            append(Int32(name.count), to: &bytes)
            bytes += name
            if let value = header.value {
                append(Int32(value.count), to: &bytes)
                bytes += value
            } else {
                append(-1, to: &bytes)
            }
        }
        return bytes
    }

    /// Decodes headers written by ``encode(_:)``.
    /// - Throws: ``InboxError`` `statement` if the bytes are truncated or malformed.
    package static func decode(_ bytes: [UInt8]) throws -> [OutboxHeader] {
        var position = 0
        func length() throws -> Int32 {
            guard position + 4 <= bytes.count else { throw malformed(position) }
            var value: UInt32 = 0
            for byte in bytes[position..<position + 4] { value = value << 8 | UInt32(byte) }
            position += 4
            return Int32(bitPattern: value)
        }
        func take(_ count: Int32) throws -> [UInt8] {
            guard count >= 0, position + Int(count) <= bytes.count else { throw malformed(position) }
            defer { position += Int(count) }
            return Array(bytes[position..<position + Int(count)])
        }
        let count = try length()
        guard count >= 0 else { throw malformed(0) }
        var headers: [OutboxHeader] = []
        for _ in 0..<count {
            let name = String(decoding: try take(try length()), as: UTF8.self)
            let valueLength = try length()
            headers.append(OutboxHeader(name: name, value: valueLength == -1 ? nil : try take(valueLength)))
        }
        guard position == bytes.count else { throw malformed(position) }
        return headers
    }

    private static func append(_ value: Int32, to bytes: inout [UInt8]) {
        let bits = UInt32(bitPattern: value)
        bytes += [UInt8(bits >> 24), UInt8(truncatingIfNeeded: bits >> 16), UInt8(truncatingIfNeeded: bits >> 8),
                  UInt8(truncatingIfNeeded: bits)]
    }

    private static func malformed(_ position: Int) -> InboxError {
        InboxError(.statement, "an outbox record's stored headers are malformed at byte \(position)")
    }
}
