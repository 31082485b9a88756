internal import CRDKafka
import Synchronization

/// A batch of consumed messages, owned until the last ``KafkaMessage`` referring to it is gone; then its records
/// go to the consumer's ``MessageRecycler`` to be destroyed on the fetch thread.
///
/// `@unchecked Sendable`: the message pointers are immutable after creation; the only mutation librdkafka does on
/// a message after consumption is its lazy header parse, which `headerLock` serializes (unless the fetch thread
/// parsed every record's headers before handing the batch over: then reading them needs no lock).
final class MessageBatch: @unchecked Sendable {
    /// The consumer's client; nil for records made in memory.
    let client: RDKafkaClient?
    let pointers: [UnsafeMutablePointer<rd_kafka_message_t>]
    let topicIndices: [UInt16]
    let topicNames: [String]
    /// The consumer's invalidation epoch when this batch was fetched (see ``ConsumerCallbacks``).
    let epoch: UInt64
    /// Whether every record's headers were parsed on the fetch thread (read-only from then on).
    let headersParsed: Bool
    let recycler: MessageRecycler?
    /// Headers and timestamps of records made in memory (then the pointers are not librdkafka's); nil when fetched.
    let inMemory: InMemoryRecords?
    let headerLock = Mutex<Void>(())

    init(
        client: RDKafkaClient?,
        pointers: [UnsafeMutablePointer<rd_kafka_message_t>],
        topicIndices: [UInt16],
        topicNames: [String],
        epoch: UInt64,
        headersParsed: Bool,
        recycler: MessageRecycler?,
        inMemory: InMemoryRecords? = nil
    ) {
        self.client = client
        self.pointers = pointers
        self.topicIndices = topicIndices
        self.topicNames = topicNames
        self.epoch = epoch
        self.headersParsed = headersParsed
        self.recycler = recycler
        self.inMemory = inMemory
    }

    var count: Int { pointers.count }

    /// Runs `body` with the header lock held, unless the headers were parsed ahead (then no lock is needed).
    @inline(__always)
    func withHeaderAccess<R>(_ body: () throws -> R) rethrows -> R {
        if headersParsed { return try body() }
        return try headerLock.withLock { _ in try body() }
    }

    deinit {
        if inMemory != nil {
            // Made in memory: not librdkafka's records; `inMemory` frees their blocks.
        } else if let recycler, let client {
            recycler.retire(client: client, MessageRecycler.Storage(pointers: pointers, topicIndices: topicIndices))
        } else {
            for pointer in pointers { rd_kafka_message_destroy(pointer) }
        }
    }
}

/// A consumed Kafka record.
///
/// Key and value bytes stay in librdkafka's buffer until asked for: ``withUnsafeValue(_:)`` reads them without
/// copying; ``value`` and ``key`` copy. Keeping a message alive keeps its fetch batch alive.
public struct KafkaMessage: Sendable {
    let batch: MessageBatch
    let index: Int

    @inline(__always)
    var record: rd_kafka_message_t { batch.pointers[index].pointee }

    /// The topic the message was read from.
    public var topic: String { batch.topicNames[Int(batch.topicIndices[index])] }
    /// The partition the message was read from.
    public var partition: Int32 { record.partition }
    /// The message's offset within its partition.
    public var offset: Int64 { record.offset }

    /// The key bytes (copied), or nil for an unkeyed message.
    public var key: [UInt8]? {
        let record = self.record
        guard let pointer = record.key else { return nil }
        return Array(UnsafeRawBufferPointer(start: pointer, count: record.key_len))
    }

