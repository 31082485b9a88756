import DabbaCatalog
import DabbaConsole
import DabbaEvents
import DabbaHTTP
import DabbaKafka
import DabbaSchema
import DabbaTesting
import Foundation
import Prometheus
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A console on the embedded broker, asked over plain HTTP (no browser needed).
struct ConsoleServer {
    let console: Console
    let serving: Task<Void, any Error>
    let base: URL
    let client: ClientConfiguration
    let catalog: Catalog

    static func with(
        allowActions: Bool, services: [String: [URL]] = [:],
        contracts: (@Sendable () async -> [ConsoleContractResult])? = nil, _ body: (ConsoleServer) async throws -> Void
    ) async throws {
        let (directory, catalog) = try foodCatalog()
        let broker = try EmbeddedBroker(logger: quietLogger)
        for topic in catalog.allTopics { try await broker.createTopic(topic.name, partitions: Int32(topic.partitions)) }
        let client = ClientConfiguration(bootstrap: broker.bootstrapServers)
        var configuration = ConsoleConfiguration(catalogDirectory: directory, client: client)
        configuration.port = 0
        configuration.allowActions = allowActions
        configuration.services = services
        configuration.contractReports = contracts
        configuration.sampleInterval = .milliseconds(300)
        let console = try Console(configuration: configuration, catalog: catalog, logger: quietLogger)
        let serving = Task { try await console.run() }
        let port = await console.boundPort()
        let server = ConsoleServer(console: console, serving: serving, base: URL(string: "http://127.0.0.1:\(port)")!, client: client, catalog: catalog)
        defer { serving.cancel() }
        try await body(server)
    }

    func get(_ path: String) async throws -> (Int, String) {
        let (data, response) = try await URLSession.shared.data(from: URL(string: base.absoluteString + path)!)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    func post(_ path: String, _ form: [String: String], origin: String? = nil) async throws -> (Int, String) {
        var request = URLRequest(url: URL(string: base.absoluteString + path)!)
        request.httpMethod = "POST"
        request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
        if let origin { request.setValue(origin, forHTTPHeaderField: "Origin") }
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        request.httpBody = Data(form.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")" }.joined(separator: "&").utf8)
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }

    /// The CSRF token the console's forms carry.
    func token() async throws -> String {
        let (_, page) = try await get("/produce?type=food.order.placed")
        guard let range = page.range(of: #"name="csrf" value=""#), let end = page[range.upperBound...].firstIndex(of: "\"") else { return "" }
        return String(page[range.upperBound..<end])
    }

    func end(of topic: String) async throws -> Int64 {
        let reader = try KafkaTailReader(configuration: client, logger: quietLogger)
        return try await reader.partitionEnds(topic: topic).map(\.offset).reduce(0, +)
    }
}

@Suite("dabba ui over HTTP: safety, flows, services", .serialized, .timeLimit(.minutes(3)))
struct ConsoleHTTPTests {
    static let order: [String: String] = [
        "type": "food.order.placed", "field.orderId": "ord-http-1", "field.customerId": "cus-1",
        "field.restaurantId": "ben-dosa-corner", "field.city": "bengaluru",
        "field.items": #"[{"itemId":"masala-dosa","quantity":1}]"#, "field.deliveryLocation": #"{"lat":12.9,"lon":77.5}"#,
        "field.paymentToken": "tok_visa_4242", "field.placedAt": "2026-03-14T12:30:00Z",
    ]

    @Test("write actions are refused without --allow-actions, without the CSRF token and from another origin; with all three a produce lands")
    func safety() async throws {
        try await ConsoleServer.with(allowActions: false) { server in
            var form = Self.order
            form["csrf"] = try await server.token()
            let (status, page) = try await server.post("/produce", form)
            #expect(status == 403)
            #expect(page.contains("--allow-actions"))
            #expect(try await server.end(of: "food.orders") == 0)
        }
        try await ConsoleServer.with(allowActions: true) { server in
            let (status, page) = try await server.post("/produce", Self.order)
            #expect(status == 403)
            #expect(page.contains("CSRF"))
            var form = Self.order
            form["csrf"] = try await server.token()
            let (foreign, _) = try await server.post("/produce", form, origin: "http://evil.example")
            #expect(foreign == 403)
            #expect(try await server.end(of: "food.orders") == 0)
            let (sent, result) = try await server.post("/produce", form)
            #expect(sent == 200, "\(result)")
            #expect(result.contains("produce-result"))
            #expect(try await server.end(of: "food.orders") == 1)
            let (_, statusPage) = try await server.get("/status")
            #expect(statusPage.contains("food.order.placed id"), "the action is listed")
        }
    }

    @Test("a filter value with spaces, a plus and a percent sign reaches the filter as typed")
    func filterDecoding() async throws {
        try await ConsoleServer.with(allowActions: false) { server in
            let producer = try KafkaProducer(configuration: ProducerConfiguration(client: server.client), logger: quietLogger)
            let events = EventProducer(producer: producer, source: "/food/orders", routes: EventRoutes(catalog: server.catalog))
            for subject in ["50% off+more", "50%25 off"] {
                var metadata = EventMetadata()
                metadata.subject = subject
                try await producer.send(try events.message(type: "food.order.placed", version: 1, payload: Array("{}".utf8), key: "k", metadata: metadata))
            }
            try await producer.close()
            // As a browser's GET form sends it: spaces as '+', everything else percent-encoded.
            let (status, page) = try await server.get("/messages?topic=food.orders&subject=50%25+off%2Bmore")
            #expect(status == 200)
            #expect(page.contains(#"<span id="match-count">1</span>"#), "\(page)")
            #expect(page.contains("50% off+more"))
        }
    }

