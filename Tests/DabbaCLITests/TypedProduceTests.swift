import DabbaKafka
import DabbaTesting
import Foundation
import Testing

/// A catalog directory for one test: the `shop` domain on a topic of the test's own.
///
/// `test.order.placed` (schema version 2, key `/orderId`, examples `small` and `large`) and `test.order.cancelled`
/// (`attempt` at most 2) travel on `topic`; the `shipping` group receives it with two retry tiers and a
/// dead-letter topic.
struct TestCatalog {
    let directory: URL
    let topic: String

    init(topic: String, partitions: Int = 6, replicas: Int = 1) throws {
        self.topic = topic
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let document = """
            asyncapi: 3.0.0
            info:
              title: Shop
              version: 1.0.0
            channels:
              orders:
                address: \(topic)
                messages:
                  orderPlaced:
                    $ref: '#/components/messages/OrderPlaced'
                  orderCancelled:
                    $ref: '#/components/messages/OrderCancelled'
                bindings:
                  kafka:
                    partitions: \(partitions)
                    replicas: \(replicas)
                x-dabba-retry:
                  delays: [1s, 5s]
            operations:
              ship:
                action: receive
                channel:
                  $ref: '#/channels/orders'
                bindings:
                  kafka:
                    groupId: {type: string, const: shipping}
            components:
              messages:
                OrderPlaced:
                  name: test.order.placed
                  x-dabba-schema-version: 2
                  x-dabba-key: /orderId
                  payload:
                    type: object
                    required: [orderId, amount]
                    additionalProperties: false
                    properties:
                      orderId: {type: string, minLength: 1}
                      amount: {type: integer, minimum: 0}
                      note: {type: string}
                  examples:
                    - name: small
                      payload: {orderId: o-1, amount: 5}
                    - name: large
                      payload: {orderId: o-2, amount: 5000, note: big}
                OrderCancelled:
                  name: test.order.cancelled
                  x-dabba-key: /orderId
                  payload:
                    type: object
                    required: [orderId, attempt]
                    properties:
                      orderId: {type: string}
                      attempt: {type: integer, maximum: 2}
            """
        try Data(document.utf8).write(to: directory.appendingPathComponent("shop.asyncapi.yaml"))
    }

    /// `--catalog <directory>`.
    var arguments: [String] { ["--catalog", directory.path] }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

/// The repository root (the package directory), where `Topics/` lives.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

/// Runs `dabba` in a given working directory, for the commands whose defaults depend on it.
func runDabba(_ arguments: [String], in directory: URL, timeLimit: Duration = .seconds(90)) async throws
    -> CommandResult
{
    try await Dabba.run(arguments, workingDirectory: directory, timeLimit: timeLimit)
}

/// Reads a topic with `dabba consume` (optionally `--decode`).
func consumeLines(
    _ topic: String,
    max: Int? = nil,
    idleTimeout: Double = 3,
    extra: [String] = []
) async throws -> CommandResult {
    var arguments = ["consume"] + bootstrapArguments + ["--topic", topic, "--idle-timeout", "\(idleTimeout)"]
    if let max { arguments += ["--max", "\(max)"] }
    return try await Dabba.run(arguments + extra)
}

@Suite("dabba produce EVENT_TYPE", .timeLimit(.minutes(3)))
struct TypedProduceTests {
    @Test("--example sends a CloudEvent that consume --decode shows with type, id and data, and carries the headers")
    func example() async throws {
        let catalog = try TestCatalog(topic: try await makeTopic(partitions: 6))
        defer { catalog.remove() }
        let produced = try await Dabba.run(
            ["produce", "test.order.placed", "--example", "large"] + bootstrapArguments + catalog.arguments
        )
        #expect(produced.exitCode == 0, "\(produced.stderr)")
        let delivery = try #require(try produced.jsonLines().first)
        #expect(produced.lines.count == 1)
        #expect(delivery.string("type") == "test.order.placed")
        #expect(delivery.string("topic") == catalog.topic)
        #expect(delivery.string("key") == "o-2")
        let id = try #require(delivery.string("id"))
        #expect(UUID(uuidString: id) != nil)

        let decoded = try await consumeLines(catalog.topic, max: 1, extra: ["--decode"])
        #expect(decoded.exitCode == 0, "\(decoded.stderr)")
        let event = try #require(try decoded.jsonLines().first)
        #expect(event.string("type") == "test.order.placed")
        #expect(event.string("id") == id)
        #expect(event.string("source") == "/dabba-cli")
        #expect(event.string("key") == "o-2")
        #expect(event.int("schemaVersion") == 2)
        #expect(event.int("partition") == delivery.int("partition"))
        #expect(event.int("offset") == delivery.int("offset"))
        let time = try #require(event.string("time"))
        #expect(time.hasSuffix("Z") && time.count == 24, "\(time)")
        let data = try #require(event["data"] as? [String: Any])
        #expect(data.string("orderId") == "o-2")
        #expect(data.int("amount") == 5000)
        #expect(data.string("note") == "big")
        #expect(event["valid"] == nil)

        let raw = try await consumeLines(catalog.topic, max: 1)
        let record = try #require(try raw.jsonLines().first)
        let headers = try #require(record["headers"] as? [String: Any])
        for name in ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "ce_dataschema", "content-type"] {
            #expect(headers[name] is String, "missing header \(name): \(headers)")
        }
        #expect(headers.string("ce_specversion") == "1.0")
        #expect(headers.string("ce_id") == id)
        #expect(headers.string("ce_type") == "test.order.placed")
        #expect(headers.string("ce_dataschema") == "urn:dabba:schema:test.order.placed:2")
        #expect(headers.string("content-type") == "application/json")
        // The payload is the example, keys sorted.
        #expect(record.string("value") == #"{"amount":5000,"note":"big","orderId":"o-2"}"#)
    }

