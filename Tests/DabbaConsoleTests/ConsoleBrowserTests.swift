import DabbaCatalog
import DabbaConsole
import DabbaEvents
import DabbaKafka
import DabbaPipeline
import DabbaSchema
import DabbaTesting
import Foundation
import Logging
import Testing

let quietLogger = TestHelpers.quietLogger("dabba.console-test")

/// The food-delivery catalog alone (one example system), copied from Topics/.
func foodCatalog() throws -> (URL, Catalog) {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent(TestHelpers.uniqueName("console-catalog"))
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    try FileManager.default.copyItem(
        at: root.appendingPathComponent("Topics/food-delivery.asyncapi.yaml"),
        to: directory.appendingPathComponent("food-delivery.asyncapi.yaml"))
    return (directory, try Catalog.load(directory: directory))
}

/// A console on the embedded broker (or another cluster), a browser, and helpers to put events on the topics.
final class ConsoleHarness: Sendable {
    let catalog: Catalog
    let client: ClientConfiguration
    let console: Console
    let browser: Browser
    let base: String
    private let serving: Task<Void, any Error>
    private let broker: EmbeddedBroker?

    static func start(client: ClientConfiguration? = nil, allowActions: Bool = true) async throws -> ConsoleHarness {
        let (directory, catalog) = try foodCatalog()
        var broker: EmbeddedBroker?
        var client = client
        if client == nil {
            let embedded = try EmbeddedBroker(logger: quietLogger)
            for topic in catalog.allTopics { try await embedded.createTopic(topic.name, partitions: Int32(topic.partitions)) }
            broker = embedded
            client = ClientConfiguration(bootstrap: embedded.bootstrapServers)
        }
        guard let client else { throw Browser.Failure(description: "no cluster") }
        var configuration = ConsoleConfiguration(catalogDirectory: directory, client: client)
        configuration.port = 0
        configuration.allowActions = allowActions
        configuration.sampleInterval = .milliseconds(500)
        let console = try Console(configuration: configuration, catalog: catalog, logger: quietLogger)
        let serving = Task { try await console.run() }
        let port = await console.boundPort()
        let browser = try await Browser.start()
        return ConsoleHarness(catalog: catalog, client: client, console: console, browser: browser, base: "http://127.0.0.1:\(port)", serving: serving, broker: broker)
    }

    private init(catalog: Catalog, client: ClientConfiguration, console: Console, browser: Browser, base: String, serving: Task<Void, any Error>, broker: EmbeddedBroker?) {
        self.catalog = catalog
        self.client = client
        self.console = console
        self.browser = browser
        self.base = base
        self.serving = serving
        self.broker = broker
    }

    static func with(client: ClientConfiguration? = nil, _ body: (ConsoleHarness) async throws -> Void) async throws {
        let harness = try await start(client: client)
        do {
            try await body(harness)
        } catch {
            await harness.stop()
            throw error
        }
        await harness.stop()
    }

    func stop() async {
        await browser.quit()
        serving.cancel()
        _ = await serving.result
    }

    func open(_ path: String) async throws { try await browser.open(base + path) }

