/// How a client authenticates to the brokers and encrypts the connection: the security protocol, SASL credentials and
/// TLS material.
///
/// ```swift
/// var client = ClientConfiguration(bootstrap: "pkc-123.eu-west-1.aws.confluent.cloud:9092")
/// client.security = .saslSSL(.plain(username: apiKey, password: apiSecret))
///
/// client.security = .saslSSL(.scramSHA512(username: "orders", password: password))        // MSK, Aiven
/// client.security = .ssl(.init(ca: .file("/etc/kafka/ca.pem"), certificate: .file("/etc/kafka/orders.crt"),
///                              key: .file("/etc/kafka/orders.key")))                       // mutual TLS
/// ```
///
/// The settings map to librdkafka's `security.protocol`, `sasl.*` and `ssl.*` properties, applied before
/// ``ClientConfiguration/properties`` (which override them). Secrets (passwords, client secrets, private keys, key
/// passwords) never appear in descriptions: see ``SecretRedaction``.
public struct SecurityConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// librdkafka's `security.protocol`.
    public struct SecurityProtocol: Sendable, Hashable, CustomStringConvertible {
        /// The librdkafka value.
        public let value: String
        /// No encryption, no authentication.
        public static let plaintext = SecurityProtocol(value: "plaintext")
        /// TLS: encryption, and authentication by client certificate when one is given (mutual TLS).
        public static let ssl = SecurityProtocol(value: "ssl")
        /// SASL authentication without encryption.
        public static let saslPlaintext = SecurityProtocol(value: "sasl_plaintext")
        /// SASL authentication over TLS (Confluent Cloud, MSK with SCRAM, Aiven, Redpanda Cloud).
        public static let saslSSL = SecurityProtocol(value: "sasl_ssl")

        public var description: String { value }
    }

    /// The protocol.
    public let securityProtocol: SecurityProtocol
    /// The SASL mechanism and credentials (for `sasl_plaintext` and `sasl_ssl`).
    public let sasl: SASL?
    /// The TLS settings (for `ssl` and `sasl_ssl`).
    public let tls: TLS?

    private init(securityProtocol: SecurityProtocol, sasl: SASL?, tls: TLS?) {
        self.securityProtocol = securityProtocol
        self.sasl = sasl
        self.tls = tls
    }

    /// No encryption, no authentication (librdkafka's default).
    public static let plaintext = SecurityConfiguration(securityProtocol: .plaintext, sasl: nil, tls: nil)

    /// TLS, with a client certificate for mutual TLS when `tls` has one.
    /// - Parameter tls: CA, client certificate and key, hostname verification.
    /// - Returns: The settings.
    public static func ssl(_ tls: TLS = TLS()) -> SecurityConfiguration {
        SecurityConfiguration(securityProtocol: .ssl, sasl: nil, tls: tls)
    }

    /// SASL without TLS: credentials cross the network readable (PLAIN) or hashed (SCRAM); for private networks only.
    /// - Parameter sasl: The mechanism and credentials.
    /// - Returns: The settings.
    public static func saslPlaintext(_ sasl: SASL) -> SecurityConfiguration {
        SecurityConfiguration(securityProtocol: .saslPlaintext, sasl: sasl, tls: nil)
    }

    /// SASL over TLS.
    /// - Parameters:
    ///   - sasl: The mechanism and credentials.
    ///   - tls: CA and hostname verification (the system's CAs by default).
    /// - Returns: The settings.
    public static func saslSSL(_ sasl: SASL, tls: TLS = TLS()) -> SecurityConfiguration {
        SecurityConfiguration(securityProtocol: .saslSSL, sasl: sasl, tls: tls)
    }

    /// The librdkafka properties, in the order they are applied.
    var librdkafkaProperties: [(String, String)] {
        var properties = [("security.protocol", securityProtocol.value)]
        if let sasl { properties += sasl.librdkafkaProperties }
        if let tls { properties += tls.librdkafkaProperties }
        return properties
    }

    /// The protocol and mechanism, with secrets redacted: `sasl_ssl SCRAM-SHA-512 user=orders`.
    public var description: String {
        var parts = [securityProtocol.value]
        if let sasl { parts.append(sasl.description) }
        if let tls { parts.append(tls.description) }
        return parts.joined(separator: " ")
    }
}