    @Test("the key comes from x-dabba-key and lands on the murmur2 partition; --key overrides it; --source is kept")
    func keyFromCatalog() async throws {
        let catalog = try TestCatalog(topic: try await makeTopic(partitions: 6))
        defer { catalog.remove() }
        for orderID in ["customer-42", "order-7", "x"] {
            let result = try await Dabba.run(
                ["produce", "test.order.placed", "--data", #"{"orderId":"\#(orderID)","amount":1}"#]
                    + bootstrapArguments + catalog.arguments
            )
            #expect(result.exitCode == 0, "\(result.stderr)")
            let line = try #require(try result.jsonLines().first)
            #expect(line.string("key") == orderID)
            #expect(line.int("partition") == Int(Murmur2Partitioner.partition(forKey: orderID, partitionCount: 6)))
        }
        let overridden = try await Dabba.run(
            ["produce", "test.order.placed", "--example", "--key", "other-key", "--source", "/checkout"]
                + bootstrapArguments + catalog.arguments
        )
        #expect(overridden.exitCode == 0, "\(overridden.stderr)")
        let line = try #require(try overridden.jsonLines().first)
        #expect(line.string("key") == "other-key")
        #expect(line.int("partition") == Int(Murmur2Partitioner.partition(forKey: "other-key", partitionCount: 6)))

        let decoded = try await consumeLines(catalog.topic, max: 4, extra: ["--decode"])
        let events = try decoded.jsonLines()
        #expect(events.count == 4)
        let checkout = try #require(events.first { $0.string("key") == "other-key" })
        #expect(checkout.string("source") == "/checkout")
        #expect((checkout["data"] as? [String: Any])?.string("orderId") == "o-1")
    }

    @Test("--count 50 with {{seq}} placeholders sends 50 distinct events and prints one summary line")
    func countWithPlaceholders() async throws {
        let catalog = try TestCatalog(topic: try await makeTopic(partitions: 6))
        defer { catalog.remove() }
        let template = #"{"orderId":"order-{{seq}}","amount":"{{seq}}","note":"{{uuid}} at {{now}}"}"#
        let result = try await Dabba.run(
            ["produce", "test.order.placed", "--data", template, "--count", "50"] + bootstrapArguments
                + catalog.arguments
        )
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = try result.jsonLines()
        try #require(lines.count == 1, "one summary line, not one per message: \(result.stdout)")
        let summary = try #require(lines.first)
        #expect(summary.int("sent") == 50)
        #expect(summary.int("failed") == 0)
        #expect(summary.string("type") == "test.order.placed")
        #expect(summary.string("topic") == catalog.topic)
        #expect(summary["elapsed"] is NSNumber && summary["rate"] is NSNumber)
        // Standard error is not a terminal here: a final summary line instead of a progress bar.
        #expect(result.stderr.contains("50 of 50 'test.order.placed' events delivered"), "\(result.stderr)")
        #expect(!result.stderr.contains("\r"))

        let decoded = try await consumeLines(
            catalog.topic,
            max: 50,
            extra: ["--decode", "--catalog", catalog.directory.path]
        )
        #expect(decoded.exitCode == 0, "\(decoded.stderr)")
        let events = try decoded.jsonLines()
        try #require(events.count == 50)
        #expect(Set(events.compactMap { $0.string("id") }).count == 50)
        let payloads = events.compactMap { $0["data"] as? [String: Any] }
        #expect(Set(payloads.compactMap { $0.string("orderId") }) == Set((0..<50).map { "order-\($0)" }))
        // "{{seq}}" alone became a number, so the integer field validated.
        #expect(Set(payloads.compactMap { $0.int("amount") }) == Set(0..<50))
        #expect(Set(payloads.compactMap { $0.string("note") }).count == 50)
        #expect(events.allSatisfy { $0["valid"] as? Bool == true })
        for event in events {
            let orderID = try #require((event["data"] as? [String: Any])?.string("orderId"))
            #expect(event.string("key") == orderID)
            #expect(event.int("partition") == Int(Murmur2Partitioner.partition(forKey: orderID, partitionCount: 6)))
        }
    }

    @Test("a templated payload that fails its schema stops the run at that sequence number")
    func templatedViolationStops() async throws {
        let catalog = try TestCatalog(topic: try await makeTopic(partitions: 1))
        defer { catalog.remove() }
        let result = try await Dabba.run(
            [
                "produce", "test.order.cancelled", "--data", #"{"orderId":"o-{{seq}}","attempt":"{{seq}}"}"#,
                "--count", "10",
            ] + bootstrapArguments + catalog.arguments
        )
        #expect(result.exitCode == 1)
        #expect(
            result.stderr.contains(
                "error: payload #3 does not match the schema of 'test.order.cancelled': /attempt: "
            ),
            "\(result.stderr)"
        )
        #expect(result.stderr.contains("3 earlier events were delivered"), "\(result.stderr)")
        let summary = try #require(try result.jsonLines().first)
        #expect(summary.int("sent") == 3)
        let consumed = try await consumeLines(catalog.topic, idleTimeout: 2)
        #expect(try consumed.jsonLines().count == 3)
    }

