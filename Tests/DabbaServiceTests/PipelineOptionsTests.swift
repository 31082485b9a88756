import ArgumentParser
import DabbaKafka
import DabbaPipeline
import DabbaTesting
import Foundation
import Logging
import Testing

@testable import DabbaService

@Suite("PipelineOptions parsing (no broker)")
struct PipelineOptionsTests {
    @Test("--metrics-port takes a port, 0, off, and -1 with or without '='")
    func metricsPort() throws {
        #expect(try PipelineOptions.parse([]).metricsPort == 0)
        #expect(try PipelineOptions.parse(["--metrics-port", "9100"]).metricsPort == 9100)
        #expect(try PipelineOptions.parse(["--metrics-port", "0"]).metricsPort == 0)
        #expect(try PipelineOptions.parse(["--metrics-port", "off"]).metricsPort == -1)
        #expect(try PipelineOptions.parse(["--metrics-port", "OFF"]).metricsPort == -1)
        #expect(try PipelineOptions.parse(["--metrics-port", "-1"]).metricsPort == -1)
        #expect(try PipelineOptions.parse(["--metrics-port=-1"]).metricsPort == -1)
        #expect(try PipelineOptions.parse(["--metrics-port", "-1", "--log-level", "debug"]).logLevel == "debug")
        for bad in [["--metrics-port", "-2"], ["--metrics-port", "65536"], ["--metrics-port", "soon"]] {
            let error = try #require(throws: (any Error).self) { try PipelineOptions.parse(bad) }
            let message = PipelineOptions.message(for: error)
            #expect(message.contains("--metrics-port"), "\(bad): \(message)")
            #expect(message.contains("off"), "\(bad): \(message)")
        }
    }