extension SecurityConfiguration {
    /// A SASL mechanism with its credentials.
    public struct SASL: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// librdkafka's `sasl.mechanism`.
        public struct Mechanism: Sendable, Hashable, CustomStringConvertible {
            /// The librdkafka value.
            public let value: String
            /// Username and password sent as they are (use with TLS).
            public static let plain = Mechanism(value: "PLAIN")
            /// Salted challenge-response with SHA-256.
            public static let scramSHA256 = Mechanism(value: "SCRAM-SHA-256")
            /// Salted challenge-response with SHA-512.
            public static let scramSHA512 = Mechanism(value: "SCRAM-SHA-512")
            /// OAuth 2 bearer tokens.
            public static let oauthBearer = Mechanism(value: "OAUTHBEARER")

            public var description: String { value }
        }

        /// The mechanism.
        public let mechanism: Mechanism
        /// The username (PLAIN and SCRAM).
        public let username: String?
        /// The password (PLAIN and SCRAM). Never part of a description.
        public let password: String?
        /// The OIDC client-credentials settings (OAUTHBEARER).
        public let oidc: OAuthBearerOIDC?

        private init(mechanism: Mechanism, username: String?, password: String?, oidc: OAuthBearerOIDC?) {
            self.mechanism = mechanism
            self.username = username
            self.password = password
            self.oidc = oidc
        }

        /// SASL/PLAIN (Confluent Cloud API keys: the key is the username, the secret the password).
        /// - Parameters:
        ///   - username: The username or API key.
        ///   - password: The password or API secret.
        /// - Returns: The mechanism with its credentials.
        public static func plain(username: String, password: String) -> SASL {
            SASL(mechanism: .plain, username: username, password: password, oidc: nil)
        }

        /// SASL/SCRAM-SHA-256.
        /// - Parameters:
        ///   - username: The username.
        ///   - password: The password.
        /// - Returns: The mechanism with its credentials.
        public static func scramSHA256(username: String, password: String) -> SASL {
            SASL(mechanism: .scramSHA256, username: username, password: password, oidc: nil)
        }

        /// SASL/SCRAM-SHA-512 (MSK, Aiven, Redpanda).
        /// - Parameters:
        ///   - username: The username.
        ///   - password: The password.
        /// - Returns: The mechanism with its credentials.
        public static func scramSHA512(username: String, password: String) -> SASL {
            SASL(mechanism: .scramSHA512, username: username, password: password, oidc: nil)
        }

        /// SASL/OAUTHBEARER with librdkafka's OIDC client-credentials login (`sasl.oauthbearer.method=oidc`).
        ///
        /// librdkafka needs libcurl for it: a build without (Debian's librdkafka 2.0.2 is one) rejects the
        /// settings when the client is created, with a ``KafkaError`` naming the property.
        /// - Parameter oidc: The token endpoint and client credentials.
        /// - Returns: The mechanism with its credentials.
        public static func oauthBearer(_ oidc: OAuthBearerOIDC) -> SASL {
            SASL(mechanism: .oauthBearer, username: nil, password: nil, oidc: oidc)
        }

        var librdkafkaProperties: [(String, String)] {
            var properties = [("sasl.mechanism", mechanism.value)]
            if let username { properties.append(("sasl.username", username)) }
            if let password { properties.append(("sasl.password", password)) }
            if let oidc { properties += oidc.librdkafkaProperties }
            return properties
        }

        /// The mechanism and username; the password is never shown.
        public var description: String {
            var text = mechanism.value
            if let username { text += " user=\(username)" }
            if password != nil { text += " password=\(SecretRedaction.placeholder)" }
            if let oidc { text += " \(oidc)" }
            return text
        }

