import DabbaEventMacros
import Foundation
import Testing

/// `@FastJSON` types encode to exactly the bytes Foundation's `JSONEncoder` writes with the codec's settings (sorted
/// keys, slashes unescaped, RFC 3339 dates): equal events keep encoding to equal bytes whichever path wrote them.
@Suite("@FastJSON encoding agrees with Foundation byte for byte")
struct FastJSONEncodingTests {
    typealias Status = FastJSONDecodingTests.Status
    typealias Priority = FastJSONDecodingTests.Priority
    typealias Line = FastJSONDecodingTests.Line
    typealias Order = FastJSONDecodingTests.Order
    typealias Renamed = FastJSONDecodingTests.Renamed
    typealias Defaults = FastJSONDecodingTests.Defaults

    /// Keys whose sorted order is not their declaration order, in every class of character Foundation sorts.
    @FastJSON
    struct Mixed: Codable, Equatable {
        var b: Int
        var B: Int
        var a10: Int
        var a9: Int
        var _x: Int
        var é: String
        var aa: Int8
        var a: UInt64
    }

    /// No stored properties at all.
    @FastJSON
    struct Empty: Codable, Equatable {}

    /// Optionals in every position: the writer leaves out nil members, wherever they fall among the sorted keys.
    @FastJSON
    struct Sparse: Codable, Equatable {
        var z: String?
        var m: Int?
        var a: Bool?
        var lines: [Line]?
    }

    /// Declares `Decodable` only: the macro writes no encoder, so it encodes through `Codable` (as the type allows).
    @FastJSON
    struct ReadOnly: Decodable, Equatable {
        var id: String
    }

    static let reference: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        return encoder
    }()

    func expectSameBytes<T: Encodable>(_ value: T, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let fast = try JSONEventCodec().encode(value)
        let foundation = Array(try Self.reference.encode(value))
        #expect(
            String(decoding: fast, as: UTF8.self) == String(decoding: foundation, as: UTF8.self),
            sourceLocation: sourceLocation
        )
        #expect(fast == foundation, sourceLocation: sourceLocation)
    }

    static func order(note: String? = "extra spicy", id: String = "ord_1") -> Order {
        Order(
            id: id, count: 3, small: -7, unsigned: 42, paid: true, total: 12.5,
            placedAt: Date(timeIntervalSince1970: 1_795_250_590.123), note: note, coupon: nil, status: .placed,
            priority: .high,
            lines: [Line(sku: "dosa", quantity: 2, priceMinor: 12_000), Line(sku: "chai", quantity: 1, priceMinor: -1)],
            tags: ["veg", "a/b", ""], scores: ["z": 1, "a": 2], channel: .push(device: "d-1", badge: 3),
            matrix: [[1, 2], [], [3]], firstLine: nil
        )
    }

    @Test("the generated writer is what the codec uses for @FastJSON types")
    func conformance() {
        #expect((Self.order() as Any) is any FastJSONEncodable)
        #expect((Mixed(b: 0, B: 0, a10: 0, a9: 0, _x: 0, é: "", aa: 0, a: 0) as Any) is any FastJSONEncodable)
        #expect(!((ReadOnly(id: "x") as Any) is any FastJSONEncodable))
    }

    @Test("every field type, nested @FastJSON and Codable types, dates, doubles, dictionaries")
    func fieldTypes() throws {
        try expectSameBytes(Self.order())
        try expectSameBytes(Self.order(note: nil))
        try expectSameBytes([Self.order(), Self.order(id: "ord_2")])
        try expectSameBytes(Status.delivered)
        try expectSameBytes(Priority.low)
        try expectSameBytes(Line(sku: "x", quantity: Int.min, priceMinor: Int64.max))
    }

    @Test("keys in Foundation's order, whatever the declaration order")
    func keyOrder() throws {
        try expectSameBytes(Mixed(b: 1, B: 2, a10: 3, a9: 4, _x: 5, é: "e", aa: -6, a: UInt64.max))
        try expectSameBytes(Renamed(orderID: "o-1", total: 7))
        try expectSameBytes(Defaults())
        try expectSameBytes(Defaults(count: 0, label: nil))
        try expectSameBytes(Empty())
    }

    @Test("nil optionals are left out wherever they fall")
    func optionals() throws {
        try expectSameBytes(Sparse(z: nil, m: nil, a: nil, lines: nil))
        try expectSameBytes(Sparse(z: "z", m: nil, a: nil, lines: nil))
        try expectSameBytes(Sparse(z: nil, m: 0, a: nil, lines: []))
        try expectSameBytes(Sparse(z: nil, m: nil, a: false, lines: nil))
        try expectSameBytes(Sparse(z: "z", m: -1, a: true, lines: [Line(sku: "s", quantity: 1, priceMinor: 0)]))
    }

    @Test("strings: plain ones in place, escapes and every other character exactly as Foundation writes them")
    func strings() throws {
        let samples = [
            "", "plain", "a/b", "quote \" inside", "back\\slash", "tab\tnew\nline\r", "\u{1}\u{1f}\u{7f}",
            "é ü ß", "日本語", "😀 emoji", "\u{2028}\u{2029}", "\u{0}",
        ]
        for sample in samples {
            try expectSameBytes(Self.order(note: sample, id: sample))
        }
    }

    @Test("what the writer cannot write (a non-finite double) fails with Foundation's error")
    func foundationErrors() {
        var order = Self.order()
        order.total = .nan
        #expect(throws: EncodingError.self) { try JSONEventCodec().encode(order) }
    }
}
