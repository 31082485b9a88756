import DabbaSchema
import Foundation
import Testing

@testable import DabbaCLI

@Suite("Typed CLI helpers (no broker)")
struct TypedTemplateTests {
    private func template(_ json: String) throws -> PayloadTemplate {
        try PayloadTemplate(JSONValue.parse(json))
    }

    private func render(_ template: PayloadTemplate, _ sequence: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        let now = Date(timeIntervalSince1970: 1_795_250_590.123)
        let value = template.render(sequence: sequence, now: now, using: &generator)
        return String(decoding: value.serialized(sortedKeys: true), as: UTF8.self)
    }

    @Test("placeholders: a lone number placeholder becomes a number, others are replaced inside the string")
    func placeholders() throws {
        let payload = try template(
            #"{"n":"{{seq}}","id":"order-{{ seq }}","at":"{{now}}","list":["{{seq}}",1],"keep":"{{ not closed","x":2}"#
        )
        #expect(payload.hasPlaceholders)
        #expect(
            render(payload, 7)
                == #"{"at":"2026-11-21T08:43:10.123Z","id":"order-7","keep":"{{ not closed","list":[7,1],"n":7,"x":2}"#
        )
        let random = try template(#"{"r":"{{random:5:7}}","s":"r{{random:-1:-1}}"}"#)
        for sequence in 0..<20 {
            let value = try JSONValue.parse(render(random, sequence))
            #expect((5...7).contains(value["r"]?.int64Value ?? -99))
            #expect(value["s"] == .string("r-1"))
        }
        let uuid = try template(#"{"id":"{{uuid}}"}"#)
        #expect(render(uuid, 0) != render(uuid, 0))
        let plain = try template(#"{"a":"b","c":[1,{"d":null}]}"#)
        #expect(!plain.hasPlaceholders)
        #expect(render(plain, 3) == #"{"a":"b","c":[1,{"d":null}]}"#)
    }

    @Test("unknown and malformed placeholders are errors naming the field")
    func badPlaceholders() throws {
        for (json, expected) in [
            (#"{"a":{"b/c":"{{seqs}}"}}"#, "unknown placeholder '{{seqs}}' in the payload at /a/b~1c"),
            (#"{"a":"{{random:1}}"}"#, "placeholder '{{random:1}}' in the payload at /a is malformed"),
            (#"{"a":"{{random:9:1}}"}"#, "MIN (9) is greater than MAX (1)"),
            (#""{{x}}""#, "unknown placeholder '{{x}}' in the payload;"),
        ] {
            let error = try #require(throws: CLIError.self) { try template(json) }
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("JSON syntax errors name the line and column")
    func positions() {
        let data = Data("{\n  \"a\": 1\n  x\n}".utf8)
        #expect(PayloadSource.position(ofByte: 0, in: data) == (1, 1))
        #expect(PayloadSource.position(ofByte: 4, in: data) == (2, 3))
        #expect(PayloadSource.position(ofByte: 13, in: data) == (3, 3))
    }

    @Test("the token bucket paces to the rate without an initial burst")
    func tokenBucket() async {
        var bucket = TokenBucket(rate: 100)
        let start = ContinuousClock.now
        for _ in 0..<11 { _ = await bucket.take { false } }
        #expect(ContinuousClock.now - start >= .milliseconds(95))
        var stopped = TokenBucket(rate: 0.5)
        _ = await stopped.take { false }
        let waited = ContinuousClock.now
        #expect(await stopped.take { true } == false)
        #expect(ContinuousClock.now - waited < .seconds(1))
    }

    @Test("JSON content types")
    func contentTypes() {
        #expect(TypedProduce.isJSON("application/json"))
        #expect(TypedProduce.isJSON("application/json; charset=utf-8"))
        #expect(TypedProduce.isJSON("application/vnd.shop+json"))
        #expect(!TypedProduce.isJSON("application/avro"))
        #expect(EventLine.isJSON(nil))
    }
}
