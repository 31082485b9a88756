import DabbaCatalog
import DabbaKafka
import Foundation

/// The cluster as `dabba topics plan` and `apply` see it: reads a ``ClusterTopic`` snapshot and makes changes through
/// ``KafkaAdmin``, turning its errors into the CLI's messages.
struct TopicsCluster {
    /// The admin APIs `plan` and `apply` use besides metadata, for the message about a broker that lacks them.
    static let adminAPIs = "CreateTopics, CreatePartitions, DescribeConfigs, AlterConfigs and DeleteTopics"

    let admin: KafkaAdmin
    let servers: String
    /// The time limit of each request to the cluster.
    let timeout: Duration
    /// `timeout` as the user typed it, for messages.
    let timeoutText: String

    /// Creates the admin client (connecting happens in the background).
    /// - Throws: ``CLIError`` for an invalid `--property`.
    init(connection: ConnectionOptions, timeout seconds: Double) throws {
        let configuration = try connection.clientConfiguration()
        do {
            admin = try KafkaAdmin(configuration: configuration, logger: connection.logger(label: "dabba.topics"))
        } catch let error as KafkaError {
            throw CLIError(error.cliDescription)
        }
        servers = configuration.bootstrapServers.joined(separator: ",")
        timeout = .cliSeconds(seconds)
        timeoutText = formatSeconds(seconds)
    }

    /// The cluster's topics that matter to `catalog`: all non-internal topics, with the current values of their
    /// configs for the catalog topics that declare configs.
    ///
    /// It always makes at least one DescribeConfigs request, even when no catalog topic exists yet: a plan that
    /// creates everything would otherwise succeed against a broker without admin APIs (the embedded broker), and
    /// only `apply` would find out.
    /// - Throws: ``CLIError`` naming the unreachable brokers, an admin API the broker lacks, or another failure.
    func snapshot(of catalog: Catalog) async throws -> [ClusterTopic] {
        let described: [TopicDescription]
        do {
            described = try await admin.describeTopics(nil, timeout: timeout)
        } catch let error as KafkaError where error.code == .brokerUnreachable || error.code == .timedOut {
            throw CLIError(
                "could not reach Kafka at \(servers) within \(timeoutText): broker unreachable or not responding "
                    + "(\(error.cliDescription)); check -b/--bootstrap or "
                    + "$\(ConnectionOptions.bootstrapEnvironmentVariable)"
            )
        } catch let error as KafkaError {
            throw cliError(error)
        }
        var topics = Dictionary(
            described.map { ($0.name, ClusterTopic(description: $0)) },
            uniquingKeysWith: { first, _ in first }
        )
        // Metadata lists only topics without a topic-level error; a topic created a moment ago may still report
        // LEADER_NOT_AVAILABLE. Ask for each missing catalog topic by name so "exists" is never taken for "missing".
        for topic in catalog.allTopics where topics[topic.name] == nil {
            if let found = try await describeIfExists(topic.name) {
                topics[topic.name] = ClusterTopic(description: found)
            }
        }
        var describedConfigs = false
        for topic in catalog.allTopics where !topic.configs.isEmpty {
            guard var current = topics[topic.name] else { continue }
            let entries = try await run { try await admin.describeTopicConfigs(topic.name, timeout: timeout) }
            current.configs = entries.compactMapValues(\.value)
            topics[topic.name] = current
            describedConfigs = true
        }
        if !describedConfigs, let probe = catalog.allTopics.first?.name {
            do {
                _ = try await admin.describeTopicConfigs(probe, timeout: timeout)
            } catch let error as KafkaError where error.code == .unsupportedByBroker {
                throw cliError(error)
            } catch {
                // Any other answer (the topic does not exist yet) shows that the broker has the API.
            }
        }
        return topics.values.sorted { $0.name < $1.name }
    }

    /// The topic's metadata, or nil when it does not exist; retries briefly while its metadata has a retriable
    /// error (a topic just created).
    private func describeIfExists(_ name: String) async throws -> TopicDescription? {
        var attempt = 0
        while true {
            do {
                return try await admin.describeTopics([name], timeout: timeout).first
            } catch let error as KafkaError where error.code == .unknownTopicOrPartition {
                return nil
            } catch let error as KafkaError where error.isRetriable && attempt < 10 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(200))
            } catch let error as KafkaError {
                throw cliError(error)
            }
        }
    }

    /// Runs an admin call, turning a ``KafkaError`` into a ``CLIError``.
    func run<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as KafkaError {
            throw cliError(error)
        }
    }

    /// The CLI's message for an admin failure; for a broker without the API, what to do instead.
    func cliError(_ error: KafkaError) -> CLIError {
        guard error.code == .unsupportedByBroker else { return CLIError(error.cliDescription) }
        return CLIError(
            "\(error.cliDescription) at \(servers); dabba topics needs Kafka's admin APIs (\(Self.adminAPIs)). "
                + "The embedded broker (dabba broker) implements none of them: start it with "
                + "`dabba broker --catalog DIR` to create the catalog's topics instead"
        )
    }
}

extension ClusterTopic {
    /// A topic from the cluster's metadata, without configs.
    init(description: TopicDescription) {
        self.init(
            name: description.name,
            partitions: description.partitions.count,
            replicationFactor: description.replicationFactor
        )
    }
}
