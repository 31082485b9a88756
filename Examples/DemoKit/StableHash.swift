/// A stable hash of a string (FNV-1a, 64 bits), for decisions that must be the same in every process and run (a
/// fake bank's answer, a passenger's behaviour, a PNR): unlike `Hasher`, it is not seeded per process.
public func stableHash(_ text: String) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in text.utf8 {
        hash ^= UInt64(byte)
        hash = hash &* 0x100_0000_01b3
    }
    return hash
}
