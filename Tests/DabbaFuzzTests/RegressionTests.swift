import DabbaCatalog
import DabbaEvents
import DabbaFuzzTargets
import DabbaKafka
import DabbaPipeline
import DabbaSchema
import Foundation
import Testing

/// Inputs the fuzzer found that crashed a target or broke one of its properties, each kept in
/// `Tests/Fixtures/fuzz/<target>/regressions/` and asserted here for the clean value or error it gives now.
@Suite("Fuzz regressions: inputs that once crashed or broke a property")
struct RegressionTests {
    static func input(_ target: String, _ name: String) throws -> [UInt8] {
        let file = FuzzPassTests.corpusRoot.appendingPathComponent("\(target)/regressions/\(name)")
        return try [UInt8](Data(contentsOf: file))
    }

    @Test("fast-json: -1e-400 underflows to zero, which Foundation refuses: the codec refuses it too")
    func underflowToZero() throws {
        let input = try Self.input("fast-json", "underflow-to-zero")
        try FuzzTarget.fastJSON.run(input)
        #expect(throws: DecodingError.self) { try JSONEventCodec().decode(Double.self, from: Data(input)) }
        #expect(throws: DecodingError.self) { try JSONEventCodec().decode([Double].self, from: Data("[1e-400]".utf8)) }
        // Zero written any way is still zero.
        #expect(try JSONEventCodec().decode([Double].self, from: Data("[0e-400,-0.0,0.000]".utf8)) == [0, 0, 0])
        #expect(try JSONEventCodec().decode(Double.self, from: Data("4.9e-324".utf8)) == Double.leastNonzeroMagnitude)
    }

    @Test("fast-json: invalid UTF-8 in a key the type ignores is refused as Foundation refuses it")
    func invalidUTF8InIgnoredKey() throws {
        let input = try Self.input("fast-json", "invalid-utf8-in-ignored-key")
        try FuzzTarget.fastJSON.run(input)
        #expect(throws: DecodingError.self) { try JSONEventCodec().decode(Probe.self, from: Data(input)) }
        // Elsewhere the codec agrees with Foundation too (which reads an ignored member's value lazily).
        let ignoredValue = Data(#"{"sequence":7,"other":""#.utf8) + [0xFF] + Data(#""}"#.utf8)
        let truncatedKey = Data([0x7B, 0x22, 0xC3, 0x22, 0x3A, 0x31, 0x7D])  // {"\xC3":1}
        for variant in [ignoredValue, truncatedKey, Data(#"{"sequence":7,"é":"ü"}"#.utf8)] {
            try FuzzTarget.fastJSON.run([UInt8](variant))
        }
        #expect(throws: DecodingError.self) { try JSONEventCodec().decode([String: Int].self, from: truncatedKey) }
        #expect(try JSONEventCodec().decode([String: Int].self, from: Data(#"{"é":1}"#.utf8)) == ["é": 1])
    }

    @Test("fast-json: 0e1, which Foundation refuses (and 0e10, which it reads), decode as Foundation decodes them")
    func zeroWithExponent() throws {
        let input = try Self.input("fast-json", "zero-with-exponent")
        try FuzzTarget.fastJSON.run(input)
        #expect(throws: DecodingError.self) { try JSONEventCodec().decode(Double.self, from: Data(input)) }
        for text in ["0e10", "0e+1", "-0e1", "0.0e1", "0.00e5", "[0E1]", "0", "-0.0"] {
            try FuzzTarget.fastJSON.run(Array(text.utf8))
        }
        #expect(try JSONEventCodec().decode([Double].self, from: Data("[0,-0.0,0.5]".utf8)) == [0, 0, 0.5])
    }

    /// Decodes through the codec's fast `Decoder` (plain `Codable`).
    struct Probe: Decodable { var sequence: Int }
}

@Suite("Fuzz regressions: dead-letter records")
struct DeadLetterRegressionTests {
    @Test("dead-letters: a replay count of Int.max stays Int.max on replay instead of overflowing")
    func replayCountAtMaximum() throws {
        let input = try RegressionTests.input("dead-letters", "replay-count-at-int-max")
        try FuzzTarget.deadLetters.run(input)
        let record = DeadLetterRecord(FuzzRecord(parsing: input).message())
        #expect(record.replayCount == Int.max)
        let replayed = record.replay(to: "food.orders")
        #expect(replayed.headers.string(named: RetryHeaders.replayCount) == String(Int.max))
    }

    @Test("dead-letters: a negative replay count reads as 0 and replays as 1")
    func negativeReplayCount() {
        let message = KafkaMessage.inMemory(
            topic: "food.orders.dlt", value: [], headers: [KafkaHeader(name: RetryHeaders.replayCount, string: "-3")]
        )
        let record = DeadLetterRecord(message)
        #expect(record.replayCount == 0)
        #expect(record.replay(to: "food.orders").headers.string(named: RetryHeaders.replayCount) == "1")
    }
}

@Suite("Fuzz regressions: catalog documents")
struct CatalogRegressionTests {
    @Test("catalog: 9 lines of nested YAML aliases (a billion values) give an error instead of a hang")
    func aliasBomb() throws {
        // (The corpus replay runs the target on it too.)
        let input = try RegressionTests.input("catalog", "alias-bomb.yaml")
        let errors = try #require(throws: CatalogErrors.self) {
            try Catalog.load(yaml: String(decoding: input, as: UTF8.self), path: "bomb.asyncapi.yaml")
        }
        #expect(errors.errors.contains { $0.code == .yamlSyntax && $0.message.contains("more than 50000 values") })
    }
}

@Suite("Fuzz regressions: catalog numbers")
struct CatalogNumberRegressionTests {
    @Test("catalog: partitions beyond Int32 and replicas beyond Int16 are errors, not a trap when topics are created")
    func partitionsBeyondInt32() throws {
        let input = try RegressionTests.input("catalog", "partitions-beyond-int32.yaml")
        try FuzzTarget.catalog.run(input)
        let errors = try #require(throws: CatalogErrors.self) {
            try Catalog.load(yaml: String(decoding: input, as: UTF8.self), path: "orders.asyncapi.yaml")
        }
        #expect(
            errors.errors.contains {
                $0.code == .invalidPartitions && $0.line == 14
                    && $0.message
                        == "'channels.orders.bindings.kafka.partitions' must be at most 2147483647, not 3000000000"
            })
        #expect(
            errors.errors.contains {
                $0.code == .invalidReplicas && $0.message.hasSuffix("must be at most 32767, not 70000")
            })
    }
}

