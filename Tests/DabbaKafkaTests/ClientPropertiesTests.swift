import DabbaKafka
import DabbaTesting
import Foundation
import Testing

@Suite("librdkafka properties from file, environment and command line (no broker)")
struct ClientPropertiesTests {
    /// Writes a properties file that is removed when the test ends.
    func withFile(_ text: String, _ body: (String) throws -> Void) throws {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("dabba-properties-\(UUID().uuidString).properties").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        try body(path)
    }

    @Test("kcat's -F format: key=value lines, # comments, blank lines, whitespace and '=' in values")
    func fileFormat() throws {
        let text = """
            # Confluent Cloud
            bootstrap.servers=pkc-1.example:9092

              security.protocol = SASL_SSL\t
            sasl.mechanisms=PLAIN
            sasl.username=KEY
            sasl.password=abc=def==
            client.id=
            #sasl.password=commented-out
            """
        try withFile(text) { path in
            let gathered = try ClientProperties(configFile: path, environment: [:])
            #expect(gathered.configFile == path)
            #expect(gathered.bootstrapServers == "pkc-1.example:9092")
            let values = gathered.entries.mapValues(\.value)
            #expect(values["security.protocol"] == "SASL_SSL")
            #expect(values["sasl.password"] == "abc=def==")
            #expect(values["client.id"] == "")
            #expect(values.count == 6)
            #expect(gathered.entries["sasl.username"]?.source.description == "\(path):6")
        }
    }