    @Test("a payload that violates the schema is refused, naming each field; nothing is sent")
    func schemaViolation() async throws {
        let catalog = try TestCatalog(topic: try await makeTopic(partitions: 3))
        defer { catalog.remove() }
        let result = try await Dabba.run(
            ["produce", "test.order.placed", "--data", #"{"orderId":"o-1","amount":"12","colour":"red"}"#]
                + bootstrapArguments + catalog.arguments
        )
        #expect(result.exitCode == 1)
        #expect(
            result.stderr.hasPrefix(
                "error: payload does not match the schema of 'test.order.placed': /amount: expected integer, got string"
            ),
            "\(result.stderr)"
        )
        #expect(result.stderr.contains("/colour"))
        #expect(result.stdout.isEmpty)
        // The same with --count: checked before anything is sent.
        let counted = try await Dabba.run(
            ["produce", "test.order.placed", "--data", #"{"orderId":"o-1"}"#, "--count", "5"]
                + bootstrapArguments + catalog.arguments
        )
        #expect(counted.exitCode == 1)
        #expect(counted.stderr.contains("missing required property 'amount'"), "\(counted.stderr)")
        let consumed = try await consumeLines(catalog.topic, idleTimeout: 2)
        #expect(consumed.exitCode == 0, "\(consumed.stderr)")
        #expect(consumed.stdout.isEmpty)
        #expect(consumed.stderr.contains("stopping after 0 messages"))
    }

    @Test("an unknown event type is refused with the catalog's types; nothing is sent")
    func unknownEventType() async throws {
        let catalog = try TestCatalog(topic: try await makeTopic(partitions: 1))
        defer { catalog.remove() }
        let result = try await Dabba.run(
            ["produce", "test.order.shipped", "--data", "{}"] + bootstrapArguments + catalog.arguments
        )
        #expect(result.exitCode == 1)
        #expect(
            result.stderr
                == "error: unknown event type 'test.order.shipped'; the catalog declares: test.order.placed, "
                + "test.order.cancelled\n"
        )
        let consumed = try await consumeLines(catalog.topic, idleTimeout: 2)
        #expect(consumed.stdout.isEmpty)
    }

