/// A seeded random number generator (SplitMix64): the same seed gives the same inputs on every machine, so the
/// seeded pass in the tests is deterministic.
public struct FuzzRandom: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator.
    /// - Parameter seed: The seed.
    public init(seed: UInt64) {
        state = seed
    }

    /// The next 64 random bits.
    /// - Returns: The bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// A number in `0..<bound` (0 when `bound` is 0).
    mutating func below(_ bound: Int) -> Int {
        bound <= 0 ? 0 : Int.random(in: 0..<bound, using: &self)
    }

    /// True with probability `1 / n`.
    mutating func oneIn(_ n: Int) -> Bool { below(n) == 0 }

    /// One of `choices`.
    mutating func pick<T>(_ choices: [T]) -> T { choices[below(choices.count)] }
}

/// The mutations the seeded pass applies to generated inputs: what libFuzzer does, in a small fixed form, plus
/// tokens each target finds interesting.
enum Mutation {
    /// Applies 0 to 3 random mutations: byte changes, insertions (random bytes or a token), deletions, repeated
    /// slices, truncation.
    static func mutate(_ input: [UInt8], tokens: [String], _ random: inout FuzzRandom) -> [UInt8] {
        var bytes = input
        for _ in 0..<random.below(4) {
            let position = random.below(bytes.count + 1)
            switch random.below(7) {
            case 0 where !bytes.isEmpty:
                bytes[min(position, bytes.count - 1)] = UInt8.random(in: 0...255, using: &random)
            case 1:
                let count = 1 + random.below(4)
                bytes.insert(
                    contentsOf: (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }, at: position)
            case 2 where !tokens.isEmpty:
                bytes.insert(contentsOf: Array(random.pick(tokens).utf8), at: position)
            case 3 where !bytes.isEmpty:
                let end = min(bytes.count, position + 1 + random.below(8))
                bytes.removeSubrange(min(position, end)..<end)
            case 4 where !bytes.isEmpty:
                let start = min(position, bytes.count - 1)
                let end = min(bytes.count, start + 1 + random.below(16))
                let slice = Array(bytes[start..<end])
                for _ in 0..<(1 + random.below(3)) { bytes.insert(contentsOf: slice, at: start) }
            case 5:
                bytes.removeSubrange(min(position, bytes.count)...)
            default:
                if !bytes.isEmpty { bytes[min(position, bytes.count - 1)] ^= UInt8(1) << UInt8(random.below(8)) }
            }
        }
        return bytes
    }
}
