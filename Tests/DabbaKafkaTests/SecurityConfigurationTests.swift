import DabbaTesting
import Foundation
import Testing

@testable import DabbaKafka

@Suite("Security settings and secret redaction (no broker)")
struct SecurityConfigurationTests {
    static let password = "pa55-Word-Never-Shown"
    static let clientSecret = "oidc-Client-Secret-42"
    static let keyPassword = "key-Passphrase-77"
    static let keyPEM = "-----BEGIN PRIVATE KEY-----\nMIIEvSECRETKEYMATERIAL\n-----END PRIVATE KEY-----"

    func properties(_ client: ClientConfiguration) -> [String: String] {
        Dictionary(client.librdkafkaProperties, uniquingKeysWith: { _, later in later })
    }

    @Test("SASL/PLAIN and SCRAM over TLS map to security.protocol, sasl.* and ssl.*")
    func saslMapping() {
        var client = ClientConfiguration(bootstrap: "broker:9092")
        #expect(properties(client)["security.protocol"] == "plaintext")

        client.security = .saslSSL(.plain(username: "api-key", password: Self.password))
        var mapped = properties(client)
        #expect(mapped["security.protocol"] == "sasl_ssl")
        #expect(mapped["sasl.mechanism"] == "PLAIN")
        #expect(mapped["sasl.username"] == "api-key")
        #expect(mapped["sasl.password"] == Self.password)
        #expect(mapped["ssl.endpoint.identification.algorithm"] == "https")

        client.security = .saslPlaintext(.scramSHA256(username: "u", password: Self.password))
        mapped = properties(client)
        #expect(mapped["security.protocol"] == "sasl_plaintext")
        #expect(mapped["sasl.mechanism"] == "SCRAM-SHA-256")
        #expect(mapped.keys.allSatisfy { !$0.hasPrefix("ssl.") })

        client.security = .saslSSL(
            .scramSHA512(username: "u", password: Self.password),
            tls: .init(ca: .file("/etc/ca.pem"), verifiesHostname: false)
        )
        mapped = properties(client)
        #expect(mapped["sasl.mechanism"] == "SCRAM-SHA-512")
        #expect(mapped["ssl.ca.location"] == "/etc/ca.pem")
        #expect(mapped["ssl.endpoint.identification.algorithm"] == "none")
    }

    @Test("OAUTHBEARER uses librdkafka's OIDC client-credentials properties")
    func oauthMapping() {
        var client = ClientConfiguration(bootstrap: "broker:9092")
        client.security = .saslSSL(
            .oauthBearer(
                .init(
                    tokenEndpoint: "https://idp.example/oauth2/token", clientID: "orders",
                    clientSecret: Self.clientSecret, scope: "kafka",
                    extensions: ["logicalCluster": "lkc-1", "identityPoolId": "pool-2"]
                )
            )
        )
        let mapped = properties(client)
        #expect(mapped["sasl.mechanism"] == "OAUTHBEARER")
        #expect(mapped["sasl.oauthbearer.method"] == "oidc")
        #expect(mapped["sasl.oauthbearer.token.endpoint.url"] == "https://idp.example/oauth2/token")
        #expect(mapped["sasl.oauthbearer.client.id"] == "orders")
        #expect(mapped["sasl.oauthbearer.client.secret"] == Self.clientSecret)
        #expect(mapped["sasl.oauthbearer.scope"] == "kafka")
        #expect(mapped["sasl.oauthbearer.extensions"] == "identityPoolId=pool-2,logicalCluster=lkc-1")
    }

    @Test("mutual TLS from files or PEM text, with a key password")
    func tlsMapping() {
        var client = ClientConfiguration(bootstrap: "broker:9093")
        client.security = .ssl(
            .init(ca: .pem("CA-PEM"), certificate: .file("/etc/client.crt"), key: .pem(Self.keyPEM),
                  keyPassword: Self.keyPassword)
        )
        let mapped = properties(client)
        #expect(mapped["security.protocol"] == "ssl")
        #expect(mapped["ssl.ca.pem"] == "CA-PEM")
        #expect(mapped["ssl.certificate.location"] == "/etc/client.crt")
        #expect(mapped["ssl.key.pem"] == Self.keyPEM)
        #expect(mapped["ssl.key.password"] == Self.keyPassword)
        #expect(mapped["ssl.ca.location"] == nil && mapped["ssl.key.location"] == nil)
    }

    @Test("descriptions, debug descriptions and dumps never show a secret")
    func descriptionsRedact() {
        var client = ClientConfiguration(bootstrap: "broker:9092")
        client.security = .saslSSL(
            .plain(username: "api-key", password: Self.password),
            tls: .init(certificate: .file("/c.crt"), key: .pem(Self.keyPEM), keyPassword: Self.keyPassword)
        )
        client.properties["sasl.oauthbearer.client.secret"] = Self.clientSecret
        client.properties["linger.ms"] = "7"
        var consumer = ConsumerConfiguration(client: client, groupID: "g")
        consumer.properties["ssl.keystore.password"] = Self.keyPassword
        var dumped = ""
        dump(client, to: &dumped)
        var dumpedConsumer = ""
        dump(consumer.client, to: &dumpedConsumer)
        let oauth = SecurityConfiguration.OAuthBearerOIDC(
            tokenEndpoint: "https://idp/token", clientID: "c", clientSecret: Self.clientSecret
        )
        var dumpedOAuth = ""
        dump(oauth, to: &dumpedOAuth)
        let texts = [
            client.description, client.debugDescription, client.redactedDescription, "\(client)",
            String(reflecting: client), String(describing: ProducerConfiguration(client: client)), dumped,
            dumpedConsumer, "\(oauth)", String(reflecting: oauth), dumpedOAuth, "\(client.security)",
        ]
        for text in texts {
            for secret in [Self.password, Self.clientSecret, Self.keyPassword, "SECRETKEYMATERIAL"] {
                #expect(!text.contains(secret), "\(text)")
            }
        }
        #expect(client.redactedDescription.contains("linger.ms=7"))
        #expect(client.redactedDescription.contains("user=api-key"))
        #expect(client.redactedDescription.contains("sasl.oauthbearer.client.secret=[redacted]"))
    }

