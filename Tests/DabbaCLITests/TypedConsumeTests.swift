import DabbaKafka
import Foundation
import Testing

@Suite("dabba consume --decode", .timeLimit(.minutes(3)))
struct TypedConsumeTests {
    private func send(_ messages: [ProducerMessage]) async throws {
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(bootstrap: sharedBroker.bootstrapServers),
            logger: quietLogger
        )
        for message in messages { try await producer.send(message) }
        try await producer.close()
    }

    private func cloudEventHeaders(id: String, type: String, contentType: String? = "application/json")
        -> [KafkaHeader]
    {
        var headers = [
            KafkaHeader(name: "ce_specversion", string: "1.0"),
            KafkaHeader(name: "ce_id", string: id),
            KafkaHeader(name: "ce_source", string: "/test"),
            KafkaHeader(name: "ce_type", string: type),
            KafkaHeader(name: "ce_time", string: "2026-11-21T08:43:10.123Z"),
            KafkaHeader(name: "ce_dataschema", string: "urn:dabba:schema:\(type):2"),
        ]
        if let contentType { headers.append(KafkaHeader(name: "content-type", string: contentType)) }
        return headers
    }

    @Test("every record prints a line: events with their data and validity, the rest with an error and the raw value")
    func mixedTopic() async throws {
        let topic = try await makeTopic(partitions: 1)
        let catalog = try TestCatalog(topic: topic)
        defer { catalog.remove() }
        let structured = #"""
            {"specversion":"1.0","id":"e-5","source":"/java","type":"test.order.placed","datacontenttype":"application/json","data":{"orderId":"o-5","amount":7}}
            """#
        try await send([
            ProducerMessage(
                topic: topic,
                key: Array("o-1".utf8),
                value: Array(#"{"amount":3,"orderId":"o-1"}"#.utf8),
                headers: cloudEventHeaders(id: "e-1", type: "test.order.placed")
            ),
            ProducerMessage(topic: topic, key: "k", value: "plain text, not an event"),
            ProducerMessage(
                topic: topic,
                key: Array("o-3".utf8),
                value: Array(#"{"amount":"3","orderId":"o-3"}"#.utf8),
                headers: cloudEventHeaders(id: "e-3", type: "test.order.placed")
            ),
            ProducerMessage(
                topic: topic,
                key: nil,
                value: Array(#"{"amount":"#.utf8),
                headers: cloudEventHeaders(id: "e-4", type: "test.order.placed")
            ),
            ProducerMessage(
                topic: topic,
                key: Array("o-5".utf8),
                value: Array(structured.utf8),
                headers: [KafkaHeader(name: "content-type", string: "application/cloudevents+json")]
            ),
            ProducerMessage(
                topic: topic,
                key: nil,
                value: Array(#"{"anything":true}"#.utf8),
                headers: cloudEventHeaders(id: "e-6", type: "test.order.unknown")
            ),
        ])
        let result = try await consumeLines(
            topic,
            max: 6,
            extra: ["--decode", "--catalog", catalog.directory.path]
        )
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = try result.jsonLines()
        try #require(lines.count == 6, "\(result.stdout)")
        #expect(lines.map { $0.int("offset") } == Array(0..<6))

        let valid = lines[0]
        #expect(valid.string("type") == "test.order.placed")
        #expect(valid.string("id") == "e-1")
        #expect(valid.string("source") == "/test")
        #expect(valid.string("time") == "2026-11-21T08:43:10.123Z")
        #expect(valid.string("key") == "o-1")
        #expect(valid.int("schemaVersion") == 2)
        #expect((valid["data"] as? [String: Any])?.int("amount") == 3)
        #expect(valid["valid"] as? Bool == true)
        #expect((valid["violations"] as? [Any])?.isEmpty == true)
        #expect(valid["error"] == nil)

        let plain = lines[1]
        #expect(
            plain.string("error")?.hasPrefix("not a CloudEvent: missing CloudEvents header 'ce_specversion'") == true
        )
        #expect(plain.string("value") == "plain text, not an event")
        #expect(plain.string("key") == "k")

        let violating = lines[2]
        #expect(violating["valid"] as? Bool == false)
        #expect(violating["violations"] as? [String] == ["/amount: expected integer, got string"])
        #expect((violating["data"] as? [String: Any])?.string("amount") == "3")

        let broken = lines[3]
        #expect(broken.string("error")?.hasPrefix("the payload is not valid JSON") == true, "\(broken)")
        #expect(broken.string("value") == #"{"amount":"#)
        #expect(broken.string("id") == "e-4")

        let fromJava = lines[4]
        #expect(fromJava.string("id") == "e-5")
        #expect(fromJava.string("source") == "/java")
        #expect((fromJava["data"] as? [String: Any])?.string("orderId") == "o-5")
        #expect(fromJava["valid"] as? Bool == true)
        #expect(fromJava.isNull("schemaVersion"))

        let unknown = lines[5]
        #expect(unknown["valid"] as? Bool == false)
        #expect(
            unknown["violations"] as? [String] == ["event type 'test.order.unknown' is not declared in the catalog"]
        )
    }

    @Test("without --catalog there is no validity; --catalog needs --decode; a broken catalog fails before reading")
    func options() async throws {
        let topic = try await makeTopic(partitions: 1)
        try await send([
            ProducerMessage(
                topic: topic,
                key: nil,
                value: Array(#"{"x":1}"#.utf8),
                headers: cloudEventHeaders(id: "e-1", type: "anything", contentType: nil)
            )
        ])
        let decoded = try await consumeLines(topic, max: 1, extra: ["--decode"])
        let line = try #require(try decoded.jsonLines().first)
        #expect(line.string("type") == "anything")
        #expect((line["data"] as? [String: Any])?.int("x") == 1)
        #expect(line["valid"] == nil && line["violations"] == nil)

        let withoutDecode = try await consumeLines(topic, max: 1, extra: ["--catalog", "Topics"])
        #expect(withoutDecode.exitCode == 64)
        #expect(withoutDecode.stderr.hasPrefix("error: --catalog checks decoded events; add --decode"))

        let missing = try await consumeLines(topic, max: 1, extra: ["--decode", "--catalog", "/nonexistent"])
        #expect(missing.exitCode == 1)
        #expect(missing.stderr == "error: catalog directory '/nonexistent' (--catalog) does not exist\n")
    }
}
