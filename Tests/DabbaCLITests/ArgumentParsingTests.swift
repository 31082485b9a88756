import DabbaKafka
import Testing

@testable import DabbaCLI

@Suite("Command-line value parsing (no broker)")
struct ArgumentParsingTests {
    @Test("--topic NAME:PARTITIONS[:REPLICAS]")
    func topicSpecs() throws {
        #expect(try TopicSpec.parse("orders:6") == TopicSpec(name: "orders", partitions: 6, replicationFactor: 1))
        #expect(try TopicSpec.parse("a.b_c-d:1:3") == TopicSpec(name: "a.b_c-d", partitions: 1, replicationFactor: 3))
        for bad in [
            "orders", "orders:", ":6", "orders:0", "orders:-1", "orders:six", "orders:6:0", "or ders:6", "a:1:2:3",
        ] {
            let error = try #require(throws: ArgumentFormatError.self) { try TopicSpec.parse(bad) }
            #expect(!error.description.isEmpty, "\(bad)")
        }
        let noColon = try #require(throws: ArgumentFormatError.self) { try TopicSpec.parse("orders") }
        #expect(noColon.description.contains("'orders'"))
        let zero = try #require(throws: ArgumentFormatError.self) { try TopicSpec.parse("orders:0") }
        #expect(zero.description.contains("'0'") && zero.description.contains("positive integer"))
    }

    @Test("--header NAME=VALUE splits at the first '='; the value may be empty or contain '='")
    func headers() throws {
        #expect(try HeaderArgument.parse("trace=abc") == KafkaHeader(name: "trace", string: "abc"))
        #expect(try HeaderArgument.parse("q=a=b") == KafkaHeader(name: "q", string: "a=b"))
        #expect(try HeaderArgument.parse("empty=") == KafkaHeader(name: "empty", string: ""))
        let missing = try #require(throws: ArgumentFormatError.self) { try HeaderArgument.parse("trace") }
        #expect(missing.description.contains("'trace'"))
        #expect(throws: ArgumentFormatError.self) { try HeaderArgument.parse("=value") }
    }

    @Test("--property KEY=VALUE")
    func properties() throws {
        func parse(_ text: String) throws -> [String: String] {
            try ClientProperties(properties: [text], environment: [:]).entries.mapValues(\.value)
        }
        #expect(try parse("linger.ms=0") == ["linger.ms": "0"])
        #expect(try parse("a=") == ["a": ""])
        #expect(try parse("q=a=b") == ["q": "a=b"])
        let error = try #require(throws: KafkaError.self) { try parse("linger.ms") }
        #expect(error.message.contains("'linger.ms'"))
    }

    @Test("key separator splits at the first occurrence, also multi-byte separators")
    func keySeparator() {
        func split(_ line: String, _ separator: String) -> [String]? {
            KeyedLine.split(Array(line.utf8), separator: Array(separator.utf8)).map {
                [String(decoding: $0.key, as: UTF8.self), String(decoding: $0.value, as: UTF8.self)]
            }
        }
        #expect(split("k:v", ":") == ["k", "v"])
        #expect(split("k:v:w", ":") == ["k", "v:w"])
        #expect(split(":v", ":") == ["", "v"])
        #expect(split("k:", ":") == ["k", ""])
        #expect(split("k::v", "::") == ["k", "v"])
        #expect(split("k:v", "::") == nil)
        #expect(split("kv", ":") == nil)
        #expect(split("", ":") == nil)
        #expect(split("ключ→значение", "→") == ["ключ", "значение"])
    }

    @Test("topic names follow Kafka's rules")
    func topicNames() {
        #expect(TopicName.problem(with: "orders.v1_x-y") == nil)
        #expect(TopicName.problem(with: "") != nil)
        #expect(TopicName.problem(with: "..") != nil)
        #expect(TopicName.problem(with: "a b") != nil)
        #expect(TopicName.problem(with: String(repeating: "a", count: 250)) != nil)
    }
}