@Suite("Fuzz regressions: retry records")
struct RetryRecordRegressionTests {
    @Test("dead-letters: a retry record's attempt of Int.max reads as Int32.max, so the next attempt can be counted")
    func attemptAtIntMax() throws {
        let input = try RegressionTests.input("dead-letters", "attempt-at-int-max")
        try FuzzTarget.deadLetters.run(input)
        let message = FuzzRecord(parsing: input).message()
        #expect(PipelineRunner.attempt(of: message) == Int(Int32.max))
        // A partition beyond Int32 is no origin: the record's own position stands.
        let origin = Origin(message: message)
        #expect(origin.topic == "fuzz.records" && origin.partition == 3 && origin.offset == 42)
    }
}

@Suite("Fuzz regressions: schema patterns")
struct SchemaPatternRegressionTests {
    static func compiled(_ name: String) throws -> (JSONSchema, JSONValue) {
        let document = try JSONValue.parse(Data(try RegressionTests.input("json-schema", name)))
        let elements = try #require(document.arrayValue)
        return (try JSONSchema(elements[0]), elements[1])
    }

    @Test("json-schema: a pattern that backtracks catastrophically on a string gives a violation, not a hang")
    func catastrophicBacktracking() throws {
        let (schema, instance) = try Self.compiled("catastrophic-backtracking.json")
        let violations = schema.validate(instance)
        #expect(violations.map(\.keyword) == ["pattern"])
        #expect(violations.first?.message.contains("too costly to match against pattern '^(a|aa)+$'") == true)
        #expect(!schema.isValid(instance))
        // The same pattern on strings it decides quickly.
        #expect(schema.isValid(.string("aaaa")))
        #expect(!schema.isValid(.string("aab")))
    }

    @Test("json-schema: a property name too costly to match against patternProperties is refused, not skipped")
    func catastrophicBacktrackingPropertyName() throws {
        let (schema, instance) = try Self.compiled("catastrophic-backtracking-property-name.json")
        let violations = schema.validate(instance)
        #expect(violations.map(\.keyword) == ["patternProperties"])
        #expect(!schema.isValid(instance))
        #expect(schema.isValid(["aa": 1, "b": "anything"]))
        #expect(!schema.isValid(["aa": "not an integer"]))
    }
}
