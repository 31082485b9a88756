/// Settings shared by producers, consumers and admin clients.
///
/// Typed settings cover what most services need; ``properties`` is the escape hatch for any other librdkafka
/// property (see librdkafka's CONFIGURATION.md). Escape-hatch properties are applied last, so they override typed
/// settings, and each is validated by librdkafka: an unknown key or invalid value fails client creation with a
/// ``KafkaError`` naming the key. ``ClientProperties`` gathers them from a properties file, the environment and the
/// command line.
///
/// Its descriptions never show secrets (see ``SecretRedaction``): log or print it freely.
public struct ClientConfiguration: Sendable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The bootstrap servers as `host:port` strings.
    public var bootstrapServers: [String]
    /// The client id sent to brokers, shown in broker logs and quotas.
    public var clientID: String
    /// How long to wait for a TCP connection (and its handshake) before trying another broker.
    public var connectionSetupTimeout: Duration
    /// The most severe librdkafka log level forwarded to swift-log (syslog levels: 3 error, 4 warning, 6 info,
    /// 7 debug).
    public var logLevel: Int
    /// Security protocol, SASL credentials and TLS material (plaintext by default).
    public var security: SecurityConfiguration
    /// librdkafka's statistics recorded through swift-metrics (`dabba_kafka_*`, see ``KafkaStatisticsConfiguration``);
    /// nil (the default): off.
    public var statistics: KafkaStatisticsConfiguration?
    /// Extra librdkafka properties, applied after the typed settings.
    public var properties: [String: String]

    /// Creates client settings.
    /// - Parameters:
    ///   - bootstrapServers: The `host:port` addresses of one or more brokers.
    ///   - clientID: The client id sent to brokers.
    public init(bootstrapServers: [String], clientID: String = "dabba") {
        self.bootstrapServers = bootstrapServers
        self.clientID = clientID
        self.connectionSetupTimeout = .seconds(10)
        self.logLevel = 4
        self.security = .plaintext
        self.statistics = nil
        self.properties = [:]
    }

    /// Creates client settings from a comma-separated bootstrap list such as `localhost:9092,localhost:9093`.
    /// - Parameter bootstrap: The comma-separated `host:port` list.
    public init(bootstrap: String) {
        self.init(bootstrapServers: bootstrap.split(separator: ",").map { String($0).trimmed })
    }

    var librdkafkaProperties: [(String, String)] {
        [
            ("bootstrap.servers", bootstrapServers.joined(separator: ",")),
            ("client.id", clientID),
            ("socket.connection.setup.timeout.ms", String(connectionSetupTimeout.milliseconds)),
            ("log_level", String(logLevel)),
        ] + (statistics.map { [("statistics.interval.ms", String(max(1, $0.interval.milliseconds)))] } ?? [])
            + security.librdkafkaProperties
    }

    /// The settings with every secret replaced by ``SecretRedaction/placeholder``: bootstrap servers, client id,
    /// security, then the escape-hatch properties sorted by key.
    public var redactedDescription: String {
        var text = "bootstrap=\(bootstrapServers.joined(separator: ",")) client.id=\(clientID) security=\(security)"
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            text += " \(key)=\(SecretRedaction.displayValue(value, key: key))"
        }
        return text
    }

    public var description: String { redactedDescription }

    public var debugDescription: String { "ClientConfiguration(\(redactedDescription))" }

    /// Reflection (`dump`, default descriptions of enclosing types) shows the redacted description only.
    public var customMirror: Mirror { Mirror(self, children: ["redacted": redactedDescription]) }
}

extension Duration {
    /// Whole milliseconds, rounded down, as librdkafka's `*.ms` properties expect.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}

extension String {
    var trimmed: String {
        var view = Substring(self)
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return String(view)
    }
}