        public var debugDescription: String { "SASL(\(description))" }

        /// Reflection (`dump`, default descriptions of enclosing types) shows the redacted description only.
        public var customMirror: Mirror { Mirror(self, children: ["redacted": description]) }
    }

    /// OAuth 2 client-credentials login through an OIDC token endpoint.
    public struct OAuthBearerOIDC: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
        CustomReflectable
    {
        /// The token endpoint URL (`sasl.oauthbearer.token.endpoint.url`).
        public var tokenEndpoint: String
        /// The client id (`sasl.oauthbearer.client.id`).
        public var clientID: String
        /// The client secret (`sasl.oauthbearer.client.secret`). Never part of a description.
        public var clientSecret: String
        /// The requested scope (`sasl.oauthbearer.scope`), if any.
        public var scope: String?
        /// SASL extensions sent to the broker (`sasl.oauthbearer.extensions`), e.g. Confluent Cloud's
        /// `logicalCluster` and `identityPoolId`.
        public var extensions: [String: String]

        /// Creates OIDC client-credentials settings.
        /// - Parameters:
        ///   - tokenEndpoint: The token endpoint URL.
        ///   - clientID: The client id.
        ///   - clientSecret: The client secret.
        ///   - scope: The scope to request, if any.
        ///   - extensions: SASL extensions, if any.
        public init(
            tokenEndpoint: String,
            clientID: String,
            clientSecret: String,
            scope: String? = nil,
            extensions: [String: String] = [:]
        ) {
            self.tokenEndpoint = tokenEndpoint
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.scope = scope
            self.extensions = extensions
        }

        var librdkafkaProperties: [(String, String)] {
            var properties = [
                ("sasl.oauthbearer.method", "oidc"),
                ("sasl.oauthbearer.token.endpoint.url", tokenEndpoint),
                ("sasl.oauthbearer.client.id", clientID),
                ("sasl.oauthbearer.client.secret", clientSecret),
            ]
            if let scope { properties.append(("sasl.oauthbearer.scope", scope)) }
            if !extensions.isEmpty {
                let list = extensions.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                properties.append(("sasl.oauthbearer.extensions", list.joined(separator: ",")))
            }
            return properties
        }

        /// The endpoint, client id and scope; the secret is never shown.
        public var description: String {
            var text = "oidc endpoint=\(tokenEndpoint) client=\(clientID) secret=\(SecretRedaction.placeholder)"
            if let scope { text += " scope=\(scope)" }
            return text
        }

        public var debugDescription: String { "OAuthBearerOIDC(\(description))" }

        /// Reflection shows the redacted description only.
        public var customMirror: Mirror { Mirror(self, children: ["redacted": description]) }
    }

    /// TLS settings: whom to trust, how to prove who the client is, and whether to check the broker's hostname.
    public struct TLS: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
        /// Where a certificate or key comes from: a file, or PEM text.
        public struct Source: Sendable, Hashable {
            let location: String?
            let pem: String?

            /// A PEM file (or, for a CA, a directory of them).
            /// - Parameter path: The path.
            /// - Returns: The source.
            public static func file(_ path: String) -> Source { Source(location: path, pem: nil) }

            /// PEM text, e.g. from a secret store.
            /// - Parameter text: The PEM-encoded certificate or key.
            /// - Returns: The source.
            public static func pem(_ text: String) -> Source { Source(location: nil, pem: text) }

            fileprivate func properties(_ name: String) -> [(String, String)] {
                if let location { return [("ssl.\(name).location", location)] }
                if let pem { return [("ssl.\(name).pem", pem)] }
                return []
            }

            fileprivate func describe(_ name: String) -> String {
                location.map { "\(name)=\($0)" } ?? "\(name)=pem"
            }
        }

        /// The CA certificates that sign the brokers' certificates; nil uses the system's.
        public var ca: Source?
        /// The client certificate, for mutual TLS.
        public var certificate: Source?
        /// The client's private key, for mutual TLS. Never part of a description when given as PEM.
        public var key: Source?
        /// The private key's passphrase, if it is encrypted. Never part of a description.
        public var keyPassword: String?
        /// Whether the broker's certificate must name the host connected to
        /// (`ssl.endpoint.identification.algorithm=https`). Turn it off only for brokers addressed by an IP or a
        /// name their certificate lacks.
        public var verifiesHostname: Bool

        /// Creates TLS settings.
        /// - Parameters:
        ///   - ca: The CA certificates; nil uses the system's.
        ///   - certificate: The client certificate, for mutual TLS.
        ///   - key: The client's private key, for mutual TLS.
        ///   - keyPassword: The private key's passphrase, if any.
        ///   - verifiesHostname: Whether the broker's certificate must name the host connected to.
        public init(
            ca: Source? = nil,
            certificate: Source? = nil,
            key: Source? = nil,
            keyPassword: String? = nil,
            verifiesHostname: Bool = true
        ) {
            self.ca = ca
            self.certificate = certificate
            self.key = key
            self.keyPassword = keyPassword
            self.verifiesHostname = verifiesHostname
        }

        var librdkafkaProperties: [(String, String)] {
            var properties: [(String, String)] = []
            properties += ca?.properties("ca") ?? []
            properties += certificate?.properties("certificate") ?? []
            properties += key?.properties("key") ?? []
            if let keyPassword { properties.append(("ssl.key.password", keyPassword)) }
            properties.append(("ssl.endpoint.identification.algorithm", verifiesHostname ? "https" : "none"))
            return properties
        }

        /// The sources and the hostname check; key material and passwords are never shown.
        public var description: String {
            var parts: [String] = []
            if let ca { parts.append(ca.describe("ca")) }
            if let certificate { parts.append(certificate.describe("certificate")) }
            if let key {
                parts.append(key.location.map { "key=\($0)" } ?? "key=\(SecretRedaction.placeholder)")
            }
            if keyPassword != nil { parts.append("key-password=\(SecretRedaction.placeholder)") }
            parts.append(verifiesHostname ? "hostname-verification=on" : "hostname-verification=off")
            return "tls(" + parts.joined(separator: " ") + ")"
        }

        public var debugDescription: String { description }

        /// Reflection shows the redacted description only.
        public var customMirror: Mirror { Mirror(self, children: ["redacted": description]) }
    }
}

