internal import CRDKafka

/// An error from the Kafka layer: a configuration problem, a broker or delivery failure, or misuse of a client.
///
/// `KafkaError` is a struct with an extensible ``Code`` rather than an enum, so new kinds of failure can be added
/// without breaking code that switches over them. When librdkafka reported the failure, ``librdkafkaCode`` and
/// ``librdkafkaName`` carry its code (e.g. `-195` / `_TRANSPORT`), and when a message is involved, ``topic``,
/// ``partition`` and ``offset`` say which one.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// A configuration property was unknown or had an invalid value.
        public static let invalidConfiguration = Code("invalidConfiguration")
        /// A client (producer, consumer, admin) could not be created.
        public static let clientCreation = Code("clientCreation")
        /// A message could not be delivered to the broker.
        public static let deliveryFailed = Code("deliveryFailed")
        /// The message is larger than the producer or broker accepts.
        public static let messageTooLarge = Code("messageTooLarge")
        /// The topic or partition does not exist.
        public static let unknownTopicOrPartition = Code("unknownTopicOrPartition")
        /// A topic to create already exists.
        public static let topicAlreadyExists = Code("topicAlreadyExists")
        /// The brokers could not be reached within the allowed time.
        public static let brokerUnreachable = Code("brokerUnreachable")
        /// SASL authentication failed: wrong credentials, a mechanism the broker does not enable, or a broker
        /// listener without SASL. Retrying with the same settings fails again.
        public static let authenticationFailed = Code("authenticationFailed")
        /// The TLS handshake failed: the broker's certificate is not trusted or does not name the host, the client
        /// certificate was refused, or the listener does not speak TLS.
        public static let tlsFailed = Code("tlsFailed")
        /// An operation did not finish within its timeout.
        public static let timedOut = Code("timedOut")
        /// The broker does not implement the API needed for this operation.
        public static let unsupportedByBroker = Code("unsupportedByBroker")
        /// The client was already closed or is shutting down.
        public static let closed = Code("closed")
        /// An operation was used in the wrong state (for example committing a transaction that was not begun).
        public static let invalidState = Code("invalidState")
        /// A transactional operation failed; see ``KafkaError/isRetriable`` and ``KafkaError/requiresAbort``.
        public static let transaction = Code("transaction")
        /// The producer was fenced by a newer instance with the same `transactional.id`.
        public static let fenced = Code("fenced")
        /// A consumer error without a more specific code, reported on ``KafkaConsumer/events`` (never thrown): a
        /// failed assign or unassign during a rebalance, a rebalance callback with an error, or a non-fatal error
        /// from fetching. A failing ``KafkaConsumer/subscribe(topics:)`` or ``KafkaConsumer/commit()`` throws the
        /// code of librdkafka's error instead (often ``other``).
        public static let consumerGroup = Code("consumerGroup")
        /// An admin operation (create, describe, delete topics; group offsets) failed.
        public static let admin = Code("admin")
        /// A consumer group's offsets cannot change while it has active members (the message names them).
        public static let groupNotEmpty = Code("groupNotEmpty")
        /// An argument passed to Dabba was invalid.
        public static let invalidArgument = Code("invalidArgument")
        /// The embedded broker failed.
        public static let embeddedBroker = Code("embeddedBroker")
        /// Any other librdkafka error.
        public static let other = Code("other")

        public var description: String { name }
    }

    /// The kind of failure.
    public var code: Code
    /// A human-readable explanation naming what went wrong and where.
    public var message: String
    /// librdkafka's numeric error code, when librdkafka reported the failure.
    public var librdkafkaCode: Int32?
    /// librdkafka's symbolic error name (e.g. `_MSG_TIMED_OUT`), when librdkafka reported the failure.
    public var librdkafkaName: String?
    /// Whether retrying the same operation may succeed.
    public var isRetriable: Bool
    /// Whether the client is unusable after this error and must be recreated.
    public var isFatal: Bool
    /// For transactional errors: the current transaction must be aborted before going on.
    public var requiresAbort: Bool
    /// The topic of the message involved, if any.
    public var topic: String?
    /// The partition of the message involved, if any.
    public var partition: Int32?
    /// The offset of the message involved, if any.
    public var offset: Int64?

    /// Creates an error.
    /// - Parameters:
    ///   - code: The kind of failure.
    ///   - message: A human-readable explanation.
    ///   - topic: The topic involved, if any.
    ///   - partition: The partition involved, if any.
    ///   - offset: The offset involved, if any.
    public init(
        _ code: Code,
        _ message: String,
        topic: String? = nil,
        partition: Int32? = nil,
        offset: Int64? = nil
    ) {
        self.code = code
        self.message = message
        self.librdkafkaCode = nil
        self.librdkafkaName = nil
        self.isRetriable = false
        self.isFatal = false
        self.requiresAbort = false
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let librdkafkaName { text += " [\(librdkafkaName)]" }
        if let topic {
            text += " (topic \(topic)"
            if let partition { text += ", partition \(partition)" }
            if let offset { text += ", offset \(offset)" }
            text += ")"
        }
        return text
    }
}