    /// The key decoded as UTF-8, or nil for an unkeyed message.
    public var keyString: String? {
        let record = self.record
        guard let pointer = record.key else { return nil }
        return String(decoding: UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: UInt8.self), count: record.key_len), as: UTF8.self)
    }

    /// The value bytes (copied), or nil for a tombstone.
    public var value: [UInt8]? {
        let record = self.record
        guard let pointer = record.payload else { return nil }
        return Array(UnsafeRawBufferPointer(start: pointer, count: record.len))
    }

    /// The value decoded as UTF-8, or nil for a tombstone.
    public var valueString: String? {
        let record = self.record
        guard let pointer = record.payload else { return nil }
        return String(decoding: UnsafeBufferPointer(start: pointer.assumingMemoryBound(to: UInt8.self), count: record.len), as: UTF8.self)
    }

    /// The value's length in bytes (0 for a tombstone).
    public var valueCount: Int { record.len }

    /// Calls `body` with the value bytes in place, without copying. The buffer is valid only inside `body`.
    /// - Parameter body: Receives the bytes, or nil for a tombstone.
    /// - Returns: What `body` returns.
    public func withUnsafeValue<Result>(_ body: (UnsafeRawBufferPointer?) throws -> Result) rethrows -> Result {
        let record = self.record
        guard let pointer = record.payload else { return try body(nil) }
        return try withExtendedLifetime(batch) {
            try body(UnsafeRawBufferPointer(start: pointer, count: record.len))
        }
    }

    /// Calls `body` with the key bytes in place, without copying. The buffer is valid only inside `body`.
    /// - Parameter body: Receives the bytes, or nil for an unkeyed message.
    /// - Returns: What `body` returns.
    public func withUnsafeKey<Result>(_ body: (UnsafeRawBufferPointer?) throws -> Result) rethrows -> Result {
        let record = self.record
        guard let pointer = record.key else { return try body(nil) }
        return try withExtendedLifetime(batch) {
            try body(UnsafeRawBufferPointer(start: pointer, count: record.key_len))
        }
    }

    /// The record timestamp in milliseconds since the Unix epoch, or nil if the record has none.
    public var timestampMilliseconds: Int64? {
        if let inMemory = batch.inMemory { return inMemory.timestamps[index] }
        var type = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let value = rd_kafka_message_timestamp(batch.pointers[index], &type)
        return type == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : value
    }

    /// The record headers, in order.
    public var headers: [KafkaHeader] {
        if let inMemory = batch.inMemory {
            return inMemory.headers[index].map { header in
                KafkaHeader(name: String(decoding: header.name, as: UTF8.self), value: header.value.map { Array($0) })
            }
        }
        return batch.withHeaderAccess {
            var list: OpaquePointer?
            guard rd_kafka_message_headers(batch.pointers[index], &list) == RD_KAFKA_RESP_ERR_NO_ERROR,
                let list
            else { return [] }
            var result: [KafkaHeader] = []
            result.reserveCapacity(rd_kafka_header_cnt(list))
            var position = 0
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, position, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                result.append(
                    KafkaHeader(
                        name: name.map { String(cString: $0) } ?? "",
                        value: value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }
                    )
                )
                position += 1
            }
            return result
        }
    }

    /// The value of the last header with this name, as UTF-8.
    /// - Parameter name: The header name.
    /// - Returns: The value, or nil when absent or null.
    public func header(_ name: String) -> String? {
        if let inMemory = batch.inMemory {
            let bytes = Array(name.utf8.prefix { $0 != 0 })
            guard let found = inMemory.headers[index].last(where: { $0.name.elementsEqual(bytes) }),
                let value = found.value
            else { return nil }
            return String(decoding: value, as: UTF8.self)
        }
        return batch.withHeaderAccess {
            var list: OpaquePointer?
            guard rd_kafka_message_headers(batch.pointers[index], &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list
            else { return nil }
            var value: UnsafeRawPointer?
            var size = 0
            guard rd_kafka_header_get_last(list, name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR, let value else {
                return nil
            }
            return String(decoding: UnsafeBufferPointer(start: value.assumingMemoryBound(to: UInt8.self), count: size), as: UTF8.self)
        }
    }

    /// Calls `body` for each header in order, with the value bytes in place (no copies): the fast way to read
    /// several headers. The buffers are valid only inside `body`.
    /// - Parameter body: Receives each header's name and value (nil for a null value).
    public func forEachHeader(_ body: (_ name: String, _ value: UnsafeRawBufferPointer?) throws -> Void) rethrows {
        try forEachRawHeader { name, value in try body(String(decoding: name, as: UTF8.self), value) }
    }

    /// Calls `body` for each header in order with the name's UTF-8 bytes and the value bytes in place: no copies
    /// and no `String`s, for hot paths that match header names themselves. The buffers are valid only inside `body`.
    /// - Parameter body: Receives each header's name bytes and value (nil for a null value).
    public func forEachRawHeader(
        _ body: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeRawBufferPointer?) throws -> Void
    ) rethrows {
        if let inMemory = batch.inMemory {
            for header in inMemory.headers[index] { try body(header.name, header.value) }
            return
        }
        try batch.withHeaderAccess {
            var list: OpaquePointer?
            guard rd_kafka_message_headers(batch.pointers[index], &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list
            else { return }
            var position = 0
            var name: UnsafePointer<CChar>?
            var value: UnsafeRawPointer?
            var size = 0
            while rd_kafka_header_get_all(list, position, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                let nameBytes = name.map { pointer in
                    let bytes = UnsafeRawPointer(pointer).assumingMemoryBound(to: UInt8.self)
                    var length = 0
                    while bytes[length] != 0 { length += 1 }
                    return UnsafeBufferPointer(start: bytes, count: length)
                } ?? UnsafeBufferPointer(start: nil, count: 0)
                try body(nameBytes, value.map { UnsafeRawBufferPointer(start: $0, count: size) })
                position += 1
            }
        }
    }

    /// This message's topic and partition.
    public var topicPartition: TopicPartition { TopicPartition(topic: topic, partition: partition) }

    /// The fetch batch the message came in and its position there: identifies the record among the messages a
    /// consumer handed out (a runtime can index per-record state by it without hashing topic names).
    package var fetchPosition: (batch: ObjectIdentifier, index: Int) { (ObjectIdentifier(batch), index) }

    /// Whether `other` is of the same topic and partition, without making topic strings (cheap when both come from
    /// the same fetch batch, as consecutive messages usually do).
    package func isSamePartition(as other: KafkaMessage) -> Bool {
        guard record.partition == other.record.partition else { return false }
        if batch === other.batch { return batch.topicIndices[index] == batch.topicIndices[other.index] }
        return topic == other.topic
    }
}
