import ArgumentParser
import DabbaKafka
import Foundation
import Logging

/// Options shared by the commands that connect to Kafka: where the brokers are, librdkafka properties (security
/// settings among them), and how talkative librdkafka may be.
///
/// Properties come from `--config FILE` (or `$DABBA_KAFKA_CONFIG`), `DABBA_KAFKA_*` variables and `--property`,
/// merged by ``ClientProperties``' precedence rule: the same as every pipeline executable's.
struct ConnectionOptions: ParsableArguments {
    /// The environment variable that supplies the bootstrap servers when `-b` is not given.
    static let bootstrapEnvironmentVariable = ClientProperties.bootstrapVariable

    @Option(
        name: [.customShort("b"), .customLong("bootstrap")],
        help: ArgumentHelp(
            "Bootstrap servers, HOST:PORT[,HOST:PORT...]. Default: $\(bootstrapEnvironmentVariable), or "
                + "bootstrap.servers from the properties file or $DABBA_KAFKA_BOOTSTRAP_SERVERS.",
            valueName: "servers"
        )
    )
    var bootstrap: String?

    @Option(
        name: .customLong("property"),
        help: ArgumentHelp(
            "A librdkafka property, e.g. security.protocol=SASL_SSL (repeatable). Overrides $DABBA_KAFKA_<KEY> "
                + "variables and the properties file.",
            valueName: "key=value"
        )
    )
    var properties: [String] = []

    @Option(
        name: .customLong("config"),
        help: ArgumentHelp(
            "A librdkafka properties file (key=value lines, # comments; kcat's -F format). Default: "
                + "$\(ClientProperties.configFileVariable).",
            valueName: "file"
        )
    )
    var configFile: String?

    @Flag(
        name: [.customShort("v"), .long],
        help: "Show librdkafka log lines on standard error (add --property debug=... for more)."
    )
    var verbose = false

    func validate() throws {
        let gathered: ClientProperties
        do {
            gathered = try gatheredProperties()
        } catch {
            throw ValidationError(error.message)
        }
        guard gathered.bootstrapServers != nil else {
            throw ValidationError(
                "no Kafka brokers given: pass -b/--bootstrap HOST:PORT[,HOST:PORT...], set "
                    + "\(Self.bootstrapEnvironmentVariable), or set bootstrap.servers in --config FILE"
            )
        }
    }

    /// The properties from the file, the environment and the command line, merged.
    func gatheredProperties() throws(KafkaError) -> ClientProperties {
        try ClientProperties(
            bootstrap: bootstrap,
            properties: properties,
            configFile: configFile
        )
    }

    /// Client settings from every source, each property checked by librdkafka.
    /// - Throws: ``CLIError`` naming an invalid property and where it was set.
    func clientConfiguration() throws -> ClientConfiguration {
        do {
            return try gatheredProperties().clientConfiguration(clientID: "dabba-cli")
        } catch {
            throw CLIError(error.cliDescription)
        }
    }

    /// A logger for librdkafka's lines: silent unless `--verbose`.
    func logger(label: String) -> Logger {
        var logger = Self.quietLogger(label: label)
        if verbose { logger.logLevel = .debug }
        return logger
    }

    /// A logger that prints nothing: the CLI reports failures itself, as `error:` lines.
    static func quietLogger(label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = .critical
        return logger
    }
}

extension Duration {
    /// A duration from a command-line number of seconds (fractions allowed).
    static func cliSeconds(_ seconds: Double) -> Duration {
        .milliseconds(Int64((seconds * 1000).rounded()))
    }
}

/// Formats a number of seconds the way the user typed it: `10s`, `2.5s`.
func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? "\(Int64(seconds))s" : "\(seconds)s"
}
