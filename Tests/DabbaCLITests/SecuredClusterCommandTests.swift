import DabbaKafka
import DabbaTesting
import Foundation
import Testing

/// The repository's catalog directory, for `dabba topics plan/apply`.
private let repositoryTopics = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Topics").path

/// Writes a properties file into a fresh temporary directory; removed when the test ends.
private func withPropertiesFile<Result>(
    _ text: String, _ body: (String) async throws -> Result
) async throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let file = directory.appendingPathComponent("kafka.properties")
    try Data(text.utf8).write(to: file)
    return try await body(file.path)
}

@Suite("dabba: Kafka properties, secured clusters and secrets", .timeLimit(.minutes(5)))
struct SecuredClusterCommandTests {
    static let password = "Cli-Secret-Password-5521"
    static let scramFile = """
        # A SCRAM cluster (the embedded broker speaks neither SASL nor TLS)
        security.protocol=SASL_PLAINTEXT
        sasl.mechanism=SCRAM-SHA-512
        sasl.username=orders
        sasl.password=\(password)
        """

    func expectAuthenticationFailure(_ result: CommandResult, _ command: [String]) {
        #expect(result.exitCode == 1, "\(command): \(result.stderr)")
        // Only the early exit says this; waiting out --timeout would report an unreachable broker.
        #expect(
            result.stderr.contains("authentication failed at \(sharedBroker.bootstrapServers)"),
            "\(command): \(result.stderr)"
        )
        #expect(!result.stderr.contains(Self.password) && !result.stdout.contains(Self.password), "\(command)")
    }

    @Test("every command that connects uses --config; SASL refused by the broker fails at once, naming the servers")
    func everyCommandUsesConfig() async throws {
        let topic = try await makeTopic(partitions: 1)
        try await withPropertiesFile(Self.scramFile) { path in
            let commands: [[String]] = [
                ["produce", "-t", topic, "--value", "v"],
                ["produce", "-t", topic],
                ["consume", "-t", topic, "--max", "1"],
                ["topics", "plan", "--catalog", repositoryTopics],
                ["topics", "apply", "--catalog", repositoryTopics],
                ["dlq", "inspect", topic],
                ["dlq", "replay", topic],
            ]
            for command in commands {
                let result = try await Dabba.run(
                    command + bootstrapArguments + ["--config", path, "--timeout", "30"], input: ""
                )
                expectAuthenticationFailure(result, command)
            }
        }
    }

    @Test("DABBA_KAFKA_* variables and DABBA_KAFKA_CONFIG work like --property and --config")
    func environment() async throws {
        let topic = try await makeTopic(partitions: 1)
        let fromVariables = try await Dabba.run(
            ["consume", "-t", topic, "--max", "1", "--timeout", "30"] + bootstrapArguments,
            environment: [
                "DABBA_KAFKA_SECURITY_PROTOCOL": "sasl_plaintext", "DABBA_KAFKA_SASL_MECHANISM": "PLAIN",
                "DABBA_KAFKA_SASL_USERNAME": "orders", "DABBA_KAFKA_SASL_PASSWORD": Self.password,
            ]
        )
        expectAuthenticationFailure(fromVariables, ["consume (variables)"])
        let withServers = Self.scramFile + "\nbootstrap.servers=\(sharedBroker.bootstrapServers)\n"
        try await withPropertiesFile(withServers) { path in
            // The bootstrap servers come from the file too.
            let fromFile = try await Dabba.run(
                ["produce", "-t", topic, "--value", "v", "--timeout", "30"], environment: ["DABBA_KAFKA_CONFIG": path]
            )
            expectAuthenticationFailure(fromFile, ["produce (DABBA_KAFKA_CONFIG)"])
            // --property overrides the file; a protocol that would leave the file's SASL settings unused is refused.
            let overridden = try await Dabba.run(
                ["produce", "-t", topic, "--value", "v", "--config", path, "--property", "security.protocol=plaintext"]
            )
            #expect(overridden.exitCode == 1)
            #expect(
                overridden.stderr.contains(
                    "sasl.mechanism, sasl.password, sasl.username set, but security.protocol is plaintext"
                ),
                "\(overridden.stderr)"
            )
            #expect(!overridden.stderr.contains(Self.password))
        }
    }

    @Test("a bad secret value, an ignored secret and a bad properties file are reported without the secret")
    func secretsNeverPrinted() async throws {
        let topic = try await makeTopic(partitions: 1)
        let pem = "-----BEGIN PRIVATE KEY-----\nPEMSECRET\(Self.password)\n-----END PRIVATE KEY-----"
        let badKey = try await Dabba.run(
            ["produce", "-t", topic, "--value", "v"] + bootstrapArguments
                + ["--property", "security.protocol=ssl", "--property", "ssl.key.pem=\(pem)",
                   "--property", "ssl.key.password=\(Self.password)"]
        )
        #expect(badKey.exitCode == 1)
        #expect(badKey.stderr.hasPrefix("error: could not create the Kafka client"), "\(badKey.stderr)")

        let ignored = try await Dabba.run(
            ["consume", "-t", topic] + bootstrapArguments + ["--property", "sasl.password=\(Self.password)"]
        )
        #expect(ignored.exitCode == 1)
        #expect(ignored.stderr.contains("sasl.password set, but security.protocol is plaintext"), "\(ignored.stderr)")

        let unknown = try await Dabba.run(
            ["produce", "-t", topic, "--value", "v"] + bootstrapArguments
                + ["--property", "sasl.passwort=\(Self.password)"]
        )
        #expect(unknown.exitCode == 1)
        #expect(
            unknown.stderr.hasPrefix("error: invalid librdkafka property 'sasl.passwort' (from --property): "),
            "\(unknown.stderr)"
        )

        let badFile = try await withPropertiesFile("linger.ms=1\nsasl.password \(Self.password)\n") { path in
            let result = try await Dabba.run(["dlq", "inspect", topic, "--config", path] + bootstrapArguments)
            #expect(result.stderr.contains("\(path):2: expected key=value, found no '='"), "\(result.stderr)")
            return result
        }
        #expect(badFile.exitCode == 64)

        // -v forwards librdkafka's log, and debug=all makes it print its whole configuration.
        let verbose = try await Dabba.run(
            ["produce", "-t", topic, "--value", "v", "-v", "--timeout", "30"] + bootstrapArguments
                + ["--property", "debug=all", "--property", "security.protocol=sasl_plaintext",
                   "--property", "sasl.mechanism=PLAIN", "--property", "sasl.username=orders",
                   "--property", "sasl.password=\(Self.password)"]
        )
        expectAuthenticationFailure(verbose, ["produce -v debug=all"])
        #expect(verbose.stderr.contains("sasl.password"), "librdkafka printed no configuration: \(verbose.stderr)")

        let help = try await Dabba.run(
            ["produce", "--help"], environment: ["DABBA_KAFKA_SASL_PASSWORD": Self.password]
        )
        #expect(help.exitCode == 0)
        #expect(help.stdout.contains("--config <file>") && help.stdout.contains("--property <key=value>"))

        for result in [badKey, ignored, unknown, badFile, verbose, help] {
            #expect(!result.stderr.contains(Self.password) && !result.stdout.contains(Self.password))
            #expect(!result.stderr.contains("PEMSECRET") && !result.stdout.contains("PEMSECRET"))
        }
    }
}

