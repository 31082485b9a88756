import DabbaKafka
import DabbaTesting
import Foundation
import Testing

/// A client configured for SASL or TLS against the embedded (plaintext) broker: what a wrong `security.protocol` or
/// a broker refusing the credentials looks like. The error must come as soon as librdkafka reports it — the code
/// `authenticationFailed` is only produced on that path; running out of time gives `brokerUnreachable` — and must
/// name the bootstrap servers without showing the password.
@Suite("Secured clients against a plaintext broker", .timeLimit(.minutes(3)))
struct SecuredConnectionTests {
    static let password = "Wrong-Password-9183"
    /// Long enough that only the early exit can produce `authenticationFailed` in time on a loaded machine.
    static let patientTimeout = Duration.seconds(60)

    func saslClient(_ broker: EmbeddedBroker) -> ClientConfiguration {
        var client = ClientConfiguration(bootstrap: broker.bootstrapServers)
        client.security = .saslPlaintext(.scramSHA512(username: "orders", password: Self.password))
        return client
    }

    func expectAuthenticationFailure(_ error: KafkaError, _ broker: EmbeddedBroker) {
        #expect(error.code == .authenticationFailed, "\(error)")
        #expect(error.librdkafkaName == "_AUTHENTICATION", "\(error)")
        #expect(error.message.hasPrefix("authentication failed at \(broker.bootstrapServers): "), "\(error)")
        #expect(error.message.contains("SASL"), "\(error)")
        #expect(!"\(error)".contains(Self.password))
        #expect(!error.isRetriable)
    }

    @Test("metadata: SASL against a plaintext listener fails with authenticationFailed naming the servers")
    func metadata() async throws {
        let broker = try EmbeddedBroker(logger: quietLogger)
        let metadata = try KafkaMetadata(configuration: saslClient(broker), logger: quietLogger)
        let error = try await #require(throws: KafkaError.self) {
            _ = try await metadata.topicPartitionCount(topic: "orders", timeout: Self.patientTimeout)
        }
        expectAuthenticationFailure(error, broker)
    }

    @Test("admin: describing topics fails the same way")
    func admin() async throws {
        let broker = try EmbeddedBroker(logger: quietLogger)
        let admin = try KafkaAdmin(configuration: saslClient(broker), logger: quietLogger)
        let error = try await #require(throws: KafkaError.self) {
            _ = try await admin.describeTopics(nil, timeout: Self.patientTimeout)
        }
        expectAuthenticationFailure(error, broker)
    }

    @Test("producer: its own metadata check fails the same way (its poll thread serves the error)")
    func producer() async throws {
        let broker = try EmbeddedBroker(logger: quietLogger)
        let producer = try KafkaProducer(
            configuration: ProducerConfiguration(client: saslClient(broker)), logger: quietLogger
        )
        let error = try await #require(throws: KafkaError.self) {
            _ = try await producer.topicPartitionCount(topic: "orders", timeout: Self.patientTimeout)
        }
        expectAuthenticationFailure(error, broker)
        try? await producer.close(timeout: .seconds(1))
    }

    @Test("TLS against a plaintext listener: brokerUnreachable within the timeout, saying why")
    func tlsToPlaintext() async throws {
        let broker = try EmbeddedBroker(logger: quietLogger)
        var client = ClientConfiguration(bootstrap: broker.bootstrapServers)
        client.security = .ssl()
        let metadata = try KafkaMetadata(configuration: client, logger: quietLogger)
        let error = try await #require(throws: KafkaError.self) {
            _ = try await metadata.topicPartitionCount(topic: "orders", timeout: .seconds(3))
        }
        #expect(error.code == .brokerUnreachable, "\(error)")
        #expect(error.message.hasPrefix("no broker at \(broker.bootstrapServers) answered within 3"), "\(error)")
        // librdkafka reports "SSL handshake failed: … PLAINTEXT broker listener?" and then plain disconnects, both
        // in the handshake state: the last one names it.
        #expect(error.message.contains("SSL_HANDSHAKE"), "\(error)")
    }

    @Test("the same client settings without SASL reach the broker (the failure is the security, not the test)")
    func plaintextControl() async throws {
        let broker = try EmbeddedBroker(logger: quietLogger)
        let topic = uniqueTopic()
        try await broker.createTopic(topic, partitions: 3)
        var client = saslClient(broker)
        client.security = .plaintext
        let metadata = try KafkaMetadata(configuration: client, logger: quietLogger)
        #expect(try await metadata.topicPartitionCount(topic: topic, timeout: Self.patientTimeout) == 3)
    }
}