    @Test("flow-control options parse into typed settings; bad values name the option")
    func flowControlOptions() throws {
        let options = try PipelineOptions.parse([
            "--rate-limit", "250", "--partition-rate-limit", "50.5", "--rate-burst", "20", "--max-buffered-bytes",
            "32MiB", "--control-topic", "ops.control",
        ])
        #expect(try options.resolvedThrottle() == ThrottleConfiguration(
            eventsPerSecond: 250, eventsPerSecondPerPartition: 50.5, burst: 20
        ))
        #expect(try options.resolvedFetchBudget().maxBufferedBytes == 32 << 20)
        #expect(options.resolvedControlTopic == "ops.control")
        #expect(try PipelineOptions.parse(["--control-topic", "off"]).resolvedControlTopic == nil)
        #expect(try PipelineOptions.parse([]).resolvedFetchBudget() == FetchBudget())
        let refused: [([String], String)] = [
            (["--rate-limit", "0"], "--rate-limit"),
            (["--rate-limit", "fast"], "--rate-limit"),
            (["--partition-rate-limit", "-3"], "--partition-rate-limit"),
            (["--rate-burst", "10"], "--rate-burst"),
            (["--rate-limit", "5", "--rate-burst", "0"], "--rate-burst"),
            (["--max-buffered-bytes", "lots"], "--max-buffered-bytes"),
            (["--max-buffered-bytes", "1MiB"], "--max-buffered-bytes"),
            (["--max-buffered-bytes", "8MiB", "--property", "fetch.max.bytes=1000000"], "fetch.max.bytes"),
        ]
        for (arguments, named) in refused {
            let error = try #require(throws: (any Error).self) { try PipelineOptions.parse(arguments) }
            let message = PipelineOptions.message(for: error)
            #expect(message.contains(named), "\(arguments): \(message)")
        }
    }

    @Test("--timer-time-scale and DABBA_TIMER_TIME_SCALE set the timers' time scale; bad values name their source")
    func timerTimeScale() throws {
        #expect(try PipelineOptions.parse([]).resolvedTimerTimeScale(environment: [:]) == 1)
        #expect(try PipelineOptions.parse(["--timer-time-scale", "100"]).resolvedTimerTimeScale(environment: [:]) == 100)
        let fromEnvironment = try PipelineOptions.parse([]).resolvedTimerTimeScale(
            environment: ["DABBA_TIMER_TIME_SCALE": "2.5"]
        )
        #expect(fromEnvironment == 2.5)
        let optionWins = try PipelineOptions.parse(["--timer-time-scale", "10"]).resolvedTimerTimeScale(
            environment: ["DABBA_TIMER_TIME_SCALE": "2.5"]
        )
        #expect(optionWins == 10)
        let error = try #require(throws: (any Error).self) { try PipelineOptions.parse(["--timer-time-scale", "0"]) }
        #expect(PipelineOptions.message(for: error).contains("--timer-time-scale"))
        #expect(throws: (any Error).self) {
            try PipelineOptions.parse([]).resolvedTimerTimeScale(environment: ["DABBA_TIMER_TIME_SCALE": "fast"])
        }
    }

    @Test("options that an inbox would make meaningless are refused with the fix named, not ignored")
    func refusedCombinations() throws {
        let refused: [([String], String)] = [
            (["--exactly-once", "--instance-id", "one"], "--exactly-once"),
            (["--exactly-once", "--instance-id", "one", "--inbox", "sqlite:x.sqlite"], "--exactly-once"),
            (["--concurrency", "key:4"], "--concurrency key:N"),
            (["--inbox", "none", "--inbox-retention", "1d"], "--inbox-retention"),
        ]
        for (arguments, named) in refused {
            let error = try #require(throws: (any Error).self) { try PipelineOptions.parse(arguments) }
            let message = PipelineOptions.message(for: error)
            #expect(message.contains(named), "\(arguments): \(message)")
            #expect(message.contains("--inbox"), "\(arguments): \(message)")
        }
        _ = try PipelineOptions.parse(["--exactly-once", "--instance-id", "one", "--inbox", "none"])
        _ = try PipelineOptions.parse(["--concurrency", "key:4", "--inbox", "none"])
        _ = try PipelineOptions.parse(["--inbox-retention", "1d"])
    }

    @Test("--help shows the off value and no secret from the environment")
    func help() {
        let help = PipelineOptions.helpMessage()
        #expect(help.contains("--metrics-port <port|off>"), "\(help)")
        #expect(help.contains("--property <key=value>"))
        #expect(help.contains("--config <file>"))
    }

    @Test("--property and --config reach the Kafka settings with the documented precedence")
    func kafkaProperties() throws {
        let file = FileManager.default.temporaryDirectory
            .appendingPathComponent("dabba-\(UUID().uuidString).properties")
        try Data("bootstrap.servers=file:9092\nlinger.ms=1\nacks=1\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let options = try PipelineOptions.parse(["--config", file.path, "--property", "linger.ms=3"])
        let gathered = try options.kafkaProperties(
            environment: ["DABBA_KAFKA_ACKS": "all", "DABBA_KAFKA_LINGER_MS": "2"]
        )
        #expect(gathered.bootstrapServers == "file:9092")
        #expect(
            gathered.entries.mapValues(\.value) == ["bootstrap.servers": "file:9092", "linger.ms": "3", "acks": "all"]
        )

        let withBootstrap = try PipelineOptions.parse(["-b", "cli:9092", "--config", file.path])
        #expect(try withBootstrap.kafkaProperties(environment: [:]).bootstrapServers == "cli:9092")
    }

    @Test("a malformed --property is rejected at parse time, naming the option")
    func malformedProperty() throws {
        let error = try #require(throws: (any Error).self) {
            try PipelineOptions.parse(["--property", "linger.ms"])
        }
        #expect(PipelineOptions.message(for: error).contains("--property: 'linger.ms' is not KEY=VALUE"))
    }

    @Test("the service's client settings carry every property, validated, and the log line redacts secrets")
    func serviceClient() throws {
        let recorder = LogRecorder()
        var logger = Logger(label: "test") { _ in recorder }
        logger.logLevel = .debug
        let options = try PipelineOptions.parse([
            "-b", "127.0.0.1:9092", "--property", "security.protocol=sasl_ssl", "--property", "sasl.mechanism=PLAIN",
            "--property", "sasl.username=key", "--property", "sasl.password=Service-Secret-123",
        ])
        let client = try PipelineService.kafkaClient(options, clientID: "svc-1", logger: logger)
        #expect(client.bootstrapServers == ["127.0.0.1:9092"])
        #expect(client.clientID == "svc-1")
        #expect(client.properties["sasl.password"] == "Service-Secret-123")
        #expect(client.properties["security.protocol"] == "sasl_ssl")
        let logged = recorder.messages.joined(separator: "\n")
        #expect(logged.contains("sasl.password=[redacted]"), "\(logged)")
        #expect(!logged.contains("Service-Secret-123"))

        let invalid = try PipelineOptions.parse(["-b", "a:1", "--property", "sasl.password.typo=Service-Secret-123"])
        let error = try #require(throws: KafkaError.self) {
            try PipelineService.kafkaClient(invalid, clientID: "svc", logger: logger)
        }
        #expect(error.message.hasPrefix("invalid librdkafka property 'sasl.password.typo' (from --property): "))
        #expect(!"\(error)".contains("Service-Secret-123"))

        let missing = try PipelineOptions.parse(["--property", "linger.ms=1"])
        #expect(throws: ValidationError.self) {
            try PipelineService.kafkaClient(missing, clientID: "svc", logger: logger)
        }
    }
}

