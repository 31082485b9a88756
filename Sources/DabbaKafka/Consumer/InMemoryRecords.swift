internal import CRDKafka

/// The parts of records made in memory (`KafkaMessage.inMemory`) that librdkafka would otherwise hold: header lists
/// and timestamps. Their `rd_kafka_message_t`s, keys, values and header bytes live in one allocation per record that
/// the batch frees; the buffers never move, so readers may keep pointers into them as long as the batch lives, as
/// they do with fetched records.
final class InMemoryRecords: @unchecked Sendable {
    struct Header {
        /// The name's bytes, up to its first NUL (librdkafka's names are C strings).
        let name: UnsafeBufferPointer<UInt8>
        let value: UnsafeRawBufferPointer?
    }

    let headers: [[Header]]
    let timestamps: [Int64?]
    private let allocations: [UnsafeMutableRawPointer]

    init(headers: [[Header]], timestamps: [Int64?], allocations: [UnsafeMutableRawPointer]) {
        self.headers = headers
        self.timestamps = timestamps
        self.allocations = allocations
    }

    deinit {
        for allocation in allocations { allocation.deallocate() }
    }
}

extension KafkaMessage {
    /// A record made in memory rather than fetched from a broker, for tests and fuzzing: everything a consumed
    /// record offers (value and key in place, headers, timestamp) reads the same way, with no client involved.
    /// - Parameters:
    ///   - topic: The topic it claims to come from.
    ///   - partition: The partition.
    ///   - offset: The offset.
    ///   - key: The key bytes, or nil for an unkeyed record.
    ///   - value: The value bytes, or nil for a tombstone.
    ///   - headers: The headers in order; a name is cut at its first NUL, as librdkafka's C-string names are.
    ///   - timestampMilliseconds: The record timestamp, or nil for none.
    /// - Returns: The record.
    package static func inMemory(
        topic: String,
        partition: Int32 = 0,
        offset: Int64 = 0,
        key: [UInt8]? = nil,
        value: [UInt8]?,
        headers: [KafkaHeader] = [],
        timestampMilliseconds: Int64? = nil
    ) -> KafkaMessage {
        var size = MemoryLayout<rd_kafka_message_t>.stride + (key?.count ?? 0) + (value?.count ?? 0)
        for header in headers { size += header.name.utf8.count + (header.value?.count ?? 0) }
        let block = UnsafeMutableRawPointer.allocate(
            byteCount: max(size, 1), alignment: MemoryLayout<rd_kafka_message_t>.alignment
        )
        var cursor = MemoryLayout<rd_kafka_message_t>.stride
        func place(_ bytes: [UInt8]) -> UnsafeMutableRawPointer {
            let start = block + cursor
            bytes.withUnsafeBytes { source in
                if let base = source.baseAddress { start.copyMemory(from: base, byteCount: source.count) }
            }
            cursor += bytes.count
            return start
        }
        let keyPointer = key.map(place)
        let valuePointer = value.map(place)
        let placedHeaders = headers.map { header in
            let name = Array(header.name.utf8.prefix { $0 != 0 })
            let namePointer = place(name).assumingMemoryBound(to: UInt8.self)
            return InMemoryRecords.Header(
                name: UnsafeBufferPointer(start: namePointer, count: name.count),
                value: header.value.map { UnsafeRawBufferPointer(start: place($0), count: $0.count) }
            )
        }
        let record = block.bindMemory(to: rd_kafka_message_t.self, capacity: 1)
        record.initialize(
            to: rd_kafka_message_t(
                err: RD_KAFKA_RESP_ERR_NO_ERROR, rkt: nil, partition: partition, payload: valuePointer,
                len: value?.count ?? 0, key: keyPointer, key_len: key?.count ?? 0, offset: offset, _private: nil
            )
        )
        let records = InMemoryRecords(
            headers: [placedHeaders], timestamps: [timestampMilliseconds], allocations: [block]
        )
        let batch = MessageBatch(
            client: nil, pointers: [record], topicIndices: [0], topicNames: [topic], epoch: 0, headersParsed: true,
            recycler: nil, inMemory: records
        )
        return KafkaMessage(batch: batch, index: 0)
    }
}