    @Test("which property names are secret")
    func secretNames() {
        for key in [
            "sasl.password", "ssl.key.password", "ssl.keystore.password", "ssl.key.pem", "SSL.KEY.PEM",
            "sasl.oauthbearer.client.secret", "sasl.oauthbearer.config", "sasl.jaas.config", "some.token",
            "ssl.certificate.pem",
        ] {
            #expect(SecretRedaction.isSecret(key: key), "\(key)")
        }
        for key in [
            "sasl.username", "security.protocol", "sasl.mechanism", "ssl.key.location", "ssl.ca.location",
            "sasl.oauthbearer.token.endpoint.url", "sasl.oauthbearer.client.id", "bootstrap.servers",
        ] {
            #expect(!SecretRedaction.isSecret(key: key), "\(key)")
        }
        #expect(SecretRedaction.displayValue("x", key: "sasl.password") == "[redacted]")
        #expect(SecretRedaction.displayValue("PLAIN", key: "sasl.mechanism") == "PLAIN")
    }

    @Test("scrubbing removes every secret value from free text")
    func scrubbing() {
        let secrets = SecretRedaction.secretValues(in: [
            ("sasl.password", Self.password), ("sasl.username", "alice"), ("ssl.key.password", "abc"),
        ])
        #expect(secrets == [Self.password, "abc"])
        let text = "auth for alice with \(Self.password) failed; \(Self.password) again; abc stays"
        #expect(SecretRedaction.scrub(text, secrets: secrets)
            == "auth for alice with [redacted] failed; [redacted] again; abc stays")
    }

    @Test("a rejected secret value is never echoed by the error")
    func rejectedSecretNotEchoed() throws {
        // An encrypted key with a wrong passphrase and garbage PEM: librdkafka refuses the client at creation.
        var client = ClientConfiguration(bootstrap: "127.0.0.1:1")
        client.security = .ssl(.init(key: .pem(Self.keyPEM), keyPassword: Self.keyPassword))
        let creation = try #require(throws: KafkaError.self) { try KafkaMetadata(configuration: client) }
        // Debian's librdkafka has no OIDC (no libcurl): the typed OAUTHBEARER settings fail on a property; a build
        // with OIDC accepts them, and then nothing is thrown at creation.
        var oauth = ClientConfiguration(bootstrap: "127.0.0.1:1")
        oauth.security = .saslSSL(
            .oauthBearer(.init(tokenEndpoint: "https://idp/token", clientID: "c", clientSecret: Self.clientSecret))
        )
        var errors = [creation]
        do {
            _ = try KafkaMetadata(configuration: oauth)
        } catch let error as KafkaError {
            #expect(error.code == .invalidConfiguration)
            #expect(error.message.contains("'sasl.oauthbearer."), "\(error)")
            errors.append(error)
        }
        // An unknown property (perhaps a misspelt secret one): its value is never shown.
        var rejected = ClientConfiguration(bootstrap: "127.0.0.1:1")
        rejected.properties["dabba.unknown.secret"] = Self.password
        let unknown = try #require(throws: KafkaError.self) { try KafkaMetadata(configuration: rejected) }
        #expect(unknown.code == .invalidConfiguration)
        #expect(unknown.message.hasPrefix("invalid librdkafka property 'dabba.unknown.secret': "), "\(unknown)")
        errors.append(unknown)
        for error in errors {
            for secret in [Self.password, Self.clientSecret, Self.keyPassword, "SECRETKEYMATERIAL"] {
                #expect(!"\(error)".contains(secret), "\(error)")
            }
        }
    }

    @Test("security settings the protocol would ignore are an error, not silently dropped")
    func ignoredSettingsRefused() throws {
        var client = ClientConfiguration(bootstrap: "127.0.0.1:1")
        client.properties["sasl.username"] = "alice"
        client.properties["sasl.password"] = Self.password
        let sasl = try #require(throws: KafkaError.self) { try KafkaMetadata(configuration: client) }
        #expect(sasl.code == .invalidConfiguration)
        #expect(sasl.message.contains("sasl.password, sasl.username set, but security.protocol is plaintext"))
        #expect(!"\(sasl)".contains(Self.password))

        var tls = ClientConfiguration(bootstrap: "127.0.0.1:1")
        tls.security = .saslPlaintext(.plain(username: "a", password: Self.password))
        tls.properties["ssl.ca.location"] = "/etc/ca.pem"
        let ignoredTLS = try #require(throws: KafkaError.self) { try KafkaMetadata(configuration: tls) }
        #expect(ignoredTLS.message.contains("ssl.ca.location set, but security.protocol is sasl_plaintext"))

        // A property overriding the typed protocol leaves the typed TLS settings without effect: refused too.
        var overridden = ClientConfiguration(bootstrap: "127.0.0.1:1")
        overridden.security = .saslSSL(.plain(username: "a", password: Self.password))
        overridden.properties["security.protocol"] = "SASL_PLAINTEXT"
        let mismatch = try #require(throws: KafkaError.self) { try KafkaMetadata(configuration: overridden) }
        #expect(mismatch.message.contains("ssl.endpoint.identification.algorithm set"))
    }
}
