import DabbaEvents
import Foundation

extension FuzzTarget {
    /// JSON bytes decoded into payload types by `JSONEventCodec` (its fast paths, then Foundation) and by
    /// Foundation's `JSONDecoder` alone: the same value, or both fail. (Not necessarily with the same message: which
    /// member of an object Foundation complains about first follows a dictionary's order, which varies.)
    public static let fastJSON = FuzzTarget(
        name: "fast-json",
        summary:
            "JSON bytes: JSONEventCodec's fast decoders against Foundation's JSONDecoder (same value or both fail)",
        run: FastJSONTarget.run,
        generate: FastJSONTarget.generate,
        tokens: JSONGenerator.tokens
    )
}

enum FastJSONTarget {
    /// Foundation's decoder configured as the codec's (RFC 3339 dates).
    static var foundation: JSONDecoder { JSONEventCodec.decoder }

    static func run(_ input: [UInt8]) throws {
        let data = Data(input)
        try agree(FuzzOrderPlaced.self, data)
        try agree(FuzzPing.self, data)
        try agree([FuzzPing.Hop].self, data)
        try agree([FuzzOrderPlaced.Line].self, data)
        try agree([Int].self, data)
        try agree([String: Double].self, data)
        try agree([String?].self, data)
        try agree([Date?].self, data)
        try agree(String.self, data)
        try agree(Int64.self, data)
        try agree(UInt64.self, data)
        try agree(Int32.self, data)
        try agree(Bool.self, data)
        try agree(Double.self, data)
        try agree([[Int]].self, data)
        try agree(FuzzTree.self, data)
        try agree(FuzzThread.self, data)
    }

    /// Decodes with the codec and with Foundation and compares.
    static func agree<T: Decodable & Equatable>(_ type: T.Type, _ data: Data) throws {
        let codec = Result { try JSONEventCodec().decode(type, from: data) }
        let reference = Result { try foundation.decode(type, from: data) }
        switch (codec, reference) {
        case (.success(let mine), .success(let theirs)):
            try check(mine == theirs, "\(T.self): codec decoded \(mine), Foundation \(theirs)")
        case (.failure, .failure):
            break
        case (.success(let mine), .failure(let theirs)):
            throw FuzzFailure("\(T.self): codec decoded \(mine), Foundation failed: \(theirs)")
        case (.failure(let mine), .success(let theirs)):
            throw FuzzFailure("\(T.self): codec failed (\(mine)), Foundation decoded \(theirs)")
        }
    }

    static func generate(_ random: inout FuzzRandom) -> [UInt8] {
        let text: String
        switch random.below(7) {
        case 0, 1: text = JSONGenerator.orderPlaced(&random)
        case 2, 3: text = JSONGenerator.ping(&random)
        case 4:
            text = "[" + (0..<random.below(4)).map { _ in JSONGenerator.integer(&random) }.joined(separator: ",") + "]"
        case 5: text = tree(&random, depth: 4)
        default: text = JSONGenerator.value(&random, depth: 3)
        }
        return Mutation.mutate(Array(JSONGenerator.framed(text, &random).utf8), tokens: JSONGenerator.tokens, &random)
    }

    /// A ``FuzzTree`` or ``FuzzThread`` shape (both at once: `text`, `label`, `children` and `replies`).
    static func tree(_ random: inout FuzzRandom, depth: Int) -> String {
        let children = (0..<(depth > 0 ? random.below(3) : 0)).map { _ in tree(&random, depth: depth - 1) }
        let list = "[" + children.joined(separator: ",") + "]"
        return JSONGenerator.object(
            [
                ("text", JSONGenerator.string(&random)), ("label", JSONGenerator.string(&random)), ("children", list),
                ("replies", list),
            ],
            &random
        )
    }
}
