import DabbaEventMacrosPlugin
import SwiftSyntaxMacroExpansion
import SwiftSyntaxMacrosGenericTestSupport
import Testing

/// What `@FastJSON` writes, and what it refuses with a compile error.
@Suite("@FastJSON expansion")
struct FastJSONExpansionTests {
    static let macros: [String: MacroSpec] = ["FastJSON": MacroSpec(type: FastJSONMacro.self, conformances: ["FastJSONDecodable", "FastJSONEncodable"])]

    func expand(
        _ source: String, _ expanded: String, diagnostics: [DiagnosticSpec] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        assertMacroExpansion(source, expandedSource: expanded, diagnostics: diagnostics, macroSpecs: Self.macros) {
            failure in
            Issue.record(Comment(rawValue: failure.message), sourceLocation: sourceLocation)
        }
    }

    @Test("a struct reads every stored property under its name; optionals may be absent or null")
    func structFields() {
        expand(
            """
            @FastJSON
            public struct OrderPlaced: Event {
                static let eventType = "food.order.placed"
                var orderID: String
                let lines: [Line]
                var note: String?
                let kind = "order"
                var partitionKey: String? { orderID }
            }
            """,
            """
            public struct OrderPlaced: Event {
                static let eventType = "food.order.placed"
                var orderID: String
                let lines: [Line]
                var note: String?
                let kind = "order"
                var partitionKey: String? { orderID }
            }

            extension OrderPlaced: DabbaEvents.FastJSONDecodable, DabbaEvents.FastJSONEncodable {
                public init(fastJSON reader: inout DabbaEvents.FastJSONReader) throws {
                    var __fastJSON_slot_orderID = DabbaEvents.FastJSONSlot(of: { (__fastJSON_self: Self) in
                            __fastJSON_self.orderID
                        })
                    var __fastJSON_slot_lines = DabbaEvents.FastJSONSlot(of: { (__fastJSON_self: Self) in
                            __fastJSON_self.lines
                        })
                    var __fastJSON_slot_note = DabbaEvents.FastJSONSlot(of: { (__fastJSON_self: Self) in
                            __fastJSON_self.note
                        })
                    var __fastJSON_seenKeys = DabbaEvents.FastJSONSeenKeys()
                    try reader.beginObject()
                    while let __fastJSON_memberKey = try reader.nextKey() {
                        switch __fastJSON_memberKey {
                        case "orderID":
                            try DabbaEvents.FastJSONReader.markSeen(&__fastJSON_seenKeys, 0)
                            __fastJSON_slot_orderID.value = try reader.decode(__fastJSON_slot_orderID.type)
                        case "lines":
                            try DabbaEvents.FastJSONReader.markSeen(&__fastJSON_seenKeys, 1)
                            __fastJSON_slot_lines.value = try reader.decode(__fastJSON_slot_lines.type)
                        case "note":
                            try DabbaEvents.FastJSONReader.markSeen(&__fastJSON_seenKeys, 2)
                            __fastJSON_slot_note.value = try reader.decodeIfPresent(__fastJSON_slot_note.wrappedType)
                        default:
                            try reader.skipValue()
                        }
                    }
                    guard let __fastJSON_read_orderID = __fastJSON_slot_orderID.value else {
                        throw DabbaEvents.FastJSONReader.unsupported()
                    }
                    self.orderID = __fastJSON_read_orderID
                    guard let __fastJSON_read_lines = __fastJSON_slot_lines.value else {
                        throw DabbaEvents.FastJSONReader.unsupported()
                    }
                    self.lines = __fastJSON_read_lines
                    self.note = __fastJSON_slot_note.value ?? nil
                }
                public func encode(fastJSON writer: inout DabbaEvents.FastJSONWriter) throws {
                    try writer.writeObject(Self.self, keys: ["orderID", "lines", "note", "kind"]) { __fastJSON_index, writer in
                        switch __fastJSON_index {
                        case 0:
                            try writer.encode(self.orderID)
                            return true
                        case 1:
                            try writer.encode(self.lines)
                            return true
                        case 2:
                            guard let __fastJSON_value = self.note else {
                                return false
                            }
                            try writer.encode(__fastJSON_value)
                            return true
                        case 3:
                            try writer.encode(self.kind)
                            return true
                        default:
                            return false
                        }
                    }
                }
            }
            """
        )
    }

