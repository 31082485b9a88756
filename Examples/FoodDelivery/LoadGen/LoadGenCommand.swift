// food-loadgen: places realistic orders across cities, restaurants and customers (deterministic for a seed),
// including bad ones: unknown restaurants and items, a closed restaurant, scarce dishes, declined cards,
// customers out of range, malformed payloads (dead-lettered) and cancellations. Prints the plan as JSON.
import ArgumentParser
import DabbaCatalog
import DabbaEvents
import DabbaKafka
import FoodDeliveryDomain
import FoodDeliveryRuntime
import Foundation
import Logging

@main
struct LoadGenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "food-loadgen",
        abstract: "Places orders (and bad ones) on food.orders; prints the load plan as JSON."
    )

    @Option(name: [.short, .customLong("bootstrap")], help: "Kafka bootstrap servers (default: $DABBA_BOOTSTRAP).")
    var bootstrap: String?

    // The same connection settings, and precedence, as every Dabba service and `dabba` command (ClientProperties).
    @Option(name: .customLong("property"), help: "A librdkafka property, KEY=VALUE (repeatable).")
    var properties: [String] = []

    @Option(name: .customLong("config"), help: "A librdkafka properties file (default: $DABBA_KAFKA_CONFIG).")
    var configFile: String?

    @Option(help: "The Topics/ catalog directory (default: $DABBA_CATALOG or ./Topics).")
    var catalog: String?

    @Option(help: "Well-formed orders to place.")
    var orders = 200

    @Option(help: "Orders per second (0: as fast as the broker acknowledges).")
    var rate: Double = 0

    @Option(help: "The random seed: the same seed places the same orders.")
    var seed: UInt64 = 42

    @Option(name: .customLong("run-id"), help: "Order id prefix (default: a random one, so runs do not collide).")
    var runID: String?

    @Flag(name: .customLong("only-good"), help: "No bad orders, malformed payloads or cancellations.")
    var onlyGood = false

    func run() async throws {
        let client: ClientConfiguration
        do {
            client = try ClientProperties(bootstrap: bootstrap, properties: properties, configFile: configFile)
                .clientConfiguration(clientID: "food-loadgen")
        } catch {
            throw ValidationError(error.message)
        }
        let directory = catalog ?? ProcessInfo.processInfo.environment["DABBA_CATALOG"] ?? "Topics"
        let loaded = try Catalog.load(directory: URL(fileURLWithPath: directory))
        var logger = Logger(label: "food-loadgen")
        logger.logLevel = .warning
        let producer = try KafkaProducer(configuration: ProducerConfiguration(client: client), logger: logger)
        let events = EventProducer(producer: producer, source: "/food-loadgen", routes: EventRoutes(catalog: loaded))
        let generator = LoadGenerator(
            settings: LoadSettings(
                orders: orders, seed: seed, rate: rate,
                runID: runID ?? "ord\(UUID().uuidString.prefix(6).lowercased())",
                includeBadOrders: !onlyGood
            )
        )
        let plan = try await generator.produce(with: events)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        print(String(decoding: try encoder.encode(plan), as: UTF8.self))
    }
}
