import DabbaEventMacros
import Foundation
import Testing

/// `@FastJSON` types decode to exactly what Foundation's `JSONDecoder` gives for the same bytes: the generated
/// reader where it reads the payload itself, the `Codable` path for everything else.
@Suite("@FastJSON decoding agrees with Foundation")
struct FastJSONDecodingTests {
    @FastJSON
    enum Status: String, Codable, Equatable { case placed, delivered }

    @FastJSON
    enum Priority: Int, Codable, Equatable { case low = 1, high = 2 }

    /// Not @FastJSON: nested Codable types still decode (through Codable).
    enum Channel: Codable, Equatable { case sms(number: String), push(device: String, badge: Int) }

    @FastJSON
    struct Line: Codable, Equatable {
        var sku: String
        var quantity: Int
        var priceMinor: Int64
    }

    @FastJSON
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
        var priority: Priority
        var lines: [Line]
        var tags: [String]
        var scores: [String: Int]
        var channel: Channel
        var matrix: [[Int]]
        var firstLine: Line?
    }

    @FastJSON
    struct Renamed: Codable, Equatable {
        var orderID: String
        var total = 0
        var local = "not decoded"
        let version = 3
        enum CodingKeys: String, CodingKey {
            case orderID = "order_id"
            case total
        }
    }

    @FastJSON
    struct Defaults: Codable, Equatable {
        var count = 1
        let fixed = "constant"
        var label: String? = "preset"
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
         "note":null,"status":"placed","priority":2,"lines":[{"sku":"dosa","quantity":2,"priceMinor":12000},{"sku":"chai","quantity":1,"priceMinor":2500}],
         "tags":["veg","spicy"],"scores":{"a":1,"b":-2},"channel":{"push":{"device":"d1","badge":3}},"matrix":[[1,2],[],[3]],
         "firstLine":{"sku":"vada","quantity":1,"priceMinor":900}}
        """#

    /// Decodes with the codec and with Foundation and checks they agree; returns whether the generated reader alone
    /// decoded it.
    @discardableResult
    static func agree<T: FastJSONDecodable & Equatable>(
        _ type: T.Type, _ json: String, sourceLocation: SourceLocation = #_sourceLocation
    ) -> Bool {
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
        let fast = data.withUnsafeBytes { try? FastJSONReader.decode(type, from: $0) }
        if let fast, case .success(let theirs) = foundation {
            #expect(fast == theirs, "the generated reader alone: \(json)", sourceLocation: sourceLocation)
        }
        return fast != nil
    }

    @Test("the common shape is read by the generated reader, with the same value as Foundation")
    func commonShape() {
        #expect(Self.agree(Order.self, Self.base))
        #expect(Self.agree(Order.self, Self.base.replacingOccurrences(of: ",", with: " ,\n\t ")))
        #expect(Self.agree(Order.self, Self.base.replacingOccurrences(of: #""note":null"#, with: #""note":"ring twice","coupon":5"#)))
        #expect(Self.agree(Order.self, Self.base.replacingOccurrences(of: #""total":12.5"#, with: #""total":-1.25e3"#)))
        #expect(Self.agree(Order.self, Self.base.replacingOccurrences(of: "ord_1", with: "ऑर्डर-₹-🍛")))
        #expect(Self.agree(Order.self, Self.base.replacingOccurrences(of: #","firstLine":{"sku":"vada","quantity":1,"priceMinor":900}"#, with: "")))
        #expect(Self.agree(Order.self, Self.base.replacingOccurrences(of: #""id":"ord_1","#, with: #""id":"ord_1","unknown":{"deep":[1,{"x":null}]},"#)))
    }

    @Test("CodingKeys, defaults and let constants are honoured as the synthesized conformance does")
    func codingKeysAndDefaults() {
        #expect(Self.agree(Renamed.self, #"{"order_id":"o-1","total":12}"#))
        #expect(Self.agree(Renamed.self, #"{"order_id":"o-1","total":12,"local":"ignored","version":9}"#))
        // The property name is not the key.
        Self.agree(Renamed.self, #"{"orderID":"o-1","total":12}"#)
        // A var with an initial value is still required; a let with one is never read; an optional may be absent.
        Self.agree(Defaults.self, #"{"label":"x"}"#)
        #expect(Self.agree(Defaults.self, #"{"count":4,"fixed":"other"}"#))
        #expect(Self.agree(Defaults.self, #"{"count":4,"label":null}"#))
    }

    /// Escapes, exponents where integers are expected, big numbers, duplicate keys; wrong types, missing keys, bad
    /// values and invalid JSON: the generated reader gives up and Foundation decides.
    static let outsideTheSubset: [String] = {
        func replacing(_ old: String, _ new: String) -> String { base.replacingOccurrences(of: old, with: new) }
        return [
            replacing("ord_1", #"ord\"1\u00e9"#),
            replacing(#""count":3"#, #""count":3.0"#),
            replacing(#""count":3"#, #""count":3e0"#),
            replacing(#""small":-7"#, #""small":2147483648"#),
            replacing(#""unsigned":42"#, #""unsigned":-1"#),
            replacing(#""count":3"#, #""count":3,"count":4"#),
            replacing(#""note":null"#, #""note":null,"note":"again""#),
            replacing(#""total":12.5"#, #""total":1e999"#),
            replacing(#""count":3"#, #""count":"3""#),
            replacing(#""paid":true,"#, ""),
            replacing(#""status":"placed""#, #""status":"lost""#),
            replacing(#""priority":2"#, #""priority":7"#),
            replacing("2026-11-21T08:43:10.123Z", "yesterday"),
            replacing(#""count":3"#, #""count":03"#),
            replacing(#""tags":["veg","spicy"]"#, #""tags":["veg",]"#),
            replacing(#""lines":["#, #""lines":[{"sku":"x"},"#),
            base + " trailing",
            String(base.dropLast()),
            replacing(#""channel":{"push":{"device":"d1","badge":3}}"#, #""channel":{"fax":{}}"#),
            "[]", "", "null", "{}",
        ]
    }()

    @Test("anything outside the subset falls back to Foundation, with the same outcome", arguments: outsideTheSubset)
    func fallback(json: String) {
        Self.agree(Order.self, json)
    }

    @Test("random orders survive encode and decode identically on both paths")
    func randomRoundTrips() throws {
        var generator = SystemRandomNumberGenerator()
        let words = ["dosa", "chai", "idli", "vada", "x", "", "ünïcödé", "tab\there", "quote\"d", "back\\slash", "/slash/"]
        for _ in 0..<300 {
            let lines = (0..<Int.random(in: 0...4, using: &generator)).map { _ in
                Line(
                    sku: words.randomElement(using: &generator) ?? "", quantity: Int.random(in: -5...500, using: &generator),
                    priceMinor: Int64.random(in: Int64.min...Int64.max, using: &generator)
                )
            }
            let order = Order(
                id: words.randomElement(using: &generator) ?? "", count: Int.random(in: Int.min...Int.max, using: &generator),
                small: Int32.random(in: Int32.min...Int32.max, using: &generator),
                unsigned: UInt.random(in: 0...UInt.max, using: &generator), paid: Bool.random(using: &generator),
                total: Double.random(in: -1e12...1e12, using: &generator),
                placedAt: Date(timeIntervalSince1970: Double(Int64.random(in: 0...4_000_000_000_000, using: &generator)) / 1000),
                note: Bool.random(using: &generator) ? nil : words.randomElement(using: &generator),
                coupon: Bool.random(using: &generator) ? nil : Int.random(in: 0...99, using: &generator),
                status: Bool.random(using: &generator) ? .placed : .delivered,
                priority: Bool.random(using: &generator) ? .low : .high, lines: lines,
                tags: words.shuffled(using: &generator).prefix(3).map { $0 },
                scores: Dictionary(uniqueKeysWithValues: words.prefix(3).map { ($0, Int.random(in: -9...9, using: &generator)) }),
                channel: Bool.random(using: &generator) ? .sms(number: "+91 98") : .push(device: "d", badge: 1),
                matrix: [[1], [], [Int.random(in: 0...9, using: &generator)]],
                firstLine: lines.first
            )
            let json = String(decoding: try JSONEventCodec().encode(order), as: UTF8.self)
            Self.agree(Order.self, json)
            // Dates and decimals round-trip through their JSON text; everything else exactly.
            let decoded = try JSONEventCodec().decode(Order.self, from: Data(json.utf8))
            #expect(decoded.id == order.id && decoded.lines == order.lines && decoded.count == order.count)
            #expect(decoded.scores == order.scores && decoded.channel == order.channel && decoded.note == order.note)
        }
    }
}