    @Test("CodingKeys decide which properties are read and under which keys")
    func codingKeys() {
        expand(
            """
            @FastJSON
            struct Line: Codable {
                var sku: String
                var quantity: Int = 1
                var cached: Int = 0
                enum CodingKeys: String, CodingKey {
                    case sku = "item_sku", quantity
                }
            }
            """,
            """
            struct Line: Codable {
                var sku: String
                var quantity: Int = 1
                var cached: Int = 0
                enum CodingKeys: String, CodingKey {
                    case sku = "item_sku", quantity
                }
            }

            extension Line: DabbaEvents.FastJSONDecodable, DabbaEvents.FastJSONEncodable {
                init(fastJSON reader: inout DabbaEvents.FastJSONReader) throws {
                    var __fastJSON_slot_sku = DabbaEvents.FastJSONSlot(of: { (__fastJSON_self: Self) in
                            __fastJSON_self.sku
                        })
                    var __fastJSON_slot_quantity = DabbaEvents.FastJSONSlot(of: { (__fastJSON_self: Self) in
                            __fastJSON_self.quantity
                        })
                    var __fastJSON_seenKeys = DabbaEvents.FastJSONSeenKeys()
                    try reader.beginObject()
                    while let __fastJSON_memberKey = try reader.nextKey() {
                        switch __fastJSON_memberKey {
                        case "item_sku":
                            try DabbaEvents.FastJSONReader.markSeen(&__fastJSON_seenKeys, 0)
                            __fastJSON_slot_sku.value = try reader.decode(__fastJSON_slot_sku.type)
                        case "quantity":
                            try DabbaEvents.FastJSONReader.markSeen(&__fastJSON_seenKeys, 1)
                            __fastJSON_slot_quantity.value = try reader.decode(__fastJSON_slot_quantity.type)
                        default:
                            try reader.skipValue()
                        }
                    }
                    guard let __fastJSON_read_sku = __fastJSON_slot_sku.value else {
                        throw DabbaEvents.FastJSONReader.unsupported()
                    }
                    self.sku = __fastJSON_read_sku
                    guard let __fastJSON_read_quantity = __fastJSON_slot_quantity.value else {
                        throw DabbaEvents.FastJSONReader.unsupported()
                    }
                    self.quantity = __fastJSON_read_quantity
                }
                func encode(fastJSON writer: inout DabbaEvents.FastJSONWriter) throws {
                    try writer.writeObject(Self.self, keys: ["item_sku", "quantity"]) { __fastJSON_index, writer in
                        switch __fastJSON_index {
                        case 0:
                            try writer.encode(self.sku)
                            return true
                        case 1:
                            try writer.encode(self.quantity)
                            return true
                        default:
                            return false
                        }
                    }
                }
            }
            """
        )
    }

    @Test("a raw-value enum reads its raw value")
    func rawValueEnum() {
        expand(
            """
            @FastJSON
            enum Status: String, Codable {
                case placed, delivered
            }
            """,
            """
            enum Status: String, Codable {
                case placed, delivered
            }

            extension Status: DabbaEvents.FastJSONDecodable, DabbaEvents.FastJSONEncodable {
                init(fastJSON reader: inout DabbaEvents.FastJSONReader) throws {
                    guard let value = Self(rawValue: try reader.decode(Self.RawValue.self)) else {
                        throw DabbaEvents.FastJSONReader.unsupported()
                    }
                    self = value
                }
                func encode(fastJSON writer: inout DabbaEvents.FastJSONWriter) throws {
                    try writer.encode(self.rawValue)
                }
            }
            """
        )
    }

    @Test("no encoder for a type that encodes itself or does not declare Encodable: it encodes through Codable")
    func decoderOnly() {
        expand(
            """
            @FastJSON
            struct Signed: Codable {
                var id: String
                func encode(to encoder: any Encoder) throws {}
            }
            """,
            """
            struct Signed: Codable {
                var id: String
                func encode(to encoder: any Encoder) throws {}
            }

            extension Signed: DabbaEvents.FastJSONDecodable {
                init(fastJSON reader: inout DabbaEvents.FastJSONReader) throws {
                    var __fastJSON_slot_id = DabbaEvents.FastJSONSlot(of: { (__fastJSON_self: Self) in
                            __fastJSON_self.id
                        })
                    var __fastJSON_seenKeys = DabbaEvents.FastJSONSeenKeys()
                    try reader.beginObject()
                    while let __fastJSON_memberKey = try reader.nextKey() {
                        switch __fastJSON_memberKey {
                        case "id":
                            try DabbaEvents.FastJSONReader.markSeen(&__fastJSON_seenKeys, 0)
                            __fastJSON_slot_id.value = try reader.decode(__fastJSON_slot_id.type)
                        default:
                            try reader.skipValue()
                        }
                    }
                    guard let __fastJSON_read_id = __fastJSON_slot_id.value else {
                        throw DabbaEvents.FastJSONReader.unsupported()
                    }
                    self.id = __fastJSON_read_id
                }
            }
            """
        )
        expand(
            """
            @FastJSON
            enum Level: Int, Decodable {
                case low = 1
            }
            """,
            """
            enum Level: Int, Decodable {
                case low = 1
            }

            extension Level: DabbaEvents.FastJSONDecodable {
                init(fastJSON reader: inout DabbaEvents.FastJSONReader) throws {
                    guard let value = Self(rawValue: try reader.decode(Self.RawValue.self)) else {
                        throw DabbaEvents.FastJSONReader.unsupported()
                    }
                    self = value
                }
            }
            """
        )
    }

    @Test("shapes the synthesized conformance decodes differently are compile errors naming the declaration")
    func refusals() {
        expand(
            """
            @FastJSON
            struct Custom: Codable {
                var id: String
                init(from decoder: any Decoder) throws { id = "x" }
            }
            """,
            """
            struct Custom: Codable {
                var id: String
                init(from decoder: any Decoder) throws { id = "x" }
            }
            """,
            diagnostics: [
                DiagnosticSpec(
                    message: "@FastJSON cannot be combined with a custom init(from:): it reads what the synthesized "
                        + "Decodable conformance reads; remove @FastJSON to decode through this initializer",
                    line: 4, column: 5
                )
            ]
        )
        expand(
            """
            @FastJSON
            enum Channel: Codable {
                case sms(String)
            }
            """,
            """
            enum Channel: Codable {
                case sms(String)
            }
            """,
            diagnostics: [
                DiagnosticSpec(
                    message: "@FastJSON on an enum needs String or integer raw values (String, Int, Int64, Int32, UInt, "
                        + "UInt64) as its first inherited type",
                    line: 2, column: 6
                )
            ]
        )
        expand(
            """
            @FastJSON
            class Box: Codable {
                var id = ""
            }
            """,
            """
            class Box: Codable {
                var id = ""
            }
            """,
            diagnostics: [
                DiagnosticSpec(message: "@FastJSON applies to structs and to enums with String or integer raw values", line: 1, column: 1)
            ]
        )
    }
}
