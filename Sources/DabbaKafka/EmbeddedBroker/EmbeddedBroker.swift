internal import CRDKafka
internal import DabbaSpawn
import Dispatch
import Logging
import Synchronization

/// An in-process Kafka cluster: librdkafka's mock cluster, speaking the real Kafka protocol on loopback ports.
///
/// For tests and local runs with no Docker and no JVM. It implements Produce, Fetch, ListOffsets, Metadata, the
/// consumer-group APIs, InitProducerId and the transaction calls, with fault injection (request errors, brokers
/// down and up, round-trip delay).
///
/// Calls that change the cluster (creating a topic, a broker down or up, a leader moved) are `async`: librdkafka
/// hands each one to the cluster's thread and waits for its answer, which librdkafka 2.0 sometimes gives only at
/// that thread's next one-second poll (a wake-up lost between two calls). They wait on a thread of the broker's
/// own, never on Swift's cooperative pool.
///
/// Limits: everything is in memory and gone when the broker stops; it keeps roughly the newest 5 MiB (or 100,000
/// messages) per partition; it does not implement the admin APIs (CreateTopics, DeleteTopics, CreatePartitions,
/// DescribeConfigs, ListGroups, DescribeGroups, DeleteRecords), so create topics with ``createTopic(_:partitions:replicationFactor:)``;
/// its transactions are only a call flow (aborted records stay visible, transactional offsets are not stored).
public final class EmbeddedBroker: Sendable {
    private let client: RDKafkaClient
    private let cluster: UnsafeSendable<OpaquePointer>
    /// The cluster's one owner: every call on it (and its destruction) runs here, in order, off the cooperative pool
    /// (a serial queue runs on libdispatch's overcommit threads, not on the pool's).
    private let owner = DispatchQueue(label: "dabba.embedded-broker")
    private let stopped = Mutex<Bool>(false)
    /// How many brokers the cluster has (ids 1...brokerCount).
    public let brokerCount: Int
    /// The `host:port,...` list to bootstrap clients with.
    public let bootstrapServers: String

    /// Starts a cluster.
    /// - Parameters:
    ///   - brokers: How many brokers (each on its own loopback port).
    ///   - logger: Where the cluster's librdkafka log lines go.
    /// - Throws: ``KafkaError`` `embeddedBroker` if the cluster cannot start.
    public init(brokers: Int = 1, logger: Logger = Logger(label: "dabba.embedded-broker")) throws {
        guard brokers >= 1 else { throw KafkaError(.invalidArgument, "the embedded broker needs at least 1 broker") }
        // The mock cluster is owned by a client handle; a minimal producer handle hosts it.
        let client = try RDKafkaClient.make(
            kind: .producer,
            properties: [("bootstrap.servers", ""), ("log_level", "3")],
            callbacks: ClientCallbacks(logger: logger)
        )
        guard let cluster = rd_kafka_mock_cluster_new(client.pointer, Int32(brokers)) else {
            throw KafkaError(.embeddedBroker, "librdkafka could not start a mock cluster with \(brokers) brokers")
        }
        self.client = client
        self.cluster = UnsafeSendable(cluster)
        self.brokerCount = brokers
        self.bootstrapServers = rd_kafka_mock_cluster_bootstraps(cluster).map { String(cString: $0) } ?? ""
    }

    deinit {
        stop()
    }

    /// Stops the cluster and closes its ports, after the calls already made on it. Returns without waiting: the
    /// cluster is destroyed on the broker's own thread. Called automatically when the broker is released.
    public func stop() {
        let alreadyStopped = stopped.withLock { stopped in
            defer { stopped = true }
            return stopped
        }
        guard !alreadyStopped else { return }
        // Destroying the cluster waits for its thread to end. The handle hosting it must outlive it: captured.
        let cluster = self.cluster
        let client = self.client
        owner.async {
            rd_kafka_mock_cluster_destroy(cluster.value)
            withExtendedLifetime(client) {}
        }
    }

