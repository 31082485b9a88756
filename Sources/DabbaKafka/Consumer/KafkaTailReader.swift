internal import CRDKafka
import Foundation
import Logging

/// Reads what partitions hold from given offsets to their current end, without joining a consumer group: for
/// checks that must see what is already written. The outbox relay uses it after a restart to find the records it
/// published before it could delete them from its outbox.
///
/// Owns one consumer handle that never subscribes (no group membership, no commits); use it from one task at a
/// time. Every call that waits on the brokers runs off Swift's cooperative pool.
public final class KafkaTailReader: Sendable {
    private let client: RDKafkaClient

    /// Creates the reader. Connection happens in the background; the first call waits for it.
    /// - Parameters:
    ///   - configuration: Connection settings; ``ClientConfiguration/properties`` apply too.
    ///   - logger: Where librdkafka's log lines go.
    /// - Throws: ``KafkaError`` with code `invalidConfiguration` naming a bad property, or `clientCreation`.
    public init(configuration: ClientConfiguration, logger: Logger = Logger(label: "dabba.tail-reader")) throws {
        var properties = configuration.librdkafkaProperties
        properties += [
            // Needed by the consumer API even without a subscription; nothing is ever committed under it.
            ("group.id", "dabba-tail-reader-\(UUID().uuidString)"),
            ("enable.auto.commit", "false"),
            ("enable.auto.offset.store", "false"),
            ("enable.partition.eof", "true"),
            ("allow.auto.create.topics", "false"),
        ]
        properties += configuration.properties.sorted { $0.key < $1.key }
        client = try RDKafkaClient.make(
            kind: .consumer, properties: properties, callbacks: ClientCallbacks(logger: logger),
            statistics: configuration.statistics
        )
    }

    deinit {
        let client = self.client
        Blocking.detach { _ = rd_kafka_consumer_close(client.pointer) }
    }