    /// Sends the catalog example of food.order.placed `count` times with fresh order ids (and `subject`).
    @discardableResult
    func placeOrders(_ count: Int, subject: String? = nil) async throws -> [(id: String, position: String)] {
        let producer = try KafkaProducer(configuration: ProducerConfiguration(client: client), logger: quietLogger)
        let events = EventProducer(producer: producer, source: "/console-test", routes: EventRoutes(catalog: catalog))
        var sent: [(String, String)] = []
        for _ in 0..<count {
            let order = "ord-\(UUID().uuidString.prefix(8).lowercased())"
            let payload = try JSONValue.parse(#"{"orderId":"\#(order)","customerId":"cus-1","restaurantId":"ben-dosa-corner","city":"bengaluru","items":[{"itemId":"masala-dosa","quantity":1}],"deliveryLocation":{"lat":12.97,"lon":77.59},"paymentToken":"tok_visa_4242","placedAt":"2026-03-14T12:30:00Z"}"#)
            var metadata = EventMetadata()
            metadata.subject = subject
            let message = try events.message(type: "food.order.placed", version: 1, payload: Array(payload.serialized()), key: order, metadata: metadata)
            let report = try await producer.send(message)
            let id = message.headers.first { $0.name == "ce_id" }?.value.map { String(decoding: $0, as: UTF8.self) } ?? ""
            sent.append((id, "\(report.topic)[\(report.partition)]@\(report.offset)"))
        }
        try await producer.close()
        return sent
    }

    /// Every record of a topic now.
    func records(of topic: String) async throws -> [KafkaMessage] {
        let reader = try KafkaTailReader(configuration: client, logger: quietLogger)
        let ends = try await reader.partitionEnds(topic: topic)
        return try await reader.messages(from: ends.map { TopicPartitionOffset(topic: topic, partition: $0.partition, offset: 0) })
    }
}

@Suite(
    "dabba ui in a real browser (headless Chromium through WebDriver)",
    .enabled(if: Browser.unavailableReason == nil, Comment(rawValue: Browser.unavailableReason ?? "")),
    .serialized, .timeLimit(.minutes(4))
)
struct ConsoleBrowserTests {
    @Test("the map shows every catalog node, and a positive rate on the topic once events flow")
    func overview() async throws {
        try await ConsoleHarness.with { harness in
            let browser = harness.browser
            try await harness.open("/")
            for topic in harness.catalog.topics {
                #expect(try await browser.exists("[id=\"node-topic-\(topic.name)\"]"), "no node for \(topic.name)")
            }
            for group in harness.catalog.consumerGroups {
                #expect(try await browser.exists("[id=\"node-group-\(group.groupID)-\(group.topic)\"]"), "no node for \(group.groupID)")
            }
            for producer in harness.catalog.producers {
                let service = producer.service ?? "(unnamed)"
                #expect(try await browser.exists("[id=\"node-service-\(service)-sends-\(producer.topic)\"]"), "no node for \(service)")
            }
            try await browser.screenshot("overview-before")
            let sending = Task { for _ in 0..<8 { _ = try? await harness.placeOrders(5); try? await Task.sleep(for: .milliseconds(250)) } }
            try await browser.waitFor("a positive rate on food.orders", screenshot: "overview") {
                try await harness.open("/")
                let rate = try await browser.attribute("[id=\"node-topic-food.orders\"] .rate", "data-rate") ?? ""
                return (Double(rate) ?? 0) > 0
            }
            await sending.value
        }
    }

    @Test("a group's lag per partition equals the end minus the committed offset")
    func lag() async throws {
        try await ConsoleHarness.with { harness in
            try await harness.placeOrders(30)
            var configuration = ConsumerConfiguration(client: harness.client, groupID: "food-restaurants")
            configuration.offsetReset = .earliest
            let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
            try consumer.subscribe(topics: ["food.orders"])
            var read = 0
            for try await message in consumer.messages {
                consumer.markProcessed(message)
                read += 1
                if read == 12 { break }
            }
            try await consumer.commit()
            try await consumer.close()
            let admin = try KafkaAdmin(configuration: harness.client, logger: quietLogger)
            let truth = try await admin.groupLag(group: "food-restaurants", topics: ["food.orders"])
            #expect(truth.map(\.lag).reduce(0, +) == 18)
            try await harness.open("/group?id=food-restaurants&topic=food.orders")
            try await harness.browser.screenshot("group")
            for entry in truth {
                let row = try await harness.browser.text("#partitions tr[data-key=\"p\(entry.partition)\"]")
                let cells = row.split(separator: " ").map(String.init)
                #expect(cells.count >= 4, "\(row)")
                guard cells.count >= 4 else { continue }
                let committed = Int64(cells[1]) ?? 0
                let end = Int64(cells[2]) ?? -1
                #expect(end == entry.highWatermark)
                #expect(committed == (entry.committed ?? 0), "\(row)")
                #expect(Int64(cells[3]) == end - committed, "\(row)")
            }
        }
    }