    /// Stops the cluster (see ``stop()``) and returns once it is destroyed: its ports closed, its thread ended.
    public func shutDown() async {
        stop()
        // The broker's queue is serial: this runs after the destruction `stop()` queued.
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            owner.async { continuation.resume() }
        }
    }

    /// Runs a mock-cluster call that waits for the cluster thread's answer, on the broker's own thread.
    private func perform(_ action: String, _ call: @escaping @Sendable (OpaquePointer) -> rd_kafka_resp_err_t)
        async throws
    {
        let result = try await withCheckedThrowingContinuation {
            (continuation: CheckedContinuation<rd_kafka_resp_err_t, any Error>) in
            // Checked here, in order with `stop()`'s destruction: a call queued after it never touches the cluster.
            owner.async { [self] in
                guard !stopped.withLock({ $0 }) else {
                    continuation.resume(throwing: KafkaError(.closed, "embedded broker is stopped: cannot \(action)"))
                    return
                }
                continuation.resume(returning: call(cluster.value))
            }
        }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(responseCode: result, context: "embedded broker could not \(action)")
        }
    }

    /// Creates a topic (the mock cluster's own call: the embedded broker has no CreateTopics API).
    /// - Parameters:
    ///   - name: The topic name.
    ///   - partitions: The partition count.
    ///   - replicationFactor: Replicas per partition (at most ``brokerCount``).
    /// - Throws: ``KafkaError`` if the topic cannot be created (for example it already exists).
    public func createTopic(_ name: String, partitions: Int32, replicationFactor: Int32 = 1) async throws {
        guard partitions >= 1 else {
            throw KafkaError(.invalidArgument, "topic '\(name)' needs at least 1 partition, not \(partitions)")
        }
        guard replicationFactor >= 1, replicationFactor <= Int32(brokerCount) else {
            throw KafkaError(
                .invalidArgument,
                "topic '\(name)': replication factor \(replicationFactor) needs 1...\(brokerCount) brokers"
            )
        }
        do {
            try await perform("create topic '\(name)'") {
                rd_kafka_mock_topic_create($0, name, partitions, replicationFactor)
            }
        } catch var error as KafkaError {
            error.topic = name
            throw error
        }
    }

    /// Takes a broker down: its connections close and it refuses new ones until ``setBrokerUp(_:)``.
    /// - Parameter brokerID: The broker id (1...``brokerCount``).
    /// - Throws: ``KafkaError`` naming the broker when it cannot, `closed` once the broker is stopped.
    public func setBrokerDown(_ brokerID: Int32) async throws {
        try await perform("take broker \(brokerID) down") { cluster in
            // The broker closes its listening socket and binds the port again at once; a child process started
            // meanwhile would hold the socket open, and the failed bind aborts the process (see ChildStartGate).
            ChildStartGate.whileNoChildStarts { rd_kafka_mock_broker_set_down(cluster, brokerID) }
        }
    }

    /// Brings a broker back up.
    /// - Parameter brokerID: The broker id (1...``brokerCount``).
    /// - Throws: ``KafkaError`` naming the broker when it cannot, `closed` once the broker is stopped.
    public func setBrokerUp(_ brokerID: Int32) async throws {
        try await perform("bring broker \(brokerID) up") { rd_kafka_mock_broker_set_up($0, brokerID) }
    }

    /// Delays every response of a broker.
    /// - Parameters:
    ///   - brokerID: The broker id.
    ///   - delay: The added round-trip time.
    /// - Throws: ``KafkaError`` naming the broker when it cannot, `closed` once the broker is stopped.
    public func setRoundTripTime(broker brokerID: Int32, _ delay: Duration) async throws {
        let milliseconds = Int32(clamping: delay.milliseconds)
        try await perform("set broker \(brokerID) round-trip time") {
            rd_kafka_mock_broker_set_rtt($0, brokerID, milliseconds)
        }
    }

    /// Makes the next requests of one API fail with the given errors, one error per request, in order.
    /// - Parameters:
    ///   - api: The API whose requests fail.
    ///   - errors: The errors to answer with.
    /// - Throws: ``KafkaError`` `closed` once the broker is stopped.
    public func injectErrors(_ api: KafkaAPI, _ errors: [BrokerErrorCode]) async throws {
        let codes = errors.map { rd_kafka_resp_err_t(rawValue: $0.rawValue) }
        try await perform("inject \(errors.count) errors into API \(api.rawValue)") { cluster in
            codes.withUnsafeBufferPointer { buffer in
                rd_kafka_mock_push_request_errors_array(cluster, api.rawValue, buffer.count, buffer.baseAddress)
            }
            return RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Makes metadata requests report an error for a topic (nil clears it).
    /// - Parameters:
    ///   - topic: The topic.
    ///   - error: The error to report.
    /// - Throws: ``KafkaError`` `closed` once the broker is stopped.
    public func setTopicError(_ topic: String, _ error: BrokerErrorCode?) async throws {
        let code = rd_kafka_resp_err_t(rawValue: error?.rawValue ?? 0)
        try await perform("set an error on topic '\(topic)'") {
            rd_kafka_mock_topic_set_error($0, topic, code)
            return RD_KAFKA_RESP_ERR_NO_ERROR
        }
    }

    /// Moves a partition's leadership to another broker (-1: no leader).
    /// - Parameters:
    ///   - topic: The topic.
    ///   - partition: The partition.
    ///   - brokerID: The new leader.
    /// - Throws: ``KafkaError`` when the partition or broker is unknown, `closed` once the broker is stopped.
    public func setPartitionLeader(topic: String, partition: Int32, broker brokerID: Int32) async throws {
        try await perform("move \(topic)[\(partition)] leadership to broker \(brokerID)") {
            rd_kafka_mock_partition_set_leader($0, topic, partition, brokerID)
        }
    }
}

/// A Kafka protocol API, by its API key (for fault injection).
public struct KafkaAPI: Sendable, Hashable {
    /// The protocol API key.
    public let rawValue: Int16
    /// Creates an API from its key.
    public init(rawValue: Int16) { self.rawValue = rawValue }

    /// Produce (0).
    public static let produce = KafkaAPI(rawValue: 0)
    /// Fetch (1).
    public static let fetch = KafkaAPI(rawValue: 1)
    /// ListOffsets (2).
    public static let listOffsets = KafkaAPI(rawValue: 2)
    /// Metadata (3).
    public static let metadata = KafkaAPI(rawValue: 3)
    /// OffsetCommit (8).
    public static let offsetCommit = KafkaAPI(rawValue: 8)
    /// OffsetFetch (9).
    public static let offsetFetch = KafkaAPI(rawValue: 9)
    /// FindCoordinator (10).
    public static let findCoordinator = KafkaAPI(rawValue: 10)
    /// JoinGroup (11).
    public static let joinGroup = KafkaAPI(rawValue: 11)
    /// Heartbeat (12).
    public static let heartbeat = KafkaAPI(rawValue: 12)
    /// SyncGroup (14).
    public static let syncGroup = KafkaAPI(rawValue: 14)
    /// InitProducerId (22).
    public static let initProducerID = KafkaAPI(rawValue: 22)
    /// EndTxn (26).
    public static let endTransaction = KafkaAPI(rawValue: 26)
}

/// A Kafka protocol error code (for fault injection).
public struct BrokerErrorCode: Sendable, Hashable {
    /// The protocol error code.
    public let rawValue: Int32
    /// Creates an error code from its protocol value.
    public init(rawValue: Int32) { self.rawValue = rawValue }

    /// UNKNOWN_TOPIC_OR_PARTITION (3).
    public static let unknownTopicOrPartition = BrokerErrorCode(rawValue: 3)
    /// LEADER_NOT_AVAILABLE (5).
    public static let leaderNotAvailable = BrokerErrorCode(rawValue: 5)
    /// NOT_LEADER_OR_FOLLOWER (6).
    public static let notLeaderForPartition = BrokerErrorCode(rawValue: 6)
    /// REQUEST_TIMED_OUT (7).
    public static let requestTimedOut = BrokerErrorCode(rawValue: 7)
    /// MESSAGE_TOO_LARGE (10).
    public static let messageTooLarge = BrokerErrorCode(rawValue: 10)
    /// COORDINATOR_NOT_AVAILABLE (15).
    public static let coordinatorNotAvailable = BrokerErrorCode(rawValue: 15)
    /// NOT_COORDINATOR (16).
    public static let notCoordinator = BrokerErrorCode(rawValue: 16)
    /// NOT_ENOUGH_REPLICAS (19).
    public static let notEnoughReplicas = BrokerErrorCode(rawValue: 19)
    /// NOT_ENOUGH_REPLICAS_AFTER_APPEND (20).
    public static let notEnoughReplicasAfterAppend = BrokerErrorCode(rawValue: 20)
    /// REBALANCE_IN_PROGRESS (27).
    public static let rebalanceInProgress = BrokerErrorCode(rawValue: 27)
}
