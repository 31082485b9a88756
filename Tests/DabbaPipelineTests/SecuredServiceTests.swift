import DabbaKafka
import DabbaTesting
import Foundation
import Testing

/// A pipeline executable pointed at a SASL cluster through `--config`, `DABBA_KAFKA_*` variables or `--property`,
/// run against the embedded (plaintext, SASL-less) broker: the startup check must stop it at once with an
/// authentication error naming the bootstrap servers — proof the settings reached its Kafka clients — and the
/// password must not appear in anything it prints.
@Suite("Pipeline executables: Kafka properties and secured clusters", .serialized, .timeLimit(.minutes(3)))
struct SecuredServiceTests {
    static let password = "Fixture-Secret-4711"

    func run(_ arguments: [String], environment: [String: String?] = [:]) async throws -> (Int32, String) {
        let result = try await TestProcess(
            executable: TestProcess.executable(named: "dabba-service-fixture"), arguments: arguments,
            environment: environment, mergeStandardError: true
        ).waitForExit(timeLimit: .seconds(90))
        return (result.exitCode, result.stdout)
    }

    func expectAuthenticationFailure(_ status: Int32, _ output: String, _ setup: ServiceExecutableTests.Setup) {
        #expect(status != 0)
        // Only the early exit says this; waiting out the check's timeout would report an unreachable broker.
        #expect(output.contains("authentication failed at \(setup.broker.bootstrapServers)"), "\(output)")
        #expect(!output.contains(Self.password), "\(output)")
    }

    @Test("--config FILE: SASL settings reach the startup check, which fails at once; the password is not printed")
    func configFile() async throws {
        let setup = try ServiceExecutableTests.Setup()
        try await setup.createTopics()
        let file = URL(fileURLWithPath: setup.catalog).appendingPathComponent("kafka.properties")
        let properties = """
            # a SCRAM cluster
            security.protocol=SASL_PLAINTEXT
            sasl.mechanism=SCRAM-SHA-512
            sasl.username=authorizer
            sasl.password=\(Self.password)
            """
        try Data(properties.utf8).write(to: file)
        let (status, output) = try await run(setup.arguments(["--config", file.path, "--log-level", "debug"]))
        expectAuthenticationFailure(status, output, setup)
        #expect(output.contains("sasl.password=[redacted]"), "\(output)")
    }

    @Test("DABBA_KAFKA_* variables and --property reach the startup check the same way")
    func environmentAndProperty() async throws {
        let setup = try ServiceExecutableTests.Setup()
        try await setup.createTopics()
        let (status, output) = try await run(
            setup.arguments(["--property", "sasl.mechanism=PLAIN"]),
            environment: [
                "DABBA_KAFKA_SECURITY_PROTOCOL": "sasl_plaintext", "DABBA_KAFKA_SASL_USERNAME": "authorizer",
                "DABBA_KAFKA_SASL_PASSWORD": Self.password,
            ]
        )
        expectAuthenticationFailure(status, output, setup)
    }

    @Test("an invalid property stops the service, naming the property and where it was set")
    func invalidProperty() async throws {
        let setup = try ServiceExecutableTests.Setup()
        let (status, output) = try await run(
            setup.arguments(), environment: ["DABBA_KAFKA_SASL_PASSWORD_TYPO": Self.password]
        )
        #expect(status != 0)
        #expect(
            output.contains(
                "invalid librdkafka property 'sasl.password.typo' (from environment variable "
                    + "DABBA_KAFKA_SASL_PASSWORD_TYPO)"
            ),
            "\(output)"
        )
        #expect(!output.contains(Self.password), "\(output)")
    }
}