extension KafkaError {
    /// Maps a librdkafka response code to an error, choosing the ``Code`` from the librdkafka code.
    init(
        responseCode: rd_kafka_resp_err_t,
        context: String,
        topic: String? = nil,
        partition: Int32? = nil,
        offset: Int64? = nil
    ) {
        let reason = String(cString: rd_kafka_err2str(responseCode))
        self.init(
            Self.code(for: responseCode),
            "\(context): \(reason)",
            topic: topic,
            partition: partition,
            offset: offset
        )
        self.librdkafkaCode = responseCode.rawValue
        self.librdkafkaName = String(cString: rd_kafka_err2name(responseCode))
        self.isRetriable = Self.isTransient(responseCode)
    }

    /// Maps an `rd_kafka_error_t` and destroys it: the caller hands over ownership.
    init(consuming error: OpaquePointer, context: String) {
        let responseCode = rd_kafka_error_code(error)
        self.init(responseCode: responseCode, context: context)
        if let cString = rd_kafka_error_string(error) {
            self.message = "\(context): \(String(cString: cString))"
        }
        self.isRetriable = rd_kafka_error_is_retriable(error) != 0
        self.isFatal = rd_kafka_error_is_fatal(error) != 0
        self.requiresAbort = rd_kafka_error_txn_requires_abort(error) != 0
        if responseCode == RD_KAFKA_RESP_ERR__FENCED || responseCode == RD_KAFKA_RESP_ERR_PRODUCER_FENCED {
            self.code = .fenced
        } else if self.requiresAbort || rd_kafka_error_is_retriable(error) != 0 && context.contains("transaction") {
            self.code = .transaction
        }
        rd_kafka_error_destroy(error)
    }

    static func code(for responseCode: rd_kafka_resp_err_t) -> Code {
        switch responseCode {
        case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
            return .messageTooLarge
        case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
            RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
            return .unknownTopicOrPartition
        case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS:
            return .topicAlreadyExists
        case RD_KAFKA_RESP_ERR__TIMED_OUT, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT:
            return .timedOut
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__RESOLVE:
            return .brokerUnreachable
        case RD_KAFKA_RESP_ERR__AUTHENTICATION, RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED,
            RD_KAFKA_RESP_ERR_UNSUPPORTED_SASL_MECHANISM, RD_KAFKA_RESP_ERR_ILLEGAL_SASL_STATE:
            return .authenticationFailed
        case RD_KAFKA_RESP_ERR__SSL:
            return .tlsFailed
        case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE:
            return .unsupportedByBroker
        case RD_KAFKA_RESP_ERR__STATE, RD_KAFKA_RESP_ERR_INVALID_TXN_STATE:
            return .invalidState
        case RD_KAFKA_RESP_ERR__FENCED, RD_KAFKA_RESP_ERR_PRODUCER_FENCED,
            RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH:
            return .fenced
        case RD_KAFKA_RESP_ERR__DESTROY:
            return .closed
        case RD_KAFKA_RESP_ERR__INVALID_ARG:
            return .invalidArgument
        default:
            return .other
        }
    }

    /// A property librdkafka rejected, named with where it was set. The value is shown only for a known property
    /// whose name is not secret: an unknown name may be a misspelt secret one (`sasl.passwort`). librdkafka's reason
    /// is scrubbed of the value and of every secret value in `secrets` (it may echo them).
    /// - Parameters:
    ///   - key: The property name.
    ///   - value: The rejected value.
    ///   - result: What `rd_kafka_conf_set` answered (`RD_KAFKA_CONF_UNKNOWN` for an unknown name).
    ///   - reason: librdkafka's explanation.
    ///   - source: Where the property was set (a file and line, an environment variable, an option), if known.
    ///   - secrets: Further secret values to scrub from `reason`.
    static func invalidProperty(
        key: String, value: String, result: rd_kafka_conf_res_t, reason: String, source: String? = nil,
        secrets: [String] = []
    ) -> KafkaError {
        let showsValue = result != RD_KAFKA_CONF_UNKNOWN && !SecretRedaction.isSecret(key: key)
        let scrubbed = SecretRedaction.scrub(reason, secrets: secrets + (showsValue ? [] : [value]))
        var message = "invalid librdkafka property '\(key)'"
        if showsValue {
            message += " = '\(value)'"
        } else if result != RD_KAFKA_CONF_UNKNOWN {
            message += " = '\(SecretRedaction.placeholder)'"
        }
        if let source { message += " (from \(source))" }
        return KafkaError(.invalidConfiguration, message + ": " + scrubbed)
    }

    /// Errors librdkafka itself retries or that clear up on their own (leader elections, broker restarts).
    static func isTransient(_ responseCode: rd_kafka_resp_err_t) -> Bool {
        switch responseCode {
        case RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__TIMED_OUT,
            RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
            RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND,
            RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
            RD_KAFKA_RESP_ERR_NOT_COORDINATOR, RD_KAFKA_RESP_ERR__QUEUE_FULL:
            return true
        default:
            return false
        }
    }
}