    @Test("a missing catalog, a broken catalog and $DABBA_CATALOG")
    func catalogLocation() async throws {
        let missing = try await Dabba.run(
            ["produce", "test.order.placed", "--example", "--catalog", "/nonexistent/catalog"] + bootstrapArguments
        )
        #expect(missing.exitCode == 1)
        #expect(missing.stderr == "error: catalog directory '/nonexistent/catalog' (--catalog) does not exist\n")

        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let noDefault = try await runDabba(
            ["produce", "test.order.placed", "--example"] + bootstrapArguments,
            in: empty
        )
        #expect(noDefault.exitCode == 1)
        #expect(noDefault.stderr.contains("no catalog: there is no ./Topics directory here"), "\(noDefault.stderr)")
        #expect(noDefault.stderr.contains("--catalog DIR or set $DABBA_CATALOG"))

        let broken = try TestCatalog(topic: "unused")
        defer { broken.remove() }
        try Data("asyncapi: 3.0.0\ninfo: {title: X, version: 1}\nchannels:\n  x:\n    address: 'a b'\n".utf8)
            .write(to: broken.directory.appendingPathComponent("broken.asyncapi.yaml"))
        let invalid = try await Dabba.run(
            ["produce", "test.order.placed", "--example"] + bootstrapArguments + broken.arguments
        )
        #expect(invalid.exitCode == 1)
        let errors = invalid.stderr.split(separator: "\n")
        #expect(errors.count >= 2, "\(invalid.stderr)")
        #expect(errors.allSatisfy { $0.hasPrefix("error: ") })
        #expect(invalid.stderr.contains("broken.asyncapi.yaml:5:"), "\(invalid.stderr)")

        let catalog = try TestCatalog(topic: try await makeTopic(partitions: 1))
        defer { catalog.remove() }
        let fromEnvironment = try await Dabba.run(
            ["produce", "test.order.placed", "--example"] + bootstrapArguments,
            environment: ["DABBA_CATALOG": catalog.directory.path]
        )
        #expect(fromEnvironment.exitCode == 0, "\(fromEnvironment.stderr)")
        #expect(try fromEnvironment.jsonLines().first?.string("topic") == catalog.topic)
    }

    @Test("invalid JSON is reported with its byte offset; --file reads a payload, and examples are looked up by name")
    func payloadSources() async throws {
        let catalog = try TestCatalog(topic: try await makeTopic(partitions: 1))
        defer { catalog.remove() }
        let invalid = try await Dabba.run(
            ["produce", "test.order.placed", "--data", #"{"orderId": "o-1",, "amount": 1}"#] + bootstrapArguments
                + catalog.arguments
        )
        #expect(invalid.exitCode == 1)
        #expect(invalid.stderr.hasPrefix("error: --data is not valid JSON: "), "\(invalid.stderr)")
        #expect(invalid.stderr.contains("at byte offset 18 (line 1, column 19)"), "\(invalid.stderr)")

        let file = catalog.directory.appendingPathComponent("payload.json")
        try Data("{\n  \"orderId\": \"from-file\",\n  \"amount\": 3\n}\n".utf8).write(to: file)
        let fromFile = try await Dabba.run(
            ["produce", "test.order.placed", "--file", file.path] + bootstrapArguments + catalog.arguments
        )
        #expect(fromFile.exitCode == 0, "\(fromFile.stderr)")
        #expect(try fromFile.jsonLines().first?.string("key") == "from-file")

        try Data("{\n  \"orderId\": \"x\"\n  \"amount\": 3\n}\n".utf8).write(to: file)
        let brokenFile = try await Dabba.run(
            ["produce", "test.order.placed", "--file", file.path] + bootstrapArguments + catalog.arguments
        )
        #expect(brokenFile.exitCode == 1)
        #expect(brokenFile.stderr.contains("--file \(file.path) is not valid JSON"), "\(brokenFile.stderr)")
        #expect(brokenFile.stderr.contains("(line 3, column 3)"), "\(brokenFile.stderr)")

        let unknownExample = try await Dabba.run(
            ["produce", "test.order.placed", "--example", "huge"] + bootstrapArguments + catalog.arguments
        )
        #expect(unknownExample.exitCode == 1)
        #expect(
            unknownExample.stderr
                == "error: event type 'test.order.placed' has no example 'huge'; its examples: small, large\n"
        )
        let noExamples = try await Dabba.run(
            ["produce", "test.order.cancelled", "--example"] + bootstrapArguments + catalog.arguments
        )
        #expect(noExamples.exitCode == 1)
        #expect(noExamples.stderr.contains("has no examples in the catalog"), "\(noExamples.stderr)")

        let placeholder = try await Dabba.run(
            ["produce", "test.order.placed", "--data", #"{"orderId":"{{sequence}}","amount":1}"#]
                + bootstrapArguments + catalog.arguments
        )
        #expect(placeholder.exitCode == 1)
        #expect(placeholder.stderr.contains("unknown placeholder '{{sequence}}' in the payload at /orderId"))

        let consumed = try await consumeLines(catalog.topic, idleTimeout: 2)
        #expect(try consumed.jsonLines().map { $0.string("key") } == ["from-file"])
    }

    @Test("--count: undelivered events make the exit code non-zero, with their count and reason")
    func failedDeliveries() async throws {
        // A broker of its own: the injected errors must not reach other tests.
        let broker = try EmbeddedBroker(logger: quietLogger)
        defer { broker.stop() }
        let catalog = try TestCatalog(topic: "shop.orders", partitions: 1)
        defer { catalog.remove() }
        try await broker.createTopic(catalog.topic, partitions: 1)
        try await broker.injectErrors(.produce, Array(repeating: .messageTooLarge, count: 200))
        let result = try await Dabba.run(
            ["produce", "test.order.placed", "--example", "--count", "5", "-b", broker.bootstrapServers]
                + catalog.arguments
        )
        #expect(result.exitCode == 1)
        let summary = try #require(try result.jsonLines().first)
        #expect(summary.int("sent") == 0)
        #expect(summary.int("failed") == 5)
        #expect(
            result.stderr.contains("error: 5 of 5 events were not delivered to topic 'shop.orders'"),
            "\(result.stderr)"
        )
        #expect(result.stderr.contains("error: event #0 (key 'o-1'): "), "\(result.stderr)")
    }

