import DabbaSchema
import Foundation
import Testing

@Suite("JSONValue")
struct JSONValueTests {
    // MARK: Parsing

    @Test("integers stay exact, other numbers become doubles")
    func numbers() throws {
        #expect(try JSONValue.parse("9007199254740993") == .integer(9_007_199_254_740_993))
        #expect(try JSONValue.parse("-9223372036854775808") == .integer(.min))
        #expect(try JSONValue.parse("9223372036854775807") == .integer(.max))
        #expect(try JSONValue.parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try JSONValue.parse("-0") == .integer(0))
        #expect(try JSONValue.parse("1.5e3") == .double(1500))
        #expect(try JSONValue.parse("2E-2") == .double(0.02))
        if case .double(let value) = try JSONValue.parse("1.0") {
            #expect(value == 1)
        } else {
            Issue.record("1.0 should parse as a double")
        }
    }

    @Test("strings: escapes, surrogate pairs, raw UTF-8")
    func strings() throws {
        #expect(try JSONValue.parse(#""a\"b\\c\/d\b\f\n\r\t""#) == .string("a\"b\\c/d\u{8}\u{C}\n\r\t"))
        #expect(try JSONValue.parse(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
        #expect(try JSONValue.parse("\"grüße 😀\"") == .string("grüße 😀"))
    }

    @Test("objects keep key order; duplicate keys: last value wins")
    func objectOrder() throws {
        let value = try JSONValue.parse(#"{"b": 1, "a": [true, null], "c": {}, "b": 2}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["b", "a", "c"])
        #expect(object["b"] == 2)
        #expect(value["a"]?[0] == true)
        #expect(value["a"]?[1]?.isNull == true)
    }

    @Test(
        "invalid JSON is rejected with the byte offset",
        arguments: [
            (#"{"a": 1,}"#, 8),
            ("[1, 2", 5),
            ("01", 1),
            ("1.", 2),
            ("-", 1),
            ("tru", 0),
            (#"{"a" 1}"#, 5),
            ("[1] x", 4),
            ("", 0),
            ("\"tab\there\"", 4),
            (#""\x""#, 1),
            (#""\ud800""#, 1),
            ("1e999", 0),
            ("{'a': 1}", 1),
        ])
    func invalidJSON(text: String, offset: Int) {
        do {
            _ = try JSONValue.parse(text)
            Issue.record("'\(text)' should not parse")
        } catch let error as SchemaError {
            #expect(error.code == .invalidJSON)
            #expect(error.byteOffset == offset, "\(text): \(error)")
            #expect(error.message.contains("byte offset \(offset)"), "\(error.message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test("invalid UTF-8 and excessive nesting are rejected")
    func hostileInput() throws {
        let badUTF8 = Data([0x22, 0x61, 0xFF, 0x22])
        #expect(throws: SchemaError.self) { try JSONValue.parse(badUTF8) }
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        let error = #expect(throws: SchemaError.self) { try JSONValue.parse(deep) }
        #expect(error?.message.contains("nesting") == true)
        let fine = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: Never.self) { try JSONValue.parse(fine) }
    }

    // MARK: Serialization

    @Test("serialization is compact, escapes correctly and round-trips")
    func serialization() throws {
        let text = #"{"z":[1,2.5,-3e-7,true,false,null],"a":"q\"\\\n\u0001é","m":{}}"#
        let value = try JSONValue.parse(text)
        let output = String(decoding: value.serialized(), as: UTF8.self)
        #expect(output == #"{"z":[1,2.5,-3e-07,true,false,null],"a":"q\"\\\n\u0001é","m":{}}"#)
        #expect(try JSONValue.parse(value.serialized()) == value)
        let sorted = String(decoding: value.serialized(sortedKeys: true), as: UTF8.self)
        #expect(sorted.hasPrefix(#"{"a":"#))
        #expect(String(decoding: JSONValue.double(.nan).serialized(), as: UTF8.self) == "null")
    }

    // MARK: Equality

    @Test("JSON equality: 1 == 1.0, key order ignored, strings by code point")
    func equality() throws {
        #expect(JSONValue.integer(1) == .double(1.0))
        #expect(Set<JSONValue>([.integer(1), .double(1.0)]).count == 1)
        #expect(JSONValue.integer(9_007_199_254_740_993) != .double(9_007_199_254_740_992))
        #expect(JSONValue.bool(false) != .integer(0))
        let ab = try JSONValue.parse(#"{"a": 1, "b": [1, 2]}"#)
        let ba = try JSONValue.parse(#"{"b": [1.0, 2], "a": 1.0}"#)
        #expect(ab == ba)
        #expect(ab.hashValue == ba.hashValue)
        // Canonically equivalent but different code points.
        #expect(JSONValue.string("\u{E9}") != .string("e\u{301}"))
        let object: JSONObject = ["\u{E9}": 1, "e\u{301}": 2]
        #expect(object.count == 2)
    }

    @Test("JSONObject editing")
    func objectEditing() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = nil
        object["d"] = "x"
        object["a"] = 10
        #expect(object.keys == ["a", "c", "d"])
        #expect(object["c"] == 3)
        #expect(object.removeValue(forKey: "a") == 10)
        #expect(Array(object).map(\.key) == ["c", "d"])
        #expect(JSONObject([(key: "k", value: true)])["k"] == true)
    }

    // MARK: Accessors, literals, pointers

    @Test("accessors and JSON Pointer lookup")
    func accessors() throws {
        let value: JSONValue = ["name": "x", "n": 2.0, "list": [1, "two"], "a/b": ["~k": true]]
        #expect(value["name"]?.stringValue == "x")
        #expect(value["n"]?.int64Value == 2)
        #expect(value["n"]?.doubleValue == 2)
        #expect(value["list"]?.arrayValue?.count == 2)
        #expect(value.objectValue?.count == 4)
        #expect(value["missing"] == nil)
        #expect(value.value(atPointer: "/list/1") == "two")
        #expect(value.value(atPointer: "/a~1b/~0k")?.boolValue == true)
        #expect(value.value(atPointer: "/list/01") == nil)
        #expect(value.value(atPointer: "") == value)
        #expect(JSONValue.double(2.5).typeName == "number")
        #expect(JSONValue.double(2).typeName == "integer")
    }

    // MARK: Codable

    private struct Order: Codable, Equatable {
        let orderId: String
        let quantity: Int
        let price: Double
        let tags: [String]
    }

    @Test("Codable: JSONEncoder output converts to JSONValue and back")
    func codable() throws {
        let order = Order(orderId: "o-1", quantity: 3, price: 9.5, tags: ["a"])
        let viaDecoder = try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(order))
        let viaParser = try JSONValue(encoding: order)
        #expect(viaDecoder == viaParser)
        #expect(viaParser["quantity"] == .integer(3))
        let back = try JSONDecoder().decode(Order.self, from: JSONEncoder().encode(viaParser))
        #expect(back == order)
    }
}