    @Test("a filter by subject shows exactly the matching events, and a new one appears in the live tail")
    func messagesAndTail() async throws {
        try await ConsoleHarness.with { harness in
            let browser = harness.browser
            let matching = try await harness.placeOrders(3, subject: "kitchen-7")
            try await harness.placeOrders(2, subject: "kitchen-9")
            try await harness.open("/messages?topic=food.orders&subject=kitchen-7")
            let rows = try await browser.findAll("#messages tbody tr")
            #expect(rows.count == 3)
            for position in matching.map(\.position) {
                #expect(try await browser.exists("#messages tr[data-key=\"\(position)\"]"), "\(position) missing")
            }
            for subject in try await browser.findAll("#messages .subject") {
                #expect(try await browser.text(of: subject) == "kitchen-7")
            }
            try await browser.waitFor("the live tail follows", screenshot: "messages-tail-open", timeout: .seconds(10)) {
                try await browser.text("#tail-status") == "live tail: following"
            }
            let fresh = try await harness.placeOrders(1, subject: "kitchen-7")
            try await harness.placeOrders(1, subject: "kitchen-9")
            try await browser.waitFor("the new event in the live tail", screenshot: "messages", timeout: .seconds(15)) {
                try await browser.exists("#messages tr[data-key=\"\(fresh[0].position)\"]")
            }
            try await Task.sleep(for: .seconds(1))
            #expect(try await browser.findAll("#messages tbody tr").count == 4)
        }
    }