    @Test("a catalog topic missing on the cluster is named, with how to create it")
    func missingTopic() async throws {
        let catalog = try TestCatalog(topic: TestHelpers.uniqueName("cli-never-created"))
        defer { catalog.remove() }
        let result = try await Dabba.run(
            ["produce", "test.order.placed", "--example", "--timeout", "5"] + bootstrapArguments + catalog.arguments
        )
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("error: topic '\(catalog.topic)' does not exist at "), "\(result.stderr)")
        #expect(result.stderr.contains("dabba broker --catalog DIR"))
    }

    @Test("--rate paces the events: 20 at 40 per second take at least 0.4 s")
    func rate() async throws {
        let catalog = try TestCatalog(topic: try await makeTopic(partitions: 2))
        defer { catalog.remove() }
        let result = try await Dabba.run(
            ["produce", "test.order.placed", "--example", "--count", "20", "--rate", "40"] + bootstrapArguments
                + catalog.arguments
        )
        #expect(result.exitCode == 0, "\(result.stderr)")
        let summary = try #require(try result.jsonLines().first)
        #expect(summary.int("sent") == 20)
        let elapsed = try #require((summary["elapsed"] as? NSNumber)?.doubleValue)
        #expect(elapsed >= 0.4, "20 events at 40/s in \(elapsed) s")
    }

    @Test(
        "typed and raw options do not mix (exit 64)",
        arguments: [
            (["produce", "test.order.placed", "--topic", "orders", "--data", "{}"], "--topic cannot be combined"),
            (["produce", "--topic", "orders", "--data", "{}"], "--data is for typed events and needs an EVENT_TYPE"),
            (["produce", "--topic", "orders", "--count", "3"], "--count is for typed events"),
            (["produce", "--topic", "orders", "--catalog", "Topics"], "--catalog is for typed events"),
            (["produce", "test.order.placed", "--value", "x"], "--value is for raw messages"),
            (["produce", "test.order.placed"], "give the event's payload with --data"),
            (["produce", "test.order.placed", "--data", "{}", "--example"], "--data and --example cannot be combined"),
            (["produce", "test.order.placed", "--example", "--rate", "5"], "--rate paces --count events"),
            (["produce", "test.order.placed", "--example", "--count", "0"], "--count must be 1 or more"),
            (["produce", "--example", "small"], "--example takes the event type first"),
            (["produce"], "give an EVENT_TYPE of the catalog to send a typed event, or --topic TOPIC"),
        ]
    )
    func usageErrors(arguments: [String], message: String) async throws {
        let result = try await Dabba.run(arguments + ["-b", "127.0.0.1:1"], timeLimit: .seconds(30))
        #expect(result.exitCode == 64, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("error: "), "\(result.stderr)")
        #expect(result.stderr.contains(message), "\(result.stderr)")
    }
}