    @Test("the flow page draws one correlation id as a causation tree, with the dead letter of a hop")
    func flow() async throws {
        try await ConsoleServer.with(allowActions: false) { server in
            let producer = try KafkaProducer(configuration: ProducerConfiguration(client: server.client), logger: quietLogger)
            let events = EventProducer(producer: producer, source: "/food/orders", routes: EventRoutes(catalog: server.catalog))
            let payload = Array(#"{"orderId":"ord-flow"}"#.utf8)
            let root = try events.message(type: "food.order.placed", version: 1, payload: payload, key: "ord-flow", metadata: EventMetadata(id: "evt-root", correlationID: "corr-7"))
            let child = try events.message(type: "food.order.accepted", version: 1, payload: payload, key: "ord-flow", metadata: EventMetadata(id: "evt-child", correlationID: "corr-7", causationID: "evt-root"))
            let other = try events.message(type: "food.order.placed", version: 1, payload: payload, key: "ord-other", metadata: EventMetadata(id: "evt-other", correlationID: "corr-8"))
            for message in [root, child, other] { try await producer.send(message) }
            var dead = child
            dead.topic = "food.orders.food-delivery.dlq"
            dead.headers += [
                KafkaHeader(name: "kafka_dlt-original-topic", string: "food.orders"),
                KafkaHeader(name: "kafka_dlt-original-consumer-group", string: "food-delivery"),
                KafkaHeader(name: "kafka_dlt-exception-message", string: "no rider nearby"),
            ]
            try await producer.send(dead)
            try await producer.close()
            let (status, page) = try await server.get("/flow?correlation=corr-7")
            #expect(status == 200)
            #expect(page.contains("2 event(s), 1 retry or dead-letter record(s)"), "\(page)")
            // The child hangs under the root, and the dead letter under the child.
            let rootAt = try #require(page.range(of: #"data-event-id="evt-root""#))
            let childAt = try #require(page.range(of: #"data-event-id="evt-child""#))
            let deadAt = try #require(page.range(of: "no rider nearby"))
            #expect(rootAt.lowerBound < childAt.lowerBound && childAt.lowerBound < deadAt.lowerBound)
            #expect(page[rootAt.upperBound..<childAt.lowerBound].contains("<ul>"))
            #expect(!page.contains("evt-other"))
        }
    }

    @Test("a group's read rate shows on its edge, and a failing contract in the attention list")
    func readRateAndContracts() async throws {
        let contracts: @Sendable () async -> [ConsoleContractResult] = {
            [ConsoleContractResult(service: "food-kitchen-v2", report: .failure(ConsoleError(.badRequest, "handles food.order.placed with the wrong schema version")))]
        }
        try await ConsoleServer.with(allowActions: false, contracts: contracts) { server in
            let producer = try KafkaProducer(configuration: ProducerConfiguration(client: server.client), logger: quietLogger)
            for index in 0..<40 {
                try await producer.send(ProducerMessage(topic: "food.orders", key: Array("k\(index)".utf8), value: Array("{}".utf8)))
            }
            try await producer.close()
            var configuration = ConsumerConfiguration(client: server.client, groupID: "food-analytics")
            configuration.offsetReset = .earliest
            configuration.commitInterval = .milliseconds(100)
            let consumer = try KafkaConsumer(configuration: configuration, logger: quietLogger)
            try consumer.subscribe(topics: ["food.orders"])
            // Read slowly, so several samples see the committed offsets move.
            let reading = Task {
                for try await message in consumer.messages {
                    consumer.markProcessed(message)
                    try await Task.sleep(for: .milliseconds(100))
                }
            }
            try await TestHelpers.eventually("a positive read rate on food-analytics", timeout: .seconds(30), pollInterval: .milliseconds(300)) {
                let page = try await server.get("/").1
                guard let node = page.range(of: #"id="node-group-food-analytics-food.orders""#),
                    let rate = page[node.upperBound...].range(of: #"class="badge consumed" data-rate=""#)
                else { return false }
                let value = page[rate.upperBound...].prefix { $0 != "\"" }
                return (Double(value) ?? 0) > 0
            }
            reading.cancel()
            try await consumer.close()
            let overview = try await server.get("/").1
            #expect(overview.contains("Contract: food-kitchen-v2 does not honour the catalog"), "\(overview)")
        }
    }

    @Test("the service page shows an instance's readiness and counters from its endpoint, and an instance that does not answer")
    func service() async throws {
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(name: "dabba_events_handled_total", labels: [("group", "food-orders")], help: "handled").increment(by: Int64(42))
        let endpoint = try ServiceHTTPServer(
            host: "127.0.0.1", port: 0, metrics: registry, readiness: { .unhealthy("no partitions assigned yet") })
        let running = Task { try await endpoint.run() }
        defer { running.cancel() }
        let port = try await endpoint.boundPort()
        let services = ["food-orders": [URL(string: "http://127.0.0.1:\(port)")!, URL(string: "http://127.0.0.1:1")!]]
        try await ConsoleServer.with(allowActions: false, services: services) { server in
            try await TestHelpers.eventually("the instances were sampled", timeout: .seconds(20), pollInterval: .milliseconds(200)) {
                try await server.get("/service?name=food-orders").1.contains("data-metric=\"dabba_events_handled_total\">42<")
            }
            let (_, page) = try await server.get("/service?name=food-orders")
            #expect(page.contains("no partitions assigned yet"))
            #expect(page.contains("does not answer"))
            let (_, overview) = try await server.get("/")
            #expect(overview.contains("0/2 ready"))
            #expect(overview.contains("is not ready: no partitions assigned yet"))
        }
    }
}