extension SecurityConfiguration {
    /// Why a set of librdkafka properties would configure security settings that the security protocol ignores (for
    /// example `sasl.password` with `security.protocol=ssl`), or nil when every setting applies.
    ///
    /// librdkafka itself ignores such settings silently; a client built from them would connect without the
    /// authentication its operator asked for, or fail with an unrelated-looking error.
    /// - Parameter properties: The effective properties (last value per key).
    /// - Returns: The problem, naming the properties and the protocol.
    static func problem(in properties: [String: String]) -> String? {
        let protocolValue = properties["security.protocol"]?.lowercased() ?? "plaintext"
        let usesSASL = protocolValue.hasPrefix("sasl_")
        let usesTLS = protocolValue == "ssl" || protocolValue == "sasl_ssl"
        let keys = properties.keys.sorted()
        let saslKeys = keys.filter { $0.hasPrefix("sasl.") }
        let tlsKeys = keys.filter { $0.hasPrefix("ssl.") || $0 == "enable.ssl.certificate.verification" }
        if !usesSASL, !saslKeys.isEmpty {
            return "\(saslKeys.joined(separator: ", ")) set, but security.protocol is \(protocolValue): SASL "
                + "settings apply only with sasl_plaintext or sasl_ssl"
        }
        if !usesTLS, !tlsKeys.isEmpty {
            return "\(tlsKeys.joined(separator: ", ")) set, but security.protocol is \(protocolValue): TLS settings "
                + "apply only with ssl or sasl_ssl"
        }
        return nil
    }
}