/// Keeps the messages logged through it.
final class LogRecorder: LogHandler, @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    var messages: [String] { lock.withLock { recorded } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        lock.withLock { recorded.append("\(event.message)") }
    }
}

@Suite("--breaker")
struct BreakerOptionTests {
    static func pipeline() -> Pipeline {
        var pipeline = Pipeline(service: "payments", groupID: "payments")
        pipeline.breaker("bank", CircuitBreakerConfiguration(window: 40))
        return pipeline
    }

    @Test("tunes a declared breaker over its declared settings")
    func tunes() throws {
        let options = try PipelineOptions.parse(["--breaker", "bank:min-calls=30,open=20s,scope=consumer"])
        let bank = try #require(try options.resolvedBreakers(for: Self.pipeline())["bank"])
        #expect(bank.window == 40 && bank.minimumCalls == 30)
        #expect(bank.openDuration == .seconds(20))
        #expect(bank.scope == .consumer)
    }

    @Test(
        "bad values, unknown keys, repeats and undeclared breakers are refused, naming the option and the bad part",
        arguments: [
            (["--breaker", "bank:open=10"], "--breaker bank:open=10: open=10: expected a duration"),
            (["--breaker", "bank:retries=3"], "--breaker bank:retries=3: unknown setting 'retries'"),
            (["--breaker", "bank:open=1s", "--breaker", "bank:probes=2"], "--breaker bank is given twice"),
            (["--breaker", "open=1s"], "must start with the breaker's name"),
        ]
    )
    func refusesAtParse(arguments: [String], message: String) {
        do {
            _ = try PipelineOptions.parse(arguments)
            Issue.record("\(arguments) was accepted")
        } catch {
            #expect(PipelineOptions.message(for: error).contains(message), "\(PipelineOptions.message(for: error))")
        }
    }

    @Test("a breaker the service does not declare is refused, listing the declared ones")
    func refusesUndeclared() throws {
        let options = try PipelineOptions.parse(["--breaker", "bnak:open=1s"])
        #expect {
            try options.resolvedBreakers(for: Self.pipeline())
        } throws: { error in
            "\(error)".contains("declares no circuit breaker named 'bnak' (declared: bank)")
        }
    }
}
