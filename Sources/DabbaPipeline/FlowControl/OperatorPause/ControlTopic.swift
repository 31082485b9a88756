import DabbaKafka
import Foundation
import Logging

/// The compacted topic through which operators pause and resume consumer groups (`dabba group pause`, the services'
/// `POST /pause`): one record per group, keyed by the group id; the latest record of a group is its state.
///
/// Every pipeline instance reads it from the beginning and follows it, without a consumer group, so instances started
/// later and restarted ones obey the latest state. The topic has one partition and `cleanup.policy=compact`; it is
/// created by the first pause or resume (with the admin API, or by the broker's auto-creation where there is none).
public struct ControlTopic: Sendable {
    /// The default name, `dabba.control`.
    public static let defaultName = "dabba.control"
    /// The environment variable naming the topic when no option does: `DABBA_CONTROL_TOPIC`.
    public static let environmentVariable = "DABBA_CONTROL_TOPIC"

    /// The topic's name.
    public let name: String
    /// Connection settings.
    public let client: ClientConfiguration
    let logger: Logger

    /// The topic name from an option, else `DABBA_CONTROL_TOPIC`, else `dabba.control`.
    /// - Parameters:
    ///   - option: The value of a `--control-topic` option, if given.
    ///   - environment: The process environment.
    /// - Returns: The name.
    public static func resolvedName(
        option: String?, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        if let option, !option.isEmpty { return option }
        if let named = environment[environmentVariable], !named.isEmpty { return named }
        return defaultName
    }

    /// Creates a handle on the topic; nothing connects yet.
    /// - Parameters:
    ///   - name: The topic's name.
    ///   - client: Connection settings.
    ///   - logger: Where the clients log.
    public init(name: String, client: ClientConfiguration, logger: Logger = Logger(label: "dabba.control")) {
        self.name = name
        self.client = client
        self.logger = logger
    }

    /// Publishes a group's state and waits for the broker's acknowledgement, creating the topic if it is missing.
    /// - Parameters:
    ///   - state: The state.
    ///   - group: The consumer group.
    /// - Throws: ``KafkaError`` when the topic cannot be created or the record is not acknowledged.
    public func publish(_ state: OperatorPauseState, group: String) async throws {
        try await ensureExists()
        let producer = try KafkaProducer(configuration: ProducerConfiguration(client: client), logger: logger)
        do {
            _ = try await producer.send(ProducerMessage(topic: name, key: Array(group.utf8), value: state.json))
            try await producer.close(timeout: .seconds(10))
        } catch {
            try? await producer.close(timeout: .seconds(1))
            throw error
        }
    }

    /// The latest state of every group that has one.
    /// - Parameter timeout: How long reading to the end may take.
    /// - Returns: The states by group id; empty if the topic does not exist.
    /// - Throws: ``KafkaError`` when the brokers cannot be read.
    public func states(timeout: Duration = .seconds(30)) async throws -> [String: OperatorPauseState] {
        let reader = try KafkaTailReader(configuration: client, logger: logger)
        let starts = try await reader.partitionEnds(topic: name, timeout: timeout).map {
            TopicPartitionOffset(topic: $0.topic, partition: $0.partition, offset: 0)
        }
        var states: [String: OperatorPauseState] = [:]
        for record in try await reader.records(from: starts, timeout: timeout) {
            guard let key = record.key.map({ String(decoding: $0, as: UTF8.self) }) else { continue }
            states[key] = record.value.flatMap(OperatorPauseState.decode)
        }
        return states
    }

    /// Creates the topic (one partition, compacted) unless it exists. Without the admin API (the embedded broker)
    /// the broker creates it on the first record.
    func ensureExists() async throws {
        let metadata = try KafkaMetadata(configuration: client, logger: logger)
        guard try await metadata.topicPartitionCount(topic: name) == nil else { return }
        let admin = try KafkaAdmin(configuration: client, logger: logger)
        do {
            try await admin.createTopics(
                [NewTopic(name: name, partitions: 1, configs: ["cleanup.policy": "compact"])]
            )
            logger.info("created the control topic \(name)")
        } catch let error as KafkaError where error.code == .topicAlreadyExists || error.code == .unsupportedByBroker {
            // Created meanwhile by another operator, or a broker that creates topics on first use.
        }
    }
}
