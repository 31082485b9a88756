import DabbaEvents
import Foundation

/// A payload of the common shape, decoded through `Codable` (the codec's fast `Decoder`, then Foundation's).
struct FuzzOrderPlaced: Event, Equatable {
    static let eventType = "fuzz.order.placed"
    static let schemaVersion = 2

    enum Status: String, Codable, Equatable { case placed, delivered }
    enum Channel: Codable, Equatable {
        case sms(number: String)
        case push(device: String, badge: Int)
    }
    struct Line: Codable, Equatable {
        var sku: String
        var quantity: Int
        var priceMinor: Int64
    }

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
    var channel: Channel?
    var matrix: [[Int]]?

    var partitionKey: String? { id }
}

/// A payload that reads itself straight from the bytes (``FastJSONDecodable``), written as the `@FastJSON` macro
/// writes conformances (this library does not use the macro, whose plugin would bring swift-syntax into the
/// instrumented build).
struct FuzzPing: Event, FastJSONDecodable, Equatable {
    static let eventType = "fuzz.ping"

    struct Hop: Codable, Equatable, FastJSONDecodable {
        var node: String
        var latency: Double

        init(fastJSON reader: inout FastJSONReader) throws {
            var node: String?
            var latency: Double?
            var seen = FastJSONSeenKeys()
            try reader.beginObject()
            while let key = try reader.nextKey() {
                switch key {
                case "node":
                    try FastJSONReader.markSeen(&seen, 0)
                    node = try reader.decode(String.self)
                case "latency":
                    try FastJSONReader.markSeen(&seen, 1)
                    latency = try reader.decode(Double.self)
                default:
                    try reader.skipValue()
                }
            }
            self.node = try FastJSONReader.required(node)
            self.latency = try FastJSONReader.required(latency)
        }
    }

    var sequence: Int64
    var from: String
    var sentAt: Date?
    var hops: [Hop]
    var ttl: UInt64?
    var flags: [Bool]
    var extra: [String: String]?

    var partitionKey: String? { from }

    init(fastJSON reader: inout FastJSONReader) throws {
        var sequence: Int64?
        var from: String?
        var sentAt: Date??
        var hops: [Hop]?
        var ttl: UInt64??
        var flags: [Bool]?
        var extra: [String: String]??
        var seen = FastJSONSeenKeys()
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "sequence":
                try FastJSONReader.markSeen(&seen, 0)
                sequence = try reader.decode(Int64.self)
            case "from":
                try FastJSONReader.markSeen(&seen, 1)
                from = try reader.decode(String.self)
            case "sentAt":
                try FastJSONReader.markSeen(&seen, 2)
                sentAt = .some(try reader.decodeIfPresent(Date.self))
            case "hops":
                try FastJSONReader.markSeen(&seen, 3)
                hops = try reader.decode([Hop].self)
            case "ttl":
                try FastJSONReader.markSeen(&seen, 4)
                ttl = .some(try reader.decodeIfPresent(UInt64.self))
            case "flags":
                try FastJSONReader.markSeen(&seen, 5)
                flags = try reader.decode([Bool].self)
            case "extra":
                try FastJSONReader.markSeen(&seen, 6)
                extra = .some(try reader.decodeIfPresent([String: String].self))
            default:
                try reader.skipValue()
            }
        }
        self.sequence = try FastJSONReader.required(sequence)
        self.from = try FastJSONReader.required(from)
        self.sentAt = sentAt ?? nil
        self.hops = try FastJSONReader.required(hops)
        self.ttl = ttl ?? nil
        self.flags = try FastJSONReader.required(flags)
        self.extra = extra ?? nil
    }
}

/// A recursive payload decoded through `Codable`: its depth follows the input's.
struct FuzzTree: Codable, Equatable {
    var label: String?
    var children: [FuzzTree]
}

/// A recursive payload that reads itself straight from the bytes: its depth follows the input's.
struct FuzzThread: Codable, Equatable, FastJSONDecodable {
    var text: String
    var replies: [FuzzThread]

    init(fastJSON reader: inout FastJSONReader) throws {
        var text: String?
        var replies: [FuzzThread]?
        var seen = FastJSONSeenKeys()
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "text":
                try FastJSONReader.markSeen(&seen, 0)
                text = try reader.decode(String.self)
            case "replies":
                try FastJSONReader.markSeen(&seen, 1)
                replies = try reader.decode([FuzzThread].self)
            default:
                try reader.skipValue()
            }
        }
        self.text = try FastJSONReader.required(text)
        self.replies = try FastJSONReader.required(replies)
    }
}