    @Test("a malformed line names file:line; an unreadable file names the file")
    func badFile() throws {
        try withFile("linger.ms=5\n\nsasl.password hunter2222\n") { path in
            let error = try #require(throws: KafkaError.self) {
                try ClientProperties(configFile: path, environment: [:])
            }
            #expect(error.code == .invalidArgument)
            #expect(error.message == "\(path):3: expected key=value, found no '='")
            #expect(!error.message.contains("hunter2222"))
        }
        try withFile("=value\n") { path in
            let error = try #require(throws: KafkaError.self) {
                try ClientProperties(configFile: path, environment: [:])
            }
            #expect(error.message == "\(path):1: expected key=value, found an empty key")
        }
        let missing = try #require(throws: KafkaError.self) {
            try ClientProperties(configFile: "/no/such/dabba.properties", environment: [:])
        }
        #expect(missing.message.hasPrefix("cannot read the Kafka properties file /no/such/dabba.properties"))
    }

    @Test("precedence: properties file < environment < command line, key by key")
    func precedence() throws {
        let file = "linger.ms=1\nacks=1\nclient.id=from-file\nbootstrap.servers=file:9092\n"
        try withFile(file) { path in
            let environment = [
                "DABBA_KAFKA_LINGER_MS": "2", "DABBA_KAFKA_ACKS": "all", "DABBA_BOOTSTRAP": "env:9092",
                "DABBA_KAFKA_CONFIG": "/ignored/because/--config/wins", "UNRELATED": "x",
            ]
            let gathered = try ClientProperties(
                bootstrap: "cli:9092", properties: ["linger.ms=3", "linger.ms=4"], configFile: path,
                environment: environment
            )
            let values = gathered.entries.mapValues(\.value)
            #expect(values["linger.ms"] == "4")
            #expect(gathered.entries["linger.ms"]?.source == .propertyOption)
            #expect(values["acks"] == "all")
            #expect(gathered.entries["acks"]?.source == .environment("DABBA_KAFKA_ACKS"))
            #expect(values["client.id"] == "from-file")
            #expect(gathered.bootstrapServers == "cli:9092")
            #expect(values.count == 4)

            var client = ClientConfiguration(bootstrap: "typed:1")
            client.properties["linger.ms"] = "0"
            gathered.apply(to: &client)
            #expect(client.bootstrapServers == ["cli:9092"])
            #expect(client.properties == ["linger.ms": "4", "acks": "all", "client.id": "from-file"])

            let fromEnvironment = try ClientProperties(configFile: path, environment: environment)
            #expect(fromEnvironment.bootstrapServers == "env:9092")
            let fromFile = try ClientProperties(environment: ["DABBA_KAFKA_CONFIG": path])
            #expect(fromFile.bootstrapServers == "file:9092")
            #expect(fromFile.configFile == path)
        }
    }

    @Test("DABBA_KAFKA_<KEY>: '_' is '.', '__' is '_', lower-cased; and back")
    func environmentNames() throws {
        let gathered = try ClientProperties(environment: [
            "DABBA_KAFKA_SASL_PASSWORD": "p", "DABBA_KAFKA_LOG__LEVEL": "7",
            "DABBA_KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM": "none", "DABBA_KAFKA_BOOTSTRAP_SERVERS": "a:1",
        ])
        #expect(gathered.entries["sasl.password"]?.value == "p")
        #expect(gathered.entries["log_level"]?.value == "7")
        #expect(gathered.entries["ssl.endpoint.identification.algorithm"]?.value == "none")
        #expect(gathered.bootstrapServers == "a:1")
        #expect(ClientProperties.environmentVariable(for: "log_level") == "DABBA_KAFKA_LOG__LEVEL")
        #expect(ClientProperties.environmentVariable(for: "sasl.password") == "DABBA_KAFKA_SASL_PASSWORD")
        let empty = try #require(throws: KafkaError.self) {
            try ClientProperties(environment: ["DABBA_KAFKA_": "x"])
        }
        #expect(empty.message == "environment variable DABBA_KAFKA_ names no librdkafka property")
    }

    @Test("two different bootstrap lists in one source are an error; equal ones are fine")
    func bootstrapConflicts() throws {
        let cli = try #require(throws: KafkaError.self) {
            try ClientProperties(bootstrap: "a:1", properties: ["bootstrap.servers=b:1"], environment: [:])
        }
        #expect(cli.message.contains("'b:1' (--property) and 'a:1' (-b/--bootstrap)"), "\(cli)")
        let environment = try #require(throws: KafkaError.self) {
            try ClientProperties(environment: ["DABBA_BOOTSTRAP": "a:1", "DABBA_KAFKA_BOOTSTRAP_SERVERS": "b:1"])
        }
        #expect(environment.message.contains("environment variable DABBA_BOOTSTRAP"))
        let same = try ClientProperties(
            bootstrap: "a:1", properties: ["bootstrap.servers=a:1"], environment: ["DABBA_BOOTSTRAP": "c:1"]
        )
        #expect(same.bootstrapServers == "a:1")
    }

    @Test("--property must be KEY=VALUE; the error does not echo a long value")
    func malformedProperty() throws {
        let error = try #require(throws: KafkaError.self) {
            try ClientProperties(properties: ["sasl.password"], environment: [:])
        }
        #expect(error.message.hasPrefix("--property: 'sasl.pas…' is not KEY=VALUE"), "\(error)")
        #expect(throws: KafkaError.self) { try ClientProperties(properties: ["=x"], environment: [:]) }
    }

    @Test("validation names the key and where it was set, and never shows a secret value")
    func validation() throws {
        try withFile("linger.ms=5\nsasl.mechanism=PLAIN\nno.such.secret=TopSecretValue1\n") { path in
            let gathered = try ClientProperties(bootstrap: "b:1", configFile: path, environment: [:])
            let error = try #require(throws: KafkaError.self) { try gathered.validate() }
            #expect(error.code == .invalidConfiguration)
            #expect(
                error.message.hasPrefix("invalid librdkafka property 'no.such.secret' (from \(path):3): "),
                "\(error)"
            )
            #expect(!"\(error)".contains("TopSecretValue1"))
            #expect(!gathered.redactedDescription.contains("TopSecretValue1"))
            #expect(gathered.redactedDescription.contains("no.such.secret=[redacted] (\(path):3)"))
            #expect(gathered.redactedDescription.contains("linger.ms=5 (\(path):1)"))
        }
        let badValue = try ClientProperties(bootstrap: "b:1", properties: ["linger.ms=soon"], environment: [:])
        let error = try #require(throws: KafkaError.self) { try badValue.clientConfiguration(clientID: "x") }
        #expect(error.message.hasPrefix("invalid librdkafka property 'linger.ms' = 'soon' (from --property)"))

        let noBootstrap = try ClientProperties(properties: ["linger.ms=1"], environment: [:])
        let missing = try #require(throws: KafkaError.self) { try noBootstrap.clientConfiguration(clientID: "x") }
        #expect(missing.message.hasPrefix("no Kafka brokers given"))

        let good = try ClientProperties(
            properties: ["linger.ms=1"], environment: ["DABBA_BOOTSTRAP": "a:1, b:2", "DABBA_KAFKA_ACKS": "1"]
        )
        let client = try good.clientConfiguration(clientID: "svc")
        #expect(client.bootstrapServers == ["a:1", "b:2"])
        #expect(client.clientID == "svc")
        #expect(client.properties == ["linger.ms": "1", "acks": "1"])
    }
}
