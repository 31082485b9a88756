import Foundation
import Synchronization

/// Event ids (`ce_id`) as Dabba generates them: RFC 9562 UUID version 7 in lowercase text
/// (`0193a5c2-7f1e-7a3b-9c4d-5e6f70812345`).
///
/// Version 7 puts the Unix time in milliseconds first, so ids sort roughly by creation time (handy in inbox tables
/// and logs). The 74 other bits come from a SplitMix64 sequence seeded once per process from the system's random
/// source: distinct within a process by construction, and across processes with overwhelming probability. This is
/// much cheaper per event than Foundation's `UUID()`, which reads the kernel's random source on every call.
public enum EventID {
    private static let sequence = Atomic<UInt64>(0)
    private static let seed: UInt64 = {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }()

    /// A new version 7 UUID in lowercase text.
    /// - Returns: The 36-character id.
    public static func make() -> String {
        let milliseconds = UInt64(max(0, Date().timeIntervalSince1970 * 1000))
        let step = sequence.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        let random = mix(step &+ seed)
        let extra = mix(random ^ 0xD1B5_4A32_D192_ED03)
        // Layout: 48-bit time, version 7, 12 random bits, variant 0b10, 62 random bits.
        let high = (milliseconds << 16) | 0x7000 | (random & 0x0FFF)
        let low = (extra & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return format(high: high, low: low)
    }

    /// The namespace of Dabba's name-based ids (a fixed random UUID).
    static let namespace: [UInt8] = [
        0xE4, 0x51, 0xA5, 0x22, 0xB3, 0xB6, 0x47, 0xEF, 0xA7, 0x86, 0x6D, 0x6B, 0x09, 0x37, 0x8D, 0x17,
    ]

    /// A name-based id (RFC 9562 UUID version 5, SHA-1) derived from `parts`: the same parts always give the same
    /// id, so an event emitted again when its cause is processed again carries the id it had the first time, and
    /// every downstream inbox skips the repeat.
    ///
    /// The parts are joined with a separator that cannot occur inside them unnoticed (each part is prefixed with its
    /// UTF-8 length), so `["a", "bc"]` and `["ab", "c"]` give different ids.
    /// - Parameter parts: What identifies the event (for an emitted event: the consumer group, the causing event's
    ///   id, the emitted type and the emission's ordinal or discriminator).
    /// - Returns: The 36-character id in lowercase text.
    public static func derived(from parts: [String]) -> String {
        let name = parts.flatMap { part in Array("\(part.utf8.count):".utf8) + Array(part.utf8) }
        return derived(namespace: namespace, name: name)
    }

    /// A version 5 UUID of `name` in `namespace` (RFC 9562 section 5.5).
    static func derived(namespace: [UInt8], name: [UInt8]) -> String {
        var hash = SHA1()
        hash.update(namespace)
        hash.update(name)
        let digest = hash.finish()
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<8 { high = high << 8 | UInt64(digest[index]) }
        for index in 8..<16 { low = low << 8 | UInt64(digest[index]) }
        high = (high & ~0xF000) | 0x5000
        low = (low & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return format(high: high, low: low)
    }

    /// SplitMix64's output function: a bijection, so distinct inputs give distinct outputs.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    private static func format(high: UInt64, low: UInt64) -> String {
        let digits: StaticString = "0123456789abcdef"
        return String(unsafeUninitializedCapacity: 36) { buffer in
            digits.withUTF8Buffer { hex in
                var position = 0
                func put(_ value: UInt64, nibbles: Int) {
                    for nibble in stride(from: nibbles - 1, through: 0, by: -1) {
                        buffer[position] = hex[Int((value >> UInt64(nibble * 4)) & 0xF)]
                        position += 1
                    }
                }
                func dash() {
                    buffer[position] = UInt8(ascii: "-")
                    position += 1
                }
                put(high >> 32, nibbles: 8)
                dash()
                put((high >> 16) & 0xFFFF, nibbles: 4)
                dash()
                put(high & 0xFFFF, nibbles: 4)
                dash()
                put(low >> 48, nibbles: 4)
                dash()
                put(low & 0xFFFF_FFFF_FFFF, nibbles: 12)
            }
            return 36
        }
    }
}
