/// The Java client's key partitioner: `toPositive(murmur2(key)) % partitionCount`.
///
/// librdkafka's `murmur2_random` partitioner (Dabba's default) computes the same, so Java, Go, Python and Dabba
/// services agree on which partition a key lands on. Use this to predict placement (for tests, for routing checks,
/// or to pre-compute a key's partition).
public enum Murmur2Partitioner {
    /// Kafka's murmur2 hash of the bytes, as the Java client's `Utils.murmur2` returns it (a signed 32-bit value).
    /// - Parameter bytes: The key bytes.
    /// - Returns: The hash.
    public static func hash<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Int32 {
        let seed: UInt32 = 0x9747_b28c
        let m: UInt32 = 0x5bd1_e995
        let r: UInt32 = 24
        let data = Array(bytes)
        let length = data.count
        var h = seed ^ UInt32(truncatingIfNeeded: length)
        var index = 0
        while index + 4 <= length {
            var k = UInt32(data[index]) | UInt32(data[index + 1]) << 8 | UInt32(data[index + 2]) << 16
                | UInt32(data[index + 3]) << 24
            k &*= m
            k ^= k >> r
            k &*= m
            h &*= m
            h ^= k
            index += 4
        }
        let remaining = length - index
        if remaining == 3 { h ^= UInt32(data[index + 2]) << 16 }
        if remaining >= 2 { h ^= UInt32(data[index + 1]) << 8 }
        if remaining >= 1 {
            h ^= UInt32(data[index])
            h &*= m
        }
        h ^= h >> 13
        h &*= m
        h ^= h >> 15
        return Int32(bitPattern: h)
    }

    /// The partition the Java client (and Dabba's default partitioner) chooses for a key.
    /// - Parameters:
    ///   - key: The key bytes.
    ///   - partitionCount: The topic's partition count (must be positive).
    /// - Returns: A partition in `0..<partitionCount`.
    public static func partition<Bytes: Collection<UInt8>>(forKey key: Bytes, partitionCount: Int32) -> Int32 {
        precondition(partitionCount > 0, "a topic has at least one partition")
        return (hash(key) & 0x7fff_ffff) % partitionCount
    }

    /// The partition for a UTF-8 string key.
    /// - Parameters:
    ///   - key: The key.
    ///   - partitionCount: The topic's partition count (must be positive).
    /// - Returns: A partition in `0..<partitionCount`.
    public static func partition(forKey key: String, partitionCount: Int32) -> Int32 {
        partition(forKey: Array(key.utf8), partitionCount: partitionCount)
    }
}