/// noida-db (the persistent test broker) speaks SASL/PLAIN but accepts any credentials, and has no SCRAM: with it
/// the SASL path works end to end (handshake, authentication, produce, consume), and a mechanism it lacks is a clear
/// authentication error rather than a wait.
@Suite(
    "dabba with SASL/PLAIN on the persistent broker",
    .enabled(if: PersistentTestBroker.isAvailable, Comment(rawValue: PersistentTestBroker.unavailableMessage)),
    .timeLimit(.minutes(3))
)
struct SASLPersistentBrokerTests {
    @Test("SASL/PLAIN produces and consumes; SCRAM, which the broker lacks, fails at once naming the servers")
    func plainAndScram() async throws {
        try await PersistentTestBroker.with { broker in
            let topic = "sasl-" + TestHelpers.uniqueName("plain")
            let admin = try broker.admin(logger: quietLogger)
            try await admin.createTopics([NewTopic(name: topic, partitions: 1, replicationFactor: 1)])
            let sasl = [
                "-b", broker.bootstrapServers, "--property", "security.protocol=SASL_PLAINTEXT",
                "--property", "sasl.username=orders",
                "--property", "sasl.password=\(SecuredClusterCommandTests.password)",
            ]
            let produced = try await Dabba.run(
                ["produce", "-t", topic, "--key", "k", "--value", "over-sasl"] + sasl
                    + ["--property", "sasl.mechanism=PLAIN"]
            )
            #expect(produced.exitCode == 0, "\(produced.stderr)")
            let consumed = try await Dabba.run(
                ["consume", "-t", topic, "--max", "1", "--from", "beginning"] + sasl
                    + ["--property", "sasl.mechanism=PLAIN"]
            )
            #expect(consumed.exitCode == 0, "\(consumed.stderr)")
            #expect(try consumed.jsonLines().map { $0.string("value") } == ["over-sasl"])

            let scram = try await Dabba.run(
                ["produce", "-t", topic, "--value", "v", "--timeout", "30"] + sasl
                    + ["--property", "sasl.mechanism=SCRAM-SHA-256"]
            )
            #expect(scram.exitCode == 1)
            #expect(scram.stderr.contains("authentication failed at \(broker.bootstrapServers)"), "\(scram.stderr)")
            #expect(!scram.stderr.contains(SecuredClusterCommandTests.password))
        }
    }
}
