internal import CRDKafka

/// One Kafka admin protocol API as librdkafka exposes it: its name for error messages, its `rd_kafka_admin_op_t`,
/// and how to find out whether the broker implements it.
///
/// ## Brokers that lack an API
///
/// librdkafka learns which APIs (and versions) each broker implements from the ApiVersions handshake it performs on
/// every connection (`api.version.request=true`, the default), and checks that list before sending an admin request:
/// when the API is missing it sends nothing and the result carries `RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE` at once.
/// A broker that lists the API but no version librdkafka speaks gets `UNSUPPORTED_VERSION`. Both become
/// ``KafkaError/Code/unsupportedByBroker`` with a message naming the API.
///
/// That check runs only once librdkafka has picked the broker to send to. Requests for a group's coordinator, and
/// ListGroups (sent to every broker), get it straight away. The topic and config APIs go to the *controller*, and
/// librdkafka first waits until the broker the metadata names as controller is connected — which, on a broker that
/// names no real controller, never happens: librdkafka's mock cluster behind ``EmbeddedBroker`` reports controller
/// id 0 while its brokers are 1…n, so CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs and
/// AlterConfigs all end with `_TIMED_OUT` "Failed while waiting for controller" after the full timeout (measured;
/// ListGroups fails in under a millisecond with `_UNSUPPORTED_FEATURE`).
///
/// So before the first controller-bound request of each API, ``KafkaAdmin`` sends a *probe* of the same API to a
/// broker it is already connected to (`rd_kafka_AdminOptions_set_broker`, with the id of the broker that answered a
/// metadata request), which skips the wait for the controller and gets librdkafka's ApiVersions check at once. Probes
/// have no effect on the cluster: CreateTopics, CreatePartitions and AlterConfigs probes are the same request with
/// `validate_only`; the DescribeConfigs probe is the (read-only) request itself; DeleteTopics has no validate-only
/// mode, so its probe is a validate-only CreateTopics (both APIs came with KIP-4 in Kafka 0.10.1, and librdkafka
/// gates both on the same check). Only `_UNSUPPORTED_FEATURE` or `UNSUPPORTED_VERSION` from a probe counts; any other
/// answer (`NOT_CONTROLLER` from an older non-controller broker, a per-topic error) means the API exists, and is
/// remembered for the life of the admin client so later calls skip the probe. A probe that times out proves nothing
/// and the real request follows.
struct AdminAPI: Sendable {
    /// How to find out whether the broker implements the API before a request that could wait for the controller.
    enum Probe: Sendable {
        /// No probe: librdkafka's own check already answers at once (group-coordinator and all-broker requests).
        case none
        /// The same request, sent to a connected broker, validate-only when the API has that mode.
        case sameRequest(validateOnly: Bool)
        /// A validate-only CreateTopics of a placeholder topic (for DeleteTopics, which has no validate-only mode).
        case validateOnlyCreateTopics
    }

    /// The protocol API's name, used in error messages ("this broker does not support CreateTopics").
    let name: String
    let operation: rd_kafka_admin_op_t
    /// Whether the API takes a broker-side operation timeout (how long the controller waits for the change).
    let hasOperationTimeout: Bool
    let probe: Probe

    static let createTopics = AdminAPI(
        name: "CreateTopics", operation: RD_KAFKA_ADMIN_OP_CREATETOPICS, hasOperationTimeout: true,
        probe: .sameRequest(validateOnly: true)
    )
    static let deleteTopics = AdminAPI(
        name: "DeleteTopics", operation: RD_KAFKA_ADMIN_OP_DELETETOPICS, hasOperationTimeout: true,
        probe: .validateOnlyCreateTopics
    )
    static let createPartitions = AdminAPI(
        name: "CreatePartitions", operation: RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, hasOperationTimeout: true,
        probe: .sameRequest(validateOnly: true)
    )
    static let describeConfigs = AdminAPI(
        name: "DescribeConfigs", operation: RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, hasOperationTimeout: false,
        probe: .sameRequest(validateOnly: false)
    )
    static let alterConfigs = AdminAPI(
        name: "AlterConfigs", operation: RD_KAFKA_ADMIN_OP_ALTERCONFIGS, hasOperationTimeout: false,
        probe: .sameRequest(validateOnly: true)
    )
    static let listGroups = AdminAPI(
        name: "ListGroups", operation: RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS, hasOperationTimeout: false,
        probe: .none
    )
    static let describeGroups = AdminAPI(
        name: "DescribeGroups", operation: RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS, hasOperationTimeout: false,
        probe: .none
    )
    static let offsetCommit = AdminAPI(
        name: "OffsetCommit", operation: RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS, hasOperationTimeout: false,
        probe: .none
    )
    static let offsetFetch = AdminAPI(
        name: "OffsetFetch", operation: RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS, hasOperationTimeout: false,
        probe: .none
    )

    /// Whether a librdkafka code means the broker lacks this API (or every version of it librdkafka speaks).
    static func isUnsupported(_ code: rd_kafka_resp_err_t) -> Bool {
        code == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || code == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION
    }

