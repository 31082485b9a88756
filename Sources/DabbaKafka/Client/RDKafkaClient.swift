internal import CRDKafka
import Logging
import Synchronization

/// The single owner of one `rd_kafka_t`.
///
/// `@unchecked Sendable`: librdkafka handles are thread-safe, the only stored state is immutable (`let`), and the
/// handle is destroyed exactly once, in `deinit`, after every object that borrows it (message batches, topic
/// handles) has released its strong reference to this owner.
final class RDKafkaClient: @unchecked Sendable {
    enum Kind {
        case producer, consumer

        var librdkafkaType: rd_kafka_type_t {
            switch self {
            case .producer: RD_KAFKA_PRODUCER
            case .consumer: RD_KAFKA_CONSUMER
            }
        }
    }

    /// The serial numbers of live `rd_kafka_t` handles, so tests can prove none leak. Not their addresses: a
    /// destroyed handle's address is soon reused by a new one.
    static let liveHandles = Mutex<Set<UInt64>>([])
    private static let lastSerial = Atomic<UInt64>(0)

    /// This handle's number in ``liveHandles``.
    let serial: UInt64

    let pointer: OpaquePointer
    let callbacks: ClientCallbacks
    let kind: Kind
    /// The `bootstrap.servers` the handle was made with, for error messages.
    let bootstrapServers: String

    private init(pointer: OpaquePointer, callbacks: ClientCallbacks, kind: Kind, bootstrapServers: String) {
        self.pointer = pointer
        self.callbacks = callbacks
        self.kind = kind
        self.bootstrapServers = bootstrapServers
        serial = Self.lastSerial.add(1, ordering: .relaxed).newValue
        Self.liveHandles.withLock { _ = $0.insert(serial) }
    }

    /// Creates a handle from librdkafka properties. The configuration object is destroyed on every failure path and
    /// owned by librdkafka on success.
    /// - Parameter configure: Installs kind-specific callbacks on the configuration before the handle is made.
    static func make(
        kind: Kind,
        properties: [(String, String)],
        callbacks: ClientCallbacks,
        statistics: KafkaStatisticsConfiguration? = nil,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) -> RDKafkaClient {
        let effective = Dictionary(properties, uniquingKeysWith: { _, later in later })
        if let problem = SecurityConfiguration.problem(in: effective) {
            throw KafkaError(.invalidConfiguration, problem)
        }
        let secrets = SecretRedaction.secretValues(in: properties)
        guard let configuration = rd_kafka_conf_new() else {
            throw KafkaError(.clientCreation, "librdkafka could not allocate a configuration")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(configuration, key, value, &errorText, errorText.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(configuration)
                let reason = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError.invalidProperty(
                    key: key, value: value, result: result, reason: reason, secrets: secrets
                )
            }
        }
        // Before the handle exists, so no callback can run without it.
        callbacks.redaction.withLock { $0 = secrets }
        rd_kafka_conf_set_opaque(configuration, Unmanaged.passUnretained(callbacks).toOpaque())
        rd_kafka_conf_set_log_cb(configuration, logCallback)
        rd_kafka_conf_set_error_cb(configuration, errorCallback)
        // Typed or through the escape hatch: librdkafka's reports are recorded either way, never dropped unread.
        if let interval = effective["statistics.interval.ms"].flatMap(Int.init), interval > 0 {
            callbacks.statistics.withLock { $0 = KafkaStatistics(statistics) }
            rd_kafka_conf_set_stats_cb(configuration, statisticsCallback)
        }
        configure(configuration)
        // On success rd_kafka_new takes ownership of the configuration; on failure it is still ours.
        guard let handle = rd_kafka_new(kind.librdkafkaType, configuration, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(configuration)
            let reason = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(
                .clientCreation, "could not create the Kafka client: \(SecretRedaction.scrub(reason, secrets: secrets))"
            )
        }
        return RDKafkaClient(
            pointer: handle, callbacks: callbacks, kind: kind, bootstrapServers: effective["bootstrap.servers"] ?? ""
        )
    }

    deinit {
        // rd_kafka_destroy joins librdkafka's threads: never do that on the cooperative pool. The callbacks box
        // is captured so it outlives the handle that points at it.
        let handle = UnsafeSendable(pointer)
        let callbacks = self.callbacks
        let serial = self.serial
        Blocking.detach {
            rd_kafka_destroy(handle.value)
            withExtendedLifetime(callbacks) {}
            RDKafkaClient.liveHandles.withLock { _ = $0.remove(serial) }
        }
    }

