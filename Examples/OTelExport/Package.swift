// swift-tools-version:6.2
// An application exporting Dabba's traces and metrics over OTLP with swift-otel (README.md). A package of its own,
// so that the root package, `make test` and every other build never compile swift-otel and its dependencies
// (AsyncHTTPClient, SwiftProtobuf, swift-nio-ssl, …).
import PackageDescription

let package = Package(
    name: "OTelExport",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "orders-otel", targets: ["OrdersOTel"]),
    ],
    dependencies: [
        // The Dabba checkout this example lives in.
        .package(name: "Dabba", path: "../.."),
        // Only the OTLP/HTTP exporter: the default traits would also build gRPC (grpc-swift-2 and its transport).
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        // The same packages Dabba uses (same URLs, so SwiftPM sees one package each).
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.7.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        .executableTarget(
            name: "OrdersOTel",
            dependencies: [
                .product(name: "DabbaService", package: "Dabba"),
                .product(name: "DabbaPipeline", package: "Dabba"),
                .product(name: "DabbaEvents", package: "Dabba"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
    ]
)