    /// The error for a failed request or item of a request.
    /// - Parameters:
    ///   - code: librdkafka's code.
    ///   - detail: librdkafka's or the broker's explanation, if any.
    ///   - subject: What failed, e.g. `topic 'orders'`; nil for the request as a whole.
    ///   - topic: The topic, for ``KafkaError/topic``.
    func failure(
        _ code: rd_kafka_resp_err_t,
        detail: String?,
        subject: String? = nil,
        topic: String? = nil
    ) -> KafkaError {
        var error = KafkaError(responseCode: code, context: name, topic: topic)
        let explanation = detail.flatMap { $0.isEmpty ? nil : $0 } ?? String(cString: rd_kafka_err2str(code))
        if Self.isUnsupported(code) {
            error.code = .unsupportedByBroker
            error.message = "this broker does not support \(name) (\(explanation))"
        } else if code == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS, let subject {
            error.message = "\(subject) already exists (\(explanation))"
        } else if code == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, let subject {
            error.message = "\(subject) does not exist (\(explanation))"
        } else if let subject {
            error.message = "\(name) failed for \(subject): \(explanation)"
        } else {
            error.message = "\(name) failed: \(explanation)"
        }
        // Broker answers without a more specific code (INVALID_PARTITIONS, INVALID_CONFIG, POLICY_VIOLATION, …).
        if error.code == .other { error.code = .admin }
        return error
    }

    /// The error for an `rd_kafka_error_t` owned by a result event (read, not destroyed).
    func failure(borrowing error: OpaquePointer, subject: String? = nil) -> KafkaError {
        failure(rd_kafka_error_code(error), detail: rd_kafka_error_string(error).map { String(cString: $0) },
                subject: subject)
    }
}

extension KafkaAdmin {
    /// Runs one admin request on a temporary result queue and reads its result event, probing first whether the
    /// broker implements the API when that is not known yet (see ``AdminAPI``).
    ///
    /// Everything here waits, so it runs via ``Blocking``. The queue, the options and the event are destroyed on
    /// every path; objects `start` creates are its own to destroy (librdkafka copies what it needs).
    /// - Parameters:
    ///   - api: The admin API.
    ///   - timeout: The time for the whole call, probe included; librdkafka enforces it as the request timeout (and
    ///     the operation timeout, where the API has one).
    ///   - start: Issues the request: `(handle, options, queue)`. Called twice when the probe repeats the request.
    ///   - read: Reads the result event (whose request-level error was already checked).
    func perform<Result: Sendable>(
        _ api: AdminAPI,
        timeout: Duration,
        start: @escaping @Sendable (OpaquePointer, OpaquePointer, OpaquePointer) throws -> Void,
        read: @escaping @Sendable (OpaquePointer) throws -> Result
    ) async throws -> Result {
        let client = self.client
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        let needsProbe: Bool
        if case .none = api.probe {
            needsProbe = false
        } else {
            needsProbe = !confirmedAPIs.withLock { $0.contains(api.name) }
        }
        return try await Blocking.run {
            let handle = client.pointer
            // The admin handle is never polled otherwise: serve its error callbacks (no waiting) so the last
            // connection error is known when a request times out.
            rd_kafka_poll(handle, 0)
            if needsProbe {
                try self.probeSupport(of: api, timeout: deadline - clock.now, start: start)
            }
            let remaining = deadline - clock.now
            return try Self.roundTrip(
                handle, api: api, operation: api.operation, timeout: remaining,
                configure: { options, milliseconds, errorText in
                    guard api.hasOperationTimeout else { return RD_KAFKA_RESP_ERR_NO_ERROR }
                    return rd_kafka_AdminOptions_set_operation_timeout(
                        options, milliseconds, &errorText, errorText.count
                    )
                },
                start: start
            ) { event in
                guard let event else { throw self.timedOut(api, after: timeout) }
                let code = rd_kafka_event_error(event)
                if code == RD_KAFKA_RESP_ERR__TIMED_OUT {
                    throw self.timedOut(api, after: timeout)
                }
                if code != RD_KAFKA_RESP_ERR_NO_ERROR {
                    throw api.failure(code, detail: rd_kafka_event_error_string(event).map { String(cString: $0) })
                }
                return try read(event)
            }
        }
    }