    /// The name of a topic handle, as a Swift string.
    static func topicName(_ topic: OpaquePointer?) -> String {
        guard let topic, let name = rd_kafka_topic_name(topic) else { return "" }
        return String(cString: name)
    }
}

/// State reachable from librdkafka's C callbacks through the handle's opaque pointer.
///
/// Subclasses add producer- or consumer-specific callbacks. Every method may be called from a librdkafka thread.
class ClientCallbacks: @unchecked Sendable {
    let logger: Logger
    /// The most recent error librdkafka reported through its error callback; "all brokers down" does not replace a
    /// more specific error (why the brokers are down).
    let lastError = Mutex<KafkaError?>(nil)
    /// The first error that retrying cannot cure (authentication, TLS, fatal): waits for the brokers stop at it.
    let definitiveError = Mutex<KafkaError?>(nil)
    /// The secret values of the handle's properties, scrubbed from every log and error line (set once, before the
    /// handle exists).
    let redaction = Mutex<[String]>([])
    /// Set when librdkafka reports every broker down; cleared by the owner once a broker answers again.
    let brokersDown = Atomic<Bool>(false)
    /// Where librdkafka's statistics reports go, when they are on (set once, before the handle exists).
    let statistics = Mutex<KafkaStatistics?>(nil)

    init(logger: Logger) {
        self.logger = logger
    }

    /// The text without the handle's secret values.
    func redact(_ text: String) -> String {
        let secrets = redaction.withLock { $0 }
        return secrets.isEmpty ? text : SecretRedaction.scrub(text, secrets: secrets)
    }

    func log(level: Int32, facility: String, message: String) {
        let message = redact(message)
        let swiftLevel: Logger.Level
        switch level {
        case ...3: swiftLevel = .error
        case 4: swiftLevel = .warning
        case 5, 6: swiftLevel = .info
        default: swiftLevel = .debug
        }
        logger.log(level: swiftLevel, "\(message)", metadata: ["librdkafka.facility": "\(facility)"])
    }

    func error(code: rd_kafka_resp_err_t, reason: String, isFatal: Bool) {
        let reason = redact(reason)
        var error = KafkaError(responseCode: code, context: "broker connection")
        error.message = reason
        error.isFatal = isFatal
        lastError.withLock { last in
            if code != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || last == nil { last = error }
        }
        if code == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN { brokersDown.store(true, ordering: .releasing) }
        if isFatal || error.code == .authenticationFailed || error.code == .tlsFailed {
            definitiveError.withLock { first in if first == nil { first = error } }
        }
        if isFatal {
            logger.error("fatal Kafka client error: \(reason)")
        } else {
            logger.debug("Kafka client error: \(reason)")
        }
    }

    static func from(_ opaque: UnsafeMutableRawPointer?) -> ClientCallbacks? {
        guard let opaque else { return nil }
        return Unmanaged<ClientCallbacks>.fromOpaque(opaque).takeUnretainedValue()
    }
}

private func logCallback(_ handle: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?,
                         _ message: UnsafePointer<CChar>?) {
    guard let handle, let callbacks = ClientCallbacks.from(rd_kafka_opaque(handle)) else { return }
    callbacks.log(
        level: level,
        facility: facility.map { String(cString: $0) } ?? "",
        message: message.map { String(cString: $0) } ?? ""
    )
}

private func statisticsCallback(
    _ handle: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ length: Int, _ opaque: UnsafeMutableRawPointer?
) -> Int32 {
    guard let callbacks = ClientCallbacks.from(opaque), let json,
        let statistics = callbacks.statistics.withLock({ $0 })
    else { return 0 }
    statistics.record(json: UnsafeRawBufferPointer(start: json, count: length))
    return 0  // librdkafka frees the document
}

private func errorCallback(_ handle: OpaquePointer?, _ code: Int32, _ reason: UnsafePointer<CChar>?,
                           _ opaque: UnsafeMutableRawPointer?) {
    guard let callbacks = ClientCallbacks.from(opaque) else { return }
    let responseCode = rd_kafka_resp_err_t(rawValue: code)
    var isFatal = false
    if responseCode == RD_KAFKA_RESP_ERR__FATAL, let handle {
        isFatal = true
        var text = [CChar](repeating: 0, count: 512)
        let original = rd_kafka_fatal_error(handle, &text, text.count)
        let message = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        callbacks.error(code: original, reason: message, isFatal: true)
        return
    }
    callbacks.error(code: responseCode, reason: reason.map { String(cString: $0) } ?? "", isFatal: isFatal)
}

/// Carries a C pointer across a concurrency boundary where its owner guarantees exclusive use.
struct UnsafeSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