    /// The current end (high watermark) of every partition of a topic.
    /// - Parameters:
    ///   - topic: The topic.
    ///   - timeout: How long to wait for the brokers, for the whole call (every partition's query shares it).
    /// - Returns: One entry per partition whose offset is the next offset to be written; empty if the topic does not
    ///   exist.
    /// - Throws: ``KafkaError`` if the brokers cannot be asked, or do not answer within `timeout`.
    public func partitionEnds(topic: String, timeout: Duration = .seconds(30)) async throws -> [TopicPartitionOffset] {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        let count = try await client.topicPartitionCount(topic: topic, timeout: timeout, servesCallbacks: false)
        guard let count else { return [] }
        let client = self.client
        return try await Blocking.run {
            try (0..<count).map { partition in
                var low: Int64 = -1
                var high: Int64 = -1
                // What is left of the call's timeout (at least 1 ms: an exhausted one then times out at once).
                let milliseconds = Int32(clamping: max(1, (deadline - clock.now).milliseconds))
                let result = rd_kafka_query_watermark_offsets(
                    client.pointer, topic, partition, &low, &high, milliseconds
                )
                guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(
                        responseCode: result, context: "could not query the end of \(topic)[\(partition)]",
                        topic: topic, partition: partition
                    )
                }
                return TopicPartitionOffset(topic: topic, partition: partition, offset: high)
            }
        }
    }

    /// Reads the given partitions from the given offsets to their current end and returns every value of one header.
    /// - Parameters:
    ///   - header: The header name (e.g. `ce_id`).
    ///   - starts: Where to start reading, per partition.
    ///   - timeout: How long the whole read may take.
    /// - Returns: The header's values (UTF-8) of every record read.
    /// - Throws: ``KafkaError`` `timedOut` if the ends were not reached in time, or the error of a failed fetch.
    public func headerValues(
        named header: String, from starts: [TopicPartitionOffset], timeout: Duration = .seconds(60)
    ) async throws -> Set<String> {
        try await readToEnd(from: starts, timeout: timeout, into: Set<String>()) { values, message in
            var headers: OpaquePointer?
            guard rd_kafka_message_headers(message, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR, let headers else { return }
            var value: UnsafeRawPointer?
            var size = 0
            if rd_kafka_header_get_last(headers, header, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR, let value {
                let bytes = UnsafeRawBufferPointer(start: value, count: size)
                values.insert(String(decoding: bytes, as: UTF8.self))
            }
        }
    }

    /// Reads the given partitions from the given offsets to their current end and returns their records.
    /// - Parameters:
    ///   - starts: Where to start reading, per partition.
    ///   - timeout: How long the whole read may take.
    /// - Returns: The records read, in order per partition.
    /// - Throws: ``KafkaError`` `timedOut` if the ends were not reached in time, or the error of a failed fetch.
    public func records(from starts: [TopicPartitionOffset], timeout: Duration = .seconds(60)) async throws
        -> [FollowedRecord]
    {
        try await readToEnd(from: starts, timeout: timeout, into: [FollowedRecord]()) { records, message in
            let record = message.pointee
            records.append(
                FollowedRecord(
                    partition: record.partition, offset: record.offset,
                    key: record.key.map { Array(UnsafeRawBufferPointer(start: $0, count: record.key_len)) },
                    value: record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len)) }
                )
            )
        }
    }

    /// Reads the given partitions from the given offsets to their current end and returns whole records (key,
    /// value, headers and timestamp, copied out of librdkafka's buffers): for tools that show records.
    /// - Parameters:
    ///   - starts: Where to start reading, per partition.
    ///   - limitPerPartition: Stop reading a partition after this many records (nil: read to its end).
    ///   - timeout: How long the whole read may take.
    /// - Returns: The records read, in order per partition.
    /// - Throws: ``KafkaError`` `timedOut` if the ends were not reached in time, or the error of a failed fetch.
    public func messages(
        from starts: [TopicPartitionOffset], limitPerPartition: Int? = nil, timeout: Duration = .seconds(60)
    ) async throws -> [KafkaMessage] {
        try await readToEnd(from: starts, limit: limitPerPartition, timeout: timeout, into: [KafkaMessage]()) {
            messages, message in
            let record = message.pointee
            var headers: [KafkaHeader] = []
            var list: OpaquePointer?
            if rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list {
                var index = 0
                var name: UnsafePointer<CChar>?
                var value: UnsafeRawPointer?
                var size = 0
                while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
                    headers.append(
                        KafkaHeader(
                            name: name.map { String(cString: $0) } ?? "",
                            value: value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) }))
                    index += 1
                }
            }
            var kind = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
            let timestamp = rd_kafka_message_timestamp(message, &kind)
            messages.append(
                KafkaMessage.inMemory(
                    topic: RDKafkaClient.topicName(record.rkt), partition: record.partition, offset: record.offset,
                    key: record.key.map { Array(UnsafeRawBufferPointer(start: $0, count: record.key_len)) },
                    value: record.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: record.len)) },
                    headers: headers, timestampMilliseconds: kind == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp))
        }
    }

    /// Reads the partitions from the offsets to their current end, folding every record into a result.
    private func readToEnd<Result: Sendable>(
        from starts: [TopicPartitionOffset], limit: Int? = nil, timeout: Duration, into initial: Result,
        _ visit: @escaping @Sendable (inout Result, UnsafeMutablePointer<rd_kafka_message_t>) -> Void
    ) async throws -> Result {
        let client = self.client
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        return try await Blocking.run {
            let ends = try starts.map { start in
                var low: Int64 = -1
                var high: Int64 = -1
                let milliseconds = Int32(clamping: max(1, (deadline - clock.now).milliseconds))
                let result = rd_kafka_query_watermark_offsets(
                    client.pointer, start.topic, start.partition, &low, &high, milliseconds
                )
                guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(
                        responseCode: result, context: "could not query the end of \(start.topic)[\(start.partition)]",
                        topic: start.topic, partition: start.partition
                    )
                }
                return (start, max(start.offset, low), high)
            }
            // Only partitions with records at or after the start: librdkafka reports the end of the others only
            // once something arrives.
            let toRead = ends.filter { $0.1 < $0.2 }.map {
                TopicPartitionOffset(topic: $0.0.topic, partition: $0.0.partition, offset: $0.1)
            }
            var result = initial
            guard !toRead.isEmpty else { return result }
            var remaining = Dictionary(
                uniqueKeysWithValues: ends.filter { $0.1 < $0.2 }.map {
                    (TopicPartition(topic: $0.0.topic, partition: $0.0.partition), $0.2)
                }
            )
            let assigned = TopicPartitionList.with(toRead) { rd_kafka_assign(client.pointer, $0) }
            guard assigned == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(responseCode: assigned, context: "could not assign the partitions to read back")
            }
            defer { _ = rd_kafka_assign(client.pointer, nil) }
            var read: [TopicPartition: Int] = [:]
            while !remaining.isEmpty {
                guard clock.now < deadline else {
                    throw KafkaError(
                        .timedOut,
                        "reading back \(remaining.count) partitions did not reach their end within \(timeout)"
                    )
                }
                guard let message = rd_kafka_consumer_poll(client.pointer, 100) else { continue }
                defer { rd_kafka_message_destroy(message) }
                let record = message.pointee
                let partition = TopicPartition(topic: RDKafkaClient.topicName(record.rkt), partition: record.partition)
                if record.err == RD_KAFKA_RESP_ERR__PARTITION_EOF {
                    remaining[partition] = nil
                    continue
                }
                guard record.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
                    throw KafkaError(
                        responseCode: record.err, context: "could not read back \(partition)", topic: partition.topic,
                        partition: partition.partition
                    )
                }
                guard remaining[partition] != nil else { continue }
                visit(&result, message)
                read[partition, default: 0] += 1
                if let end = remaining[partition], record.offset + 1 >= end { remaining[partition] = nil }
                if let limit, read[partition, default: 0] >= limit { remaining[partition] = nil }
            }
            return result
        }
    }
}
