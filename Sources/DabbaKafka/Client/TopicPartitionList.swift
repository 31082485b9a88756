internal import CRDKafka

/// Builds and reads `rd_kafka_topic_partition_list_t`, always destroying what it creates.
enum TopicPartitionList {
    /// Creates a C list from offsets, runs `body` with it, and destroys it.
    static func with<Result>(
        _ offsets: [TopicPartitionOffset],
        _ body: (UnsafeMutablePointer<rd_kafka_topic_partition_list_t>) throws -> Result
    ) rethrows -> Result {
        // Never NULL: librdkafka aborts on allocation failure.
        let list: UnsafeMutablePointer<rd_kafka_topic_partition_list_t> =
            rd_kafka_topic_partition_list_new(Int32(offsets.count))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        for entry in offsets {
            let element = rd_kafka_topic_partition_list_add(list, entry.topic, entry.partition)
            element?.pointee.offset = entry.offset
        }
        return try body(list)
    }

    /// Reads a C list into Swift values.
    static func read(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?) -> [TopicPartitionOffset] {
        guard let list, let elements = list.pointee.elems else { return [] }
        return (0..<Int(list.pointee.cnt)).map { index in
            let element = elements[index]
            return TopicPartitionOffset(
                topic: element.topic.map { String(cString: $0) } ?? "",
                partition: element.partition,
                offset: element.offset
            )
        }
    }

    /// The first per-partition error in a list, if any.
    static func firstError(_ list: UnsafePointer<rd_kafka_topic_partition_list_t>?, context: String) -> KafkaError? {
        guard let list, let elements = list.pointee.elems else { return nil }
        for index in 0..<Int(list.pointee.cnt) where elements[index].err != RD_KAFKA_RESP_ERR_NO_ERROR {
            let element = elements[index]
            return KafkaError(
                responseCode: element.err,
                context: context,
                topic: element.topic.map { String(cString: $0) },
                partition: element.partition
            )
        }
        return nil
    }
}