    /// Sends the API's probe to a connected broker (see ``AdminAPI``): throws `unsupportedByBroker` when librdkafka
    /// says the broker lacks the API, remembers the API as supported on any other definite answer, and returns
    /// quietly when the probe proves nothing (time ran out, connection lost).
    private func probeSupport(
        of api: AdminAPI,
        timeout: Duration,
        start: @escaping @Sendable (OpaquePointer, OpaquePointer, OpaquePointer) throws -> Void
    ) throws {
        let handle = client.pointer
        // Any broker that answers metadata is connected, and its id is where the probe goes.
        let broker = try client.withClusterMetadata(allTopics: false, timeout: timeout, servesCallbacks: true) {
            metadata in
            var broker = metadata.pointee.orig_broker_id
            if broker < 0, metadata.pointee.broker_cnt > 0 { broker = metadata.pointee.brokers[0].id }
            return broker
        }
        guard broker >= 0 else { return }

        let validateOnly: Bool
        let operation: rd_kafka_admin_op_t
        let probeStart: @Sendable (OpaquePointer, OpaquePointer, OpaquePointer) throws -> Void
        switch api.probe {
        case .none:
            return
        case .sameRequest(let validate):
            (validateOnly, operation, probeStart) = (validate, api.operation, start)
        case .validateOnlyCreateTopics:
            (validateOnly, operation) = (true, RD_KAFKA_ADMIN_OP_CREATETOPICS)
            probeStart = { handle, options, queue in
                var errorText = [CChar](repeating: 0, count: 512)
                guard let placeholder = rd_kafka_NewTopic_new("dabba-admin-probe", 1, 1, &errorText, errorText.count)
                else { return }
                defer { rd_kafka_NewTopic_destroy(placeholder) }
                var topics: [OpaquePointer?] = [placeholder]
                topics.withUnsafeMutableBufferPointer { buffer in
                    rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
                }
            }
        }
        try Self.roundTrip(
            handle, api: api, operation: operation, timeout: timeout,
            configure: { options, _, errorText in
                var result = rd_kafka_AdminOptions_set_broker(options, broker, &errorText, errorText.count)
                if result == RD_KAFKA_RESP_ERR_NO_ERROR, validateOnly {
                    result = rd_kafka_AdminOptions_set_validate_only(options, 1, &errorText, errorText.count)
                }
                return result
            },
            start: probeStart
        ) { event in
            guard let event else { return }
            let code = rd_kafka_event_error(event)
            if AdminAPI.isUnsupported(code) {
                throw api.failure(code, detail: rd_kafka_event_error_string(event).map { String(cString: $0) })
            }
            // Broker errors (positive codes) are answers from a broker that has the API; local errors are not.
            if code == RD_KAFKA_RESP_ERR_NO_ERROR || code.rawValue > 0 {
                _ = confirmedAPIs.withLock { $0.insert(api.name) }
            }
        }
    }

    /// One request: creates the result queue and options, sets the request timeout, lets `configure` set more
    /// options, lets `start` issue the request, waits for the result and hands it to `body` (nil when none came in
    /// time). Destroys the queue, the options and the event on every path.
    private static func roundTrip<Result>(
        _ handle: OpaquePointer,
        api: AdminAPI,
        operation: rd_kafka_admin_op_t,
        timeout: Duration,
        configure: (OpaquePointer, Int32, inout [CChar]) -> rd_kafka_resp_err_t,
        start: (OpaquePointer, OpaquePointer, OpaquePointer) throws -> Void,
        body: (OpaquePointer?) throws -> Result
    ) throws -> Result {
        let milliseconds = clampedMilliseconds(timeout)
        guard let queue = rd_kafka_queue_new(handle) else {
            throw KafkaError(.admin, "\(api.name): librdkafka could not create a result queue")
        }
        defer { rd_kafka_queue_destroy(queue) }
        guard let options = rd_kafka_AdminOptions_new(handle, operation) else {
            throw KafkaError(.admin, "\(api.name): librdkafka could not create admin options")
        }
        defer { rd_kafka_AdminOptions_destroy(options) }
        var errorText = [CChar](repeating: 0, count: 512)
        var result = rd_kafka_AdminOptions_set_request_timeout(options, milliseconds, &errorText, errorText.count)
        if result == RD_KAFKA_RESP_ERR_NO_ERROR {
            result = configure(options, milliseconds, &errorText)
        }
        guard result == RD_KAFKA_RESP_ERR_NO_ERROR else {
            throw KafkaError(.invalidArgument, "\(api.name): invalid admin option: \(text(errorText))")
        }
        try start(handle, options, queue)
        // librdkafka answers with _TIMED_OUT itself once the request timeout passes; the margin only covers its
        // scheduling, so this wait never ends first in practice.
        guard let event = rd_kafka_queue_poll(queue, milliseconds + 5000) else { return try body(nil) }
        defer { rd_kafka_event_destroy(event) }
        return try body(event)
    }

    /// A timeout error that also says what librdkafka last reported about the connection (e.g. refused).
    func timedOut(_ api: AdminAPI, after timeout: Duration) -> KafkaError {
        var message = "\(api.name) got no answer within \(timeout)"
        if let last = client.callbacks.lastError.withLock({ $0 }) {
            message += "; last client error: \(last.message)"
        }
        var error = KafkaError(.timedOut, message)
        error.isRetriable = true
        return error
    }

    /// A `Duration` as librdkafka's admin timeouts accept it (1 ms to 1 hour).
    static func clampedMilliseconds(_ timeout: Duration) -> Int32 {
        Int32(clamping: min(max(timeout.milliseconds, 1), 3_600_000))
    }
}

extension KafkaAdmin {
    /// A NUL-terminated C buffer as a Swift string.
    static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Reads `count` elements of a C array of pointers (the result arrays of librdkafka's admin API).
    static func items(_ array: UnsafeMutablePointer<OpaquePointer?>?, count: Int) -> [OpaquePointer] {
        guard let array else { return [] }
        return (0..<count).compactMap { array[$0] }
    }
}