    @Test("a poison event shows in Dead letters; its replay lands on the original topic with the replay count; a second is blocked")
    func deadLetterReplay() async throws {
        try await ConsoleHarness.with { harness in
            let browser = harness.browser
            let dlq = "food.orders.food-delivery.dlq"
            let poison = "poison-\(UUID().uuidString.prefix(8).lowercased())"
            let producer = try KafkaProducer(configuration: ProducerConfiguration(client: harness.client), logger: quietLogger)
            func deadLetter(replays: Int?) async throws -> String {
                var headers = [
                    KafkaHeader(name: "ce_specversion", string: "1.0"), KafkaHeader(name: "ce_id", string: poison),
                    KafkaHeader(name: "ce_source", string: "/console-test"), KafkaHeader(name: "ce_type", string: "food.order.placed"),
                    KafkaHeader(name: "kafka_dlt-original-topic", string: "food.orders"),
                    KafkaHeader(name: "kafka_dlt-original-consumer-group", string: "food-delivery"),
                    KafkaHeader(name: "kafka_dlt-exception-fqcn", string: "DabbaPipeline.PermanentError"),
                    KafkaHeader(name: "kafka_dlt-exception-message", string: "no rider for the moon"),
                ]
                if let replays { headers.append(KafkaHeader(name: "dabba-replay-count", string: String(replays))) }
                let report = try await producer.send(ProducerMessage(topic: dlq, key: Array("ord-moon".utf8), value: Array(#"{"orderId":"ord-moon"}"#.utf8), headers: headers))
                return "\(report.topic)[\(report.partition)]@\(report.offset)"
            }
            let position = try await deadLetter(replays: nil)
            try await harness.open("/dead-letters")
            #expect(try await browser.exists("#dead-letter-records tr[data-key=\"\(position)\"]"))
            #expect(try await browser.text("#dead-letter-groups tbody").contains("PermanentError"))
            try await browser.screenshot("dead-letters")
            try await browser.select("#replay-topic", value: dlq)
            try await browser.click("#replay-dry-run")
            #expect(try await browser.text("#replay-selected") == "1")
            try await harness.open("/dead-letters")
            try await browser.select("#replay-topic", value: dlq)
            try await browser.type("#replay-confirm", "replay 1")
            try await browser.click("#replay-apply")
            try await browser.screenshot("dead-letters-replayed")
            #expect(try await browser.text("#replay-selected") == "1")
            let replayed = try await harness.records(of: "food.orders").filter { $0.header("ce_id") == poison }
            #expect(replayed.count == 1)
            #expect(replayed.first?.header("dabba-replay-count") == "1")
            #expect(replayed.first?.header("kafka_dlt-original-topic") == nil)
            // It fails again and is dead-lettered with its replay count: the loop guard blocks a second replay.
            _ = try await deadLetter(replays: 1)
            try await harness.open("/dead-letters")
            try await browser.select("#replay-topic", value: dlq)
            try await browser.click("#replay-dry-run")
            #expect(try await browser.text("#replay-selected") == "0")
            #expect(try await browser.text("#replay-guarded") == "1")
            try await harness.open("/dead-letters")
            try await browser.select("#replay-topic", value: dlq)
            try await browser.type("#replay-confirm", "replay 0")
            try await browser.click("#replay-apply")
            #expect(try await harness.records(of: "food.orders").filter { $0.header("ce_id") == poison }.count == 1)
            try await producer.close()
        }
    }

    @Test("the produce form holds the catalog example and sends it; an invalid edit sends nothing")
    func produce() async throws {
        try await ConsoleHarness.with { harness in
            let browser = harness.browser
            let event = try #require(harness.catalog.event(named: "food.order.placed"))
            let example = try #require(event.namedExamples.first?.payload)
            try await harness.open("/produce?type=food.order.placed")
            try await browser.screenshot("produce")
            for entry in example.objectValue.map(Array.init) ?? [] {
                let field = try await browser.property("#field-\(entry.key)", "value") ?? ""
                // Strings are shown bare, everything else as JSON.
                let shown: JSONValue = entry.value.stringValue != nil ? .string(field) : ((try? JSONValue.parse(field)) ?? .null)
                #expect(shown == entry.value, "\(entry.key): \(field)")
            }
            try await browser.click("#produce-send")
            try await browser.waitFor("the event was sent", screenshot: "produced", timeout: .seconds(10)) {
                try await browser.exists("#produce-result")
            }
            let sent = try await harness.records(of: "food.orders")
            #expect(sent.count == 1)
            let payload = try JSONValue.parse(Data(sent.first?.value ?? []))
            #expect(payload == example)
            #expect(sent.first?.keyString == example["orderId"]?.stringValue)
            // An edit the schema refuses: nothing is sent.
            try await harness.open("/produce?type=food.order.placed")
            try await browser.type("#field-items", #""two dosas""#)
            try await browser.click("#produce-send")
            let error = try await browser.text("#error")
            #expect(error.contains("nothing was sent"), "\(error)")
            #expect(error.contains("/items"), "\(error)")
            try await browser.screenshot("produce-refused")
            #expect(try await harness.records(of: "food.orders").count == 1)
        }
    }
}

@Suite(
    "dabba ui offset reset in a real browser, on a persistent broker",
    .enabled(if: Browser.unavailableReason == nil && PersistentTestBroker.isAvailable, Comment(rawValue: Browser.unavailableReason ?? PersistentTestBroker.unavailableMessage)),
    .serialized, .timeLimit(.minutes(4))
)
struct ConsoleOffsetResetTests {
    @Test("an offset reset is refused while the group has members (naming them) and applied after they stop")
    func resetOffsets() async throws {
        try await PersistentTestBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let existing = Set(try await admin.describeTopics().map(\.name))
            let (_, catalog) = try foodCatalog()
            let missing = catalog.allTopics.filter { !existing.contains($0.name) }
                .map { NewTopic(name: $0.name, partitions: Int32($0.partitions), replicationFactor: 1) }
            if !missing.isEmpty { try await admin.createTopics(missing) }
            let group = "g-\(TestHelpers.uniqueName("reset"))"
            try await ConsoleHarness.with(client: broker.consumerConfiguration(group: group).client) { harness in
                let browser = harness.browser
                try await harness.placeOrders(12)
                var configuration = broker.consumerConfiguration(group: group)
                configuration.offsetReset = .latest
                configuration.client.properties["client.id"] = "kitchen-screen-1"
                let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
                try consumer.subscribe(topics: ["food.orders"])
                try await TestHelpers.eventually("the member joined", timeout: .seconds(30)) {
                    !(try await admin.describeConsumerGroup(group).members.isEmpty)
                }
                let before = try await admin.committedOffsets(group: group, topics: ["food.orders"])
                func apply() async throws {
                    try await harness.open("/group?id=\(group)&topic=food.orders")
                    try await browser.select("#reset-kind", value: "earliest")
                    try await browser.type("#reset-confirm", group)
                    try await browser.click("#reset-apply")
                }
                try await harness.open("/group?id=\(group)&topic=food.orders")
                #expect(try await browser.text("#reset-refusal").contains("kitchen-screen-1"))
                try await apply()
                let refused = try await browser.text("#reset-result")
                #expect(refused.contains("Refused") && refused.contains("kitchen-screen-1"), "\(refused)")
                try await browser.screenshot("reset-refused")
                #expect(try await admin.committedOffsets(group: group, topics: ["food.orders"]) == before)
                try await consumer.close()
                try await TestHelpers.eventually("the group is empty", timeout: .seconds(30)) {
                    try await admin.describeConsumerGroup(group).isEmpty
                }
                try await apply()
                #expect(try await browser.text("#reset-result").contains("Applied"))
                try await browser.screenshot("reset-applied")
                let after = try await admin.committedOffsets(group: group, topics: ["food.orders"])
                #expect(after.allSatisfy { $0.offset == 0 }, "\(after)")
            }
        }
    }
}
