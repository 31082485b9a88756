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

    /// The addresses of live `rd_kafka_t` handles, so tests can prove none leak.
    static let liveHandles = Mutex<Set<UInt>>([])

    let pointer: OpaquePointer
    let callbacks: ClientCallbacks
    let kind: Kind

    private init(pointer: OpaquePointer, callbacks: ClientCallbacks, kind: Kind) {
        self.pointer = pointer
        self.callbacks = callbacks
        self.kind = kind
    }

    /// Creates a handle from librdkafka properties. The configuration object is destroyed on every failure path and
    /// owned by librdkafka on success.
    /// - Parameter configure: Installs kind-specific callbacks on the configuration before the handle is made.
    static func make(
        kind: Kind,
        properties: [(String, String)],
        callbacks: ClientCallbacks,
        configure: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) -> RDKafkaClient {
        guard let configuration = rd_kafka_conf_new() else {
            throw KafkaError(.clientCreation, "librdkafka could not allocate a configuration")
        }
        var errorText = [CChar](repeating: 0, count: 512)
        for (key, value) in properties {
            let result = rd_kafka_conf_set(configuration, key, value, &errorText, errorText.count)
            guard result == RD_KAFKA_CONF_OK else {
                rd_kafka_conf_destroy(configuration)
                let reason = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError(
                    .invalidConfiguration,
                    "invalid librdkafka property '\(key)' = '\(value)': \(reason)"
                )
            }
        }
        rd_kafka_conf_set_opaque(configuration, Unmanaged.passUnretained(callbacks).toOpaque())
        rd_kafka_conf_set_log_cb(configuration, logCallback)
        rd_kafka_conf_set_error_cb(configuration, errorCallback)
        configure(configuration)
        // On success rd_kafka_new takes ownership of the configuration; on failure it is still ours.
        guard let handle = rd_kafka_new(kind.librdkafkaType, configuration, &errorText, errorText.count) else {
            rd_kafka_conf_destroy(configuration)
            let reason = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw KafkaError(.clientCreation, "could not create the Kafka client: \(reason)")
        }
        liveHandles.withLock { _ = $0.insert(UInt(bitPattern: handle)) }
        return RDKafkaClient(pointer: handle, callbacks: callbacks, kind: kind)
    }

    deinit {
        // rd_kafka_destroy joins librdkafka's threads: never do that on the cooperative pool. The callbacks box
        // is captured so it outlives the handle that points at it.
        let handle = UnsafeSendable(pointer)
        let callbacks = self.callbacks
        Blocking.detach {
            rd_kafka_destroy(handle.value)
            withExtendedLifetime(callbacks) {}
            RDKafkaClient.liveHandles.withLock { _ = $0.remove(UInt(bitPattern: handle.value)) }
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
    /// The most recent error librdkafka reported through its error callback (e.g. all brokers down).
    let lastError = Mutex<KafkaError?>(nil)

    init(logger: Logger) {
        self.logger = logger
    }

    func log(level: Int32, facility: String, message: String) {
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
        var error = KafkaError(responseCode: code, context: "broker connection")
        error.message = reason
        error.isFatal = isFatal
        lastError.withLock { $0 = error }
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
