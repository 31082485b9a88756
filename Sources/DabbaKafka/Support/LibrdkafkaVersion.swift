internal import CRDKafka

/// What differs between the librdkafka versions Dabba runs on.
enum LibrdkafkaVersion {
    /// The linked library's version, `0xMMmmrryy` (major, minor, revision, pre-release).
    static let current = Int(rd_kafka_version())

    /// The `timeout_ms` to pass to `rd_kafka_seek_partitions` for a wait of `milliseconds`.
    ///
    /// Before 2.1.0 the library read the argument as microseconds (librdkafka #4230): a 10 s timeout was 10 ms, and a
    /// seek the broker thread did not serve within 10 ms (an ordinary delay on a loaded machine) failed with
    /// `_TIMED_OUT` although it went on to happen.
    static func seekPartitionsTimeout(milliseconds: Int32) -> Int32 {
        current < 0x0201_0000 ? Int32(clamping: Int64(milliseconds) * 1000) : milliseconds
    }
}
