import Foundation
import Testing

@testable import DabbaEvents

/// The codec's fast decoding path must agree with Foundation's `JSONDecoder` on every input: same value when both
/// succeed, and the same failure (the codec falls back to Foundation for anything outside the fast subset).
@Suite("JSON codec: the fast decoding path agrees with Foundation")
struct FastJSONDecoderTests {
    enum Status: String, Codable, Equatable { case placed, delivered }
    enum Channel: Codable, Equatable { case sms(number: String), push(device: String, badge: Int) }
    struct Line: Codable, Equatable {
        var sku: String
        var quantity: Int
        var priceMinor: Int64
    }
    struct Order: Codable, Equatable {
        var id: String
        var count: Int
        var small: Int32
        var unsigned: UInt
        var paid: Bool
        var total: Double
        var placedAt: Date
        var note: String?
        var coupon: Int?
        var status: Status
        var lines: [Line]
        var tags: [String]
        var scores: [String: Int]
        var channel: Channel
        var matrix: [[Int]]
    }

    static let reference: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an RFC 3339 timestamp")
            }
            return date
        }
        return decoder
    }()

    static let base = #"""
        {"id":"ord_1","count":3,"small":-7,"unsigned":42,"paid":true,"total":12.5,"placedAt":"2026-11-21T08:43:10.123Z",
         "note":null,"status":"placed","lines":[{"sku":"dosa","quantity":2,"priceMinor":12000},{"sku":"chai","quantity":1,"priceMinor":2500}],
         "tags":["veg","spicy"],"scores":{"a":1,"b":-2},"channel":{"push":{"device":"d1","badge":3}},"matrix":[[1,2],[],[3]]}
        """#

    /// Decodes with both and checks they agree; returns whether the fast path alone could decode it.
    @discardableResult
    static func agree<T: Decodable & Equatable>(_ type: T.Type, _ json: String, sourceLocation: SourceLocation = #_sourceLocation) -> Bool {
        let data = Data(json.utf8)
        let codec = Result { try JSONEventCodec().decode(type, from: data) }
        let foundation = Result { try reference.decode(type, from: data) }
        switch (codec, foundation) {
        case (.success(let mine), .success(let theirs)):
            #expect(mine == theirs, "\(json)", sourceLocation: sourceLocation)
        case (.failure(let mine), .failure(let theirs)):
            #expect(String(describing: mine) == String(describing: theirs), "\(json)", sourceLocation: sourceLocation)
        default:
            Issue.record("codec \(codec) but Foundation \(foundation) for \(json)", sourceLocation: sourceLocation)
        }
        let fast = data.withUnsafeBytes { raw in
            try? FastJSONDecoder(bytes: raw.assumingMemoryBound(to: UInt8.self)).decode(type)
        }
        return fast != nil
    }

    @Test("the common shape is read by the fast path, with the same value as Foundation")
    func commonShape() {
        #expect(Self.agree(Order.self, Self.base))
        #expect(Self.agree(Order.self, Self.base.replacingOccurrences(of: ",", with: " ,\n\t ")))
        #expect(Self.agree(Order.self, Self.base.replacingOccurrences(of: #""note":null"#, with: #""note":"ring twice","coupon":5"#)))
        #expect(Self.agree(Order.self, Self.base.replacingOccurrences(of: #""total":12.5"#, with: #""total":-1.25e3"#)))
        #expect(Self.agree(Order.self, Self.base.replacingOccurrences(of: "ord_1", with: "ऑर्डर-₹-🍛")))
        #expect(Self.agree([Int].self, "[1, 2, 3]"))
        #expect(Self.agree(String.self, #""top-level""#))
        #expect(Self.agree(Int?.self, "null"))
    }

    /// Escapes, exponents where integers are expected, big numbers, duplicate keys; wrong types, missing keys, bad
    /// values and invalid JSON.
    static let outsideTheSubset: [String] = {
        func replacing(_ old: String, _ new: String) -> String { base.replacingOccurrences(of: old, with: new) }
        var inputs: [String] = []
        inputs.append(replacing("ord_1", #"ord\"1\u00e9"#))
        inputs.append(replacing(#""count":3"#, #""count":3.0"#))
        inputs.append(replacing(#""count":3"#, #""count":3e0"#))
        inputs.append(replacing(#""small":-7"#, #""small":2147483648"#))
        inputs.append(replacing(#""unsigned":42"#, #""unsigned":-1"#))
        inputs.append(replacing(#""count":3"#, #""count":3,"count":4"#))
        inputs.append(replacing(#""total":12.5"#, #""total":1e999"#))
        inputs.append(replacing(#""count":3"#, #""count":"3""#))
        inputs.append(replacing(#""paid":true,"#, ""))
        inputs.append(replacing(#""status":"placed""#, #""status":"lost""#))
        inputs.append(replacing("2026-11-21T08:43:10.123Z", "yesterday"))
        inputs.append(replacing(#""count":3"#, #""count":03"#))
        inputs.append(replacing(#""tags":["veg","spicy"]"#, #""tags":["veg",]"#))
        inputs.append(base + " trailing")
        inputs.append(String(base.dropLast()))
        inputs.append(replacing(#""channel":{"push":{"device":"d1","badge":3}}"#, #""channel":{"fax":{}}"#))
        inputs.append("[]")
        inputs.append("")
        return inputs
    }()

    @Test("anything outside the fast subset falls back to Foundation, with the same outcome", arguments: outsideTheSubset)
    func fallback(json: String) {
        Self.agree(Order.self, json)
    }

    @Test("random orders survive encode and decode identically on both paths")
    func randomRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        let words = ["dosa", "chai", "idli", "vada", "x", "", "ünïcödé", "tab\there", "quote\"d", "back\\slash", "/slash/"]
        for _ in 0..<300 {
            let lines = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                Line(sku: words.randomElement(using: &generator) ?? "", quantity: Int.random(in: -5...500, using: &generator),
                     priceMinor: Int64.random(in: Int64.min...Int64.max, using: &generator))
            }
            let order = Order(
                id: words.randomElement(using: &generator) ?? "", count: Int.random(in: Int.min...Int.max, using: &generator),
                small: Int32.random(in: Int32.min...Int32.max, using: &generator), unsigned: UInt.random(in: 0...UInt.max, using: &generator),
                paid: Bool.random(using: &generator), total: Double.random(in: -1e12...1e12, using: &generator),
                placedAt: Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_000_000_000_000, using: &generator)) / 1000),
                note: Bool.random(using: &generator) ? nil : words.randomElement(using: &generator),
                coupon: Bool.random(using: &generator) ? nil : Int.random(in: 0...99, using: &generator),
                status: Bool.random(using: &generator) ? .placed : .delivered, lines: lines,
                tags: words.shuffled(using: &generator).prefix(3).map { $0 },
                scores: Dictionary(uniqueKeysWithValues: words.prefix(3).map { ($0, Int.random(in: -9...9, using: &generator)) }),
                channel: Bool.random(using: &generator) ? .sms(number: "+91 98") : .push(device: "d", badge: 1),
                matrix: [[1], [], [Int.random(in: 0...9, using: &generator)]]
            )
            let json = String(decoding: try JSONEventCodec().encode(order), as: UTF8.self)
            Self.agree(Order.self, json)
            let decoded = try JSONEventCodec().decode(Order.self, from: Data(json.utf8))
            #expect(decoded.id == order.id && decoded.lines == order.lines && decoded.count == order.count)
        }
    }
}
