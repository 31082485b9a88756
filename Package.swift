// swift-tools-version:6.2
import CompilerPluginSupport
import PackageDescription

let package = Package(
    name: "Dabba",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "DabbaKafka", targets: ["DabbaKafka"]),
        .library(name: "DabbaSchema", targets: ["DabbaSchema"]),
        .library(name: "DabbaCatalog", targets: ["DabbaCatalog"]),
        .library(name: "DabbaEvents", targets: ["DabbaEvents"]),
        .library(name: "DabbaEventMacros", targets: ["DabbaEventMacros"]),
        .library(name: "DabbaInbox", targets: ["DabbaInbox"]),
        .library(name: "DabbaHTTP", targets: ["DabbaHTTP"]),
        .library(name: "DabbaPipeline", targets: ["DabbaPipeline"]),
        .library(name: "DabbaService", targets: ["DabbaService"]),
        .library(name: "DabbaTesting", targets: ["DabbaTesting"]),
        .library(name: "DabbaTestingPostgres", targets: ["DabbaTestingPostgres"]),
        .library(name: "DabbaContracts", targets: ["DabbaContracts"]),
        .library(name: "DabbaConsole", targets: ["DabbaConsole"]),
        .library(name: "DabbaInboxPostgres", targets: ["DabbaInboxPostgres"]),
        .executable(name: "dabba", targets: ["dabba"]),
        .library(name: "FoodDeliveryDomain", targets: ["FoodDeliveryDomain"]),
        .executable(name: "food-demo", targets: ["food-demo"]),
        .library(name: "PaymentsDomain", targets: ["PaymentsDomain"]),
        .executable(name: "upi-demo", targets: ["upi-demo"]),
        .library(name: "TatkalDomain", targets: ["TatkalDomain"]),
        .executable(name: "tatkal-demo", targets: ["tatkal-demo"]),
        .library(name: "MessagingDomain", targets: ["MessagingDomain"]),
        .executable(name: "chat-demo", targets: ["chat-demo"]),
        .library(name: "RidesDomain", targets: ["RidesDomain"]),
        .executable(name: "rides-demo", targets: ["rides-demo"]),
        .library(name: "TrafficDomain", targets: ["TrafficDomain"]),
        .executable(name: "traffic-demo", targets: ["traffic-demo"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.7.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        // Only for DabbaHTTP (the services' HTTP endpoint). No default traits: they would build swift-configuration.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        // Already in the graph through Hummingbird; named because DabbaHTTP adds a channel handler of its own and runs
        // its tasks on NIO's event loops.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        // Only for the @FastJSON macro (DabbaEventMacros); nothing else depends on it.
        .package(url: "https://github.com/swiftlang/swift-syntax.git", "600.0.1"..<"604.0.0"),
    ],
    targets: [
        // The C library, linked through pkg-config (Debian: librdkafka-dev, Homebrew: librdkafka).
        .systemLibrary(
            name: "CRDKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"]), .brew(["librdkafka"])]
        ),
        // Raw librdkafka producer/consumer loops: the baseline `dabba bench` measures Dabba against.
        .target(
            name: "CDabbaBaseline",
            dependencies: ["CRDKafka"],
            linkerSettings: [.linkedLibrary("rdkafka")]
        ),
        .target(
            name: "DabbaKafka",
            dependencies: [
                "CRDKafka",
                "DabbaSpawn",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // JSON values and a JSON Schema (draft 2020-12 subset) validator; Foundation only.
        .target(name: "DabbaSchema"),
        // The Topics/ catalog: AsyncAPI 3.0 documents → topics, events, groups, retry tiers.
        .target(name: "DabbaCatalog", dependencies: ["DabbaSchema", .product(name: "Yams", package: "Yams")]),
        // Typed events: codecs, the CloudEvents envelope, typed producer and consumption.
        .target(
            name: "DabbaEvents",
            dependencies: [
                "DabbaKafka", "DabbaSchema", "DabbaCatalog",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // @FastJSON: payload decoding generated per type (its compiler plugin needs swift-syntax, so it is a product
        // of its own: DabbaEvents works without it).
        .macro(
            name: "DabbaEventMacrosPlugin",
            dependencies: [
                .product(name: "SwiftSyntax", package: "swift-syntax"),
                .product(name: "SwiftSyntaxBuilder", package: "swift-syntax"),
                .product(name: "SwiftSyntaxMacros", package: "swift-syntax"),
                .product(name: "SwiftDiagnostics", package: "swift-syntax"),
                .product(name: "SwiftCompilerPlugin", package: "swift-syntax"),
            ]
        ),
        .target(name: "DabbaEventMacros", dependencies: ["DabbaEvents", "DabbaEventMacrosPlugin"]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"]), .brew(["sqlite"])]),
        // Durable inbox (idempotent consumers): the store protocol and the embedded SQLite store.
        .target(name: "DabbaInbox", dependencies: ["CSQLite"]),
        .systemLibrary(name: "CLibPQ", pkgConfig: "libpq", providers: [.apt(["libpq-dev"]), .brew(["libpq"])]),
        .target(name: "DabbaInboxPostgres", dependencies: ["DabbaInbox", "CLibPQ"]),
        // A service's HTTP endpoint on Hummingbird 2: /health, /ready, /metrics (swift-prometheus) and extra routes.
        .target(
            name: "DabbaHTTP",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The pipeline runtime: handlers, retries, dead letters, inbox, exactly-once, graceful shutdown.
        .target(
            name: "DabbaPipeline",
            dependencies: [
                "DabbaKafka", "DabbaEvents", "DabbaCatalog", "DabbaInbox", "DabbaSchema",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // Contract checks of a pipeline's Swift event types against the catalog (no Kafka needed).
        .target(name: "DabbaContracts", dependencies: ["DabbaPipeline", "DabbaEvents", "DabbaCatalog", "DabbaSchema"]),
        // The standard options and runner of pipeline executables.
        .target(
            name: "DabbaService",
            dependencies: [
                "DabbaPipeline", "DabbaCatalog", "DabbaContracts", "DabbaEvents", "DabbaInbox", "DabbaInboxPostgres",
                "DabbaKafka", "DabbaHTTP", "DabbaSchema",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // `dabba ui`: the web console (server-rendered pages on Hummingbird 2, assets in the binary).
        .target(
            name: "DabbaConsole",
            dependencies: [
                "DabbaKafka", "DabbaCatalog", "DabbaContracts", "DabbaEvents", "DabbaPipeline", "DabbaSchema",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Test helpers shipped to users: the embedded-Kafka fixture, the pipeline harness, waits with readable
        // failures, and the persistent test broker.
        // Child processes through posix_spawn (Foundation's Process.run() crashes now and then on Linux: see
        // SpawnedProcess), for the CLI, the test helpers and the example drivers.
        .target(name: "DabbaSpawn"),
        .target(
            name: "DabbaTesting",
            dependencies: [
                "DabbaKafka", "DabbaCatalog", "DabbaEvents", "DabbaInbox", "DabbaPipeline", "DabbaSpawn",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // A PostgreSQL server for tests (a throwaway initdb cluster, or DABBA_TEST_POSTGRES_URL), apart from
        // DabbaTesting so that tests without PostgreSQL do not link libpq.
        .target(
            name: "DabbaTestingPostgres", dependencies: ["DabbaTesting", "DabbaInbox", "DabbaInboxPostgres", "DabbaSpawn"]
        ),
        .target(
            name: "DabbaCLI",
            dependencies: [
                "DabbaKafka",
                "DabbaSpawn",
                "DabbaCatalog",
                "DabbaConsole",
                "DabbaContracts",
                "DabbaEvents",
                "DabbaEventMacros",
                "DabbaPipeline",
                "DabbaSchema",
                "DabbaTesting",
                "CDabbaBaseline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(name: "dabba", dependencies: ["DabbaCLI", "DabbaKafka"]),
        // A tiny pipeline service the process-level tests start, kill and restart.
        .executableTarget(
            name: "dabba-pipeline-fixture",
            dependencies: [
                "DabbaPipeline", "DabbaEvents", "DabbaCatalog", "DabbaInbox", "DabbaInboxPostgres", "DabbaKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/Fixtures/PipelineFixture"
        ),
        .executableTarget(
            name: "dabba-service-fixture",
            dependencies: [
                "DabbaService", "DabbaPipeline", "DabbaEvents",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Tests/Fixtures/ServiceFixture"
        ),
        // The payments events of Topics/payments.asyncapi.yaml as Swift types, for the tests and fixtures below.
        .target(
            name: "PaymentsFixtureEvents", dependencies: ["DabbaEvents", "DabbaCatalog"], path: "Tests/Fixtures/PaymentsEvents"
        ),
        // Payments services for the contract tests: one that honours Topics/, one that breaks it on purpose.
        .executableTarget(
            name: "dabba-contract-fixture",
            dependencies: ["DabbaService", "DabbaPipeline", "DabbaEvents", "PaymentsFixtureEvents"],
            path: "Tests/Fixtures/ContractFixture"
        ),
        .executableTarget(
            name: "dabba-broken-contract-fixture",
            dependencies: ["DabbaService", "DabbaPipeline", "DabbaEvents", "PaymentsFixtureEvents"],
            path: "Tests/Fixtures/BrokenContractFixture"
        ),
        // The food-delivery example (Examples/README.md): the domain's events and pure rules, the services' shared
        // runtime (state tracking, load generator, observer), five services, a load generator and the demo.
        .target(name: "FoodDeliveryDomain", dependencies: ["DabbaEvents"], path: "Examples/FoodDelivery/Domain"),
        // What every example system's demo shares (Examples/README.md): services as processes, group joins, progress,
        // chaos (kills and broker faults), reading stores, the summary line and exit codes.
        .target(
            name: "DemoKit",
            dependencies: [
                "DabbaKafka", "DabbaInbox", "DabbaSpawn", .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Examples/DemoKit"
        ),
        // What every example system's services share: their standard options, effect bookkeeping, the arguments
        // demos start them with, and the observer of a system's log.
        .target(
            name: "DemoServiceKit",
            dependencies: [
                "DemoKit", "DabbaKafka", "DabbaInbox", "DabbaPipeline", "DabbaService", "DabbaCatalog", "DabbaEvents",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/DemoServiceKit"
        ),
        // What the example systems' end-to-end tests share: an embedded broker with a system's topics, a work
        // directory, services as processes, one system at a time.
        .target(
            name: "DemoTestKit",
            dependencies: [
                "DemoKit", "DabbaTesting", "DabbaCatalog", "DabbaEvents", "DabbaKafka", "DabbaSpawn",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/DemoTestKit"
        ),
        .target(
            name: "FoodDeliveryRuntime",
            dependencies: [
                "FoodDeliveryDomain", "DemoKit", "DemoServiceKit", "DabbaEvents", "DabbaKafka", "DabbaInbox", "DabbaPipeline", "DabbaService",
                "DabbaCatalog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/FoodDelivery/Runtime"
        ),
        .executableTarget(name: "food-orders", dependencies: foodServiceDependencies, path: "Examples/FoodDelivery/Orders"),
        .executableTarget(name: "food-restaurants", dependencies: foodServiceDependencies, path: "Examples/FoodDelivery/Restaurants"),
        .executableTarget(name: "food-delivery", dependencies: foodServiceDependencies, path: "Examples/FoodDelivery/Delivery"),
        .executableTarget(
            name: "food-notifications", dependencies: foodServiceDependencies, path: "Examples/FoodDelivery/Notifications"
        ),
        .executableTarget(
            name: "food-analytics", dependencies: foodServiceDependencies + [
                "DabbaInboxPostgres", .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Examples/FoodDelivery/Analytics"
        ),
        .executableTarget(name: "food-loadgen", dependencies: foodServiceDependencies, path: "Examples/FoodDelivery/LoadGen"),
        .executableTarget(
            name: "food-demo",
            dependencies: foodServiceDependencies + [
                "food-orders", "food-restaurants", "food-delivery", "food-notifications", "food-analytics",
            ],
            path: "Examples/FoodDelivery/Demo"
        ),
        // The UPI payments example (Examples/README.md): the domain's events and pure rules, the services' shared
        // runtime (the fake bank, the observer, the load), five services and the demo.
        .target(name: "PaymentsDomain", dependencies: ["DabbaEvents", "DemoKit"], path: "Examples/Payments/Domain"),
        .target(
            name: "PaymentsRuntime",
            dependencies: [
                "PaymentsDomain", "DemoKit", "DemoServiceKit", "DabbaEvents", "DabbaKafka", "DabbaInbox", "DabbaPipeline",
                "DabbaCatalog", .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/Payments/Runtime"
        ),
        .executableTarget(name: "upi-gateway", dependencies: paymentsServiceDependencies, path: "Examples/Payments/Gateway"),
        .executableTarget(name: "upi-ledger", dependencies: paymentsServiceDependencies, path: "Examples/Payments/Ledger"),
        .executableTarget(name: "upi-switch", dependencies: paymentsServiceDependencies, path: "Examples/Payments/Switch"),
        .executableTarget(name: "upi-risk", dependencies: paymentsServiceDependencies, path: "Examples/Payments/Risk"),
        .executableTarget(
            name: "upi-analytics", dependencies: paymentsServiceDependencies, path: "Examples/Payments/Analytics"
        ),
        .executableTarget(
            name: "upi-demo",
            dependencies: paymentsServiceDependencies + [
                "dabba", "upi-gateway", "upi-ledger", "upi-switch", "upi-risk", "upi-analytics",
            ],
            path: "Examples/Payments/Demo"
        ),
        .testTarget(
            name: "PaymentsTests",
            dependencies: paymentsServiceDependencies + [
                "DemoTestKit", "DabbaTesting", "DabbaTestingPostgres", "DabbaInboxPostgres", "dabba", "upi-demo", "upi-gateway", "upi-ledger", "upi-switch", "upi-risk", "upi-analytics",
            ]
        ),
        // The IRCTC Tatkal example (Examples/README.md): the domain's events and pure rules, the services' shared
        // runtime (the inventory's store, the observer, the report), five services and the demo.
        .target(name: "TatkalDomain", dependencies: ["DabbaEvents", "DemoKit"], path: "Examples/Tatkal/Domain"),
        .target(
            name: "TatkalRuntime",
            dependencies: [
                "TatkalDomain", "DemoKit", "DemoServiceKit", "DabbaEvents", "DabbaKafka", "DabbaInbox", "DabbaPipeline",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/Tatkal/Runtime"
        ),
        .executableTarget(name: "tatkal-gate", dependencies: tatkalServiceDependencies, path: "Examples/Tatkal/Gate"),
        .executableTarget(
            name: "tatkal-inventory", dependencies: tatkalServiceDependencies, path: "Examples/Tatkal/Inventory"
        ),
        .executableTarget(name: "tatkal-payments", dependencies: tatkalServiceDependencies, path: "Examples/Tatkal/Payments"),
        .executableTarget(
            name: "tatkal-notifications", dependencies: tatkalServiceDependencies, path: "Examples/Tatkal/Notifications"
        ),
        .executableTarget(
            name: "tatkal-analytics", dependencies: tatkalServiceDependencies, path: "Examples/Tatkal/Analytics"
        ),
        .executableTarget(
            name: "tatkal-demo",
            dependencies: tatkalServiceDependencies + [
                "tatkal-gate", "tatkal-inventory", "tatkal-payments", "tatkal-notifications", "tatkal-analytics",
            ],
            path: "Examples/Tatkal/Demo"
        ),
        .testTarget(
            name: "TatkalTests",
            dependencies: tatkalServiceDependencies + [
                "DemoTestKit", "DabbaTesting", "tatkal-gate", "tatkal-inventory", "tatkal-payments", "tatkal-notifications",
                "tatkal-analytics", "tatkal-demo",
            ]
        ),
        // The WhatsApp-style messaging example (Examples/README.md): the domain's events and pure rules, the
        // services' shared runtime (their stores, the observer, the clients, the report), five services and the demo.
        .target(name: "MessagingDomain", dependencies: ["DabbaEvents", "DemoKit"], path: "Examples/Messaging/Domain"),
        .target(
            name: "MessagingRuntime",
            dependencies: [
                "MessagingDomain", "DemoKit", "DemoServiceKit", "DabbaEvents", "DabbaKafka", "DabbaInbox", "DabbaPipeline",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/Messaging/Runtime"
        ),
        .executableTarget(name: "chat-router", dependencies: messagingServiceDependencies, path: "Examples/Messaging/Router"),
        .executableTarget(name: "chat-mailbox", dependencies: messagingServiceDependencies, path: "Examples/Messaging/Mailbox"),
        .executableTarget(
            name: "chat-receipts", dependencies: messagingServiceDependencies, path: "Examples/Messaging/Receipts"
        ),
        .executableTarget(name: "chat-push", dependencies: messagingServiceDependencies, path: "Examples/Messaging/Push"),
        .executableTarget(
            name: "chat-analytics", dependencies: messagingServiceDependencies, path: "Examples/Messaging/Analytics"
        ),
        .executableTarget(
            name: "chat-demo",
            dependencies: messagingServiceDependencies + [
                "chat-router", "chat-mailbox", "chat-receipts", "chat-push", "chat-analytics",
            ],
            path: "Examples/Messaging/Demo"
        ),
        .testTarget(
            name: "MessagingTests",
            dependencies: messagingServiceDependencies + [
                "DemoTestKit", "DabbaTesting", "chat-router", "chat-mailbox", "chat-receipts", "chat-push",
                "chat-analytics", "chat-demo",
            ]
        ),
        // The Ola-style rides example (Examples/README.md): the domain's events and pure rules, the services' shared
        // runtime (dispatch's store, the observer, the report), five services and the demo.
        .target(name: "RidesDomain", dependencies: ["DabbaEvents", "DemoKit"], path: "Examples/Rides/Domain"),
        .target(
            name: "RidesRuntime",
            dependencies: [
                "RidesDomain", "DemoKit", "DemoServiceKit", "DabbaEvents", "DabbaKafka", "DabbaInbox", "DabbaPipeline",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/Rides/Runtime"
        ),
        .executableTarget(name: "rides-dispatch", dependencies: rideServiceDependencies, path: "Examples/Rides/Dispatch"),
        .executableTarget(name: "rides-surge", dependencies: rideServiceDependencies, path: "Examples/Rides/Surge"),
        .executableTarget(name: "rides-trips", dependencies: rideServiceDependencies, path: "Examples/Rides/Trips"),
        .executableTarget(
            name: "rides-notifications", dependencies: rideServiceDependencies, path: "Examples/Rides/Notifications"
        ),
        .executableTarget(name: "rides-analytics", dependencies: rideServiceDependencies, path: "Examples/Rides/Analytics"),
        .executableTarget(
            name: "rides-demo",
            dependencies: rideServiceDependencies + [
                "rides-dispatch", "rides-surge", "rides-trips", "rides-notifications", "rides-analytics",
            ],
            path: "Examples/Rides/Demo"
        ),
        .testTarget(
            name: "RidesTests",
            dependencies: rideServiceDependencies + [
                "DemoTestKit", "DabbaTesting", "rides-demo", "rides-dispatch", "rides-surge", "rides-trips",
                "rides-notifications", "rides-analytics",
            ]
        ),
        // The Mumbai traffic example (Examples/README.md): reports, the status rule, two services and the demo.
        .target(name: "TrafficDomain", dependencies: ["DabbaEvents", "DemoKit"], path: "Examples/Traffic/Domain"),
        .target(
            name: "TrafficRuntime",
            dependencies: [
                "TrafficDomain", "DemoKit", "DemoServiceKit", "DabbaEvents", "DabbaKafka", "DabbaInbox", "DabbaPipeline",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Examples/Traffic/Runtime"
        ),
        .executableTarget(name: "traffic-status", dependencies: trafficServiceDependencies, path: "Examples/Traffic/Status"),
        .executableTarget(name: "traffic-alerts", dependencies: trafficServiceDependencies, path: "Examples/Traffic/Alerts"),
        .executableTarget(
            name: "traffic-demo", dependencies: trafficServiceDependencies + ["traffic-status", "traffic-alerts"],
            path: "Examples/Traffic/Demo"
        ),
        .testTarget(
            name: "TrafficTests",
            dependencies: trafficServiceDependencies + [
                "DemoTestKit", "DabbaTesting", "traffic-status", "traffic-alerts", "traffic-demo",
            ]
        ),
        .testTarget(
            name: "FoodDeliveryTests",
            dependencies: foodServiceDependencies + [
                "DemoTestKit", "DabbaSchema", "DabbaInboxPostgres", "DabbaTesting", "DabbaTestingPostgres",
                "food-orders", "food-restaurants", "food-delivery", "food-notifications", "food-analytics", "food-demo",
            ]
        ),
        .testTarget(
            name: "DabbaKafkaTests",
            dependencies: [
                "DabbaKafka",
                "DabbaSpawn",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                "DabbaTesting",
            ]
        ),
        // Runs the built `dabba` executable as a subprocess (depending on it makes `swift test` build it).
        .testTarget(
            name: "DabbaCLITests",
            dependencies: [
                "DabbaCLI", "DabbaKafka", "DabbaTesting", "DabbaSpawn", "dabba", "dabba-contract-fixture", "dabba-broken-contract-fixture",
            ]
        ),
        .testTarget(name: "DabbaSchemaTests", dependencies: ["DabbaSchema"]),
        .testTarget(
            name: "DabbaConsoleTests",
            dependencies: [
                "DabbaConsole", "DabbaCatalog", "DabbaEvents", "DabbaHTTP", "DabbaKafka", "DabbaPipeline", "DabbaSchema",
                "DabbaTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        .testTarget(
            name: "DabbaHTTPTests",
            dependencies: [
                "DabbaHTTP",
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // PipelineOptions parsing and the Kafka settings every pipeline executable derives from them.
        .testTarget(
            name: "DabbaServiceTests",
            dependencies: [
                "DabbaService", "DabbaKafka", "DabbaTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(
            name: "DabbaTestingTests",
            dependencies: [
                "DabbaTesting", "DabbaPipeline", "DabbaEvents", "DabbaCatalog", "DabbaKafka", "DabbaInbox",
                "DabbaSpawn", "PaymentsFixtureEvents",
            ]
        ),
        .testTarget(
            name: "DabbaContractsTests",
            dependencies: [
                "DabbaContracts", "DabbaPipeline", "DabbaEvents", "DabbaCatalog", "DabbaSchema", "PaymentsFixtureEvents",
            ]
        ),
        .testTarget(
            name: "DabbaCatalogTests",
            dependencies: ["DabbaCatalog"],
            resources: [.copy("Fixtures")]
        ),
        .testTarget(
            name: "DabbaPipelineTests",
            dependencies: [
                "DabbaPipeline", "DabbaEvents", "DabbaKafka", "DabbaInbox", "DabbaSchema", "DabbaTesting",
                "DabbaInboxPostgres", "DabbaTestingPostgres",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                // The flow-control tests pause groups with `dabba group pause`.
                "dabba",
            ]
        ),
        .testTarget(
            name: "DabbaEventsTests",
            dependencies: ["DabbaEvents", "DabbaKafka", "DabbaCatalog", "DabbaTesting", "PaymentsFixtureEvents"]
        ),
        .testTarget(
            name: "DabbaEventMacrosTests",
            dependencies: [
                "DabbaEventMacros", "DabbaEventMacrosPlugin", "DabbaEvents",
                .product(name: "SwiftSyntaxMacrosGenericTestSupport", package: "swift-syntax"),
                .product(name: "SwiftSyntaxMacroExpansion", package: "swift-syntax"),
            ]
        ),
        .testTarget(
            name: "DemoKitTests",
            dependencies: [
                "DemoKit", "DabbaKafka", .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(name: "DabbaInboxTests", dependencies: ["DabbaInbox", "DabbaInboxPostgres", "DabbaTestingPostgres"]),
        // Fuzz targets for what reads untrusted bytes (Docs/testing.md): each target's checks live once in
        // DabbaFuzzTargets; `dabba-fuzz` runs them under libFuzzer (`make fuzz` instruments and links it; an ordinary
        // build only replays inputs) and DabbaFuzzTests on seeded random inputs and the saved corpus.
        .target(
            name: "DabbaFuzzTargets",
            dependencies: ["DabbaCatalog", "DabbaEvents", "DabbaKafka", "DabbaPipeline", "DabbaSchema"],
            path: "Fuzz/Targets"
        ),
        .target(name: "CDabbaFuzzer", path: "Fuzz/CDriver"),
        .executableTarget(name: "dabba-fuzz", dependencies: ["DabbaFuzzTargets", "CDabbaFuzzer"], path: "Fuzz/Driver"),
        .testTarget(
            name: "DabbaFuzzTests",
            dependencies: [
                "DabbaFuzzTargets", "DabbaCatalog", "DabbaEvents", "DabbaKafka", "DabbaPipeline", "DabbaSchema",
            ]
        ),
    ]
)


/// What every food-delivery executable links.
var foodServiceDependencies: [Target.Dependency] {
    [
        "FoodDeliveryDomain", "FoodDeliveryRuntime", "DemoKit", "DemoServiceKit", "DabbaService", "DabbaPipeline", "DabbaEvents", "DabbaKafka",
        "DabbaInbox", "DabbaCatalog",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
    ]
}

/// What every payments executable links.
var paymentsServiceDependencies: [Target.Dependency] {
    [
        "PaymentsDomain", "PaymentsRuntime", "DemoKit", "DemoServiceKit", "DabbaService", "DabbaPipeline", "DabbaEvents",
        "DabbaKafka", "DabbaInbox", "DabbaCatalog",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
    ]
}

/// What every Tatkal executable links.
var tatkalServiceDependencies: [Target.Dependency] {
    [
        "TatkalDomain", "TatkalRuntime", "DemoKit", "DemoServiceKit", "DabbaService", "DabbaPipeline", "DabbaEvents",
        "DabbaKafka", "DabbaInbox", "DabbaCatalog",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
    ]
}

/// What every messaging executable links.
var messagingServiceDependencies: [Target.Dependency] {
    [
        "MessagingDomain", "MessagingRuntime", "DemoKit", "DemoServiceKit", "DabbaService", "DabbaPipeline",
        "DabbaEvents", "DabbaKafka", "DabbaInbox", "DabbaCatalog",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
    ]
}

/// What every rides executable links.
var rideServiceDependencies: [Target.Dependency] {
    [
        "RidesDomain", "RidesRuntime", "DemoKit", "DemoServiceKit", "DabbaService", "DabbaPipeline", "DabbaEvents",
        "DabbaKafka", "DabbaInbox", "DabbaCatalog",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
    ]
}

/// What every traffic executable links.
var trafficServiceDependencies: [Target.Dependency] {
    [
        "TrafficDomain", "TrafficRuntime", "DemoKit", "DemoServiceKit", "DabbaService", "DabbaPipeline", "DabbaEvents",
        "DabbaKafka", "DabbaInbox", "DabbaCatalog",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
    ]
}
