internal import CRDKafka
import Foundation

/// The librdkafka properties a process gathers from where deployments set them — a properties file, the environment
/// and the command line — merged by one precedence rule. Every pipeline executable (`PipelineOptions`) and every
/// `dabba` command that connects to Kafka reads them through this type, and every client the process creates uses
/// the result.
///
/// Precedence, lowest first (a later source overrides an earlier one, key by key):
///
/// 1. Dabba's typed settings (``ClientConfiguration``, ``SecurityConfiguration``, the consumer and producer
///    defaults);
/// 2. the properties file: `--config FILE`, else the file named by `DABBA_KAFKA_CONFIG`;
/// 3. the environment: `DABBA_KAFKA_<KEY>` (the key upper-cased, `.` written `_` and `_` written `__`, as in
///    Confluent's images: `DABBA_KAFKA_SASL_PASSWORD` is `sasl.password`, `DABBA_KAFKA_LOG__LEVEL` is
///    `log_level`), and `DABBA_BOOTSTRAP` for `bootstrap.servers`;
/// 4. the command line: `--property KEY=VALUE` (repeatable) and `-b/--bootstrap` for `bootstrap.servers`.
///
/// The properties file has the format kcat's `-F` reads: one `key=value` per line, split at the first `=`;
/// whitespace around the line and around the `=` is ignored; blank lines and lines starting with `#` are skipped.
/// A line without `=` or with an empty key is an error naming `file:line`.
///
/// Nothing is ignored: an unknown key or an invalid value fails ``validate()`` with a ``KafkaError`` naming the key
/// and where it was set (never showing a secret value, nor the value of an unknown key), and two spellings of the
/// bootstrap servers in the same source that disagree are an error.
public struct ClientProperties: Sendable {
    /// Where a property was set.
    public struct Source: Sendable, Hashable, CustomStringConvertible {
        /// How precedence ranks the source: file < environment < command line.
        public let rank: Int
        /// Where it was set, for messages: `--property`, `environment variable DABBA_KAFKA_SASL_PASSWORD`,
        /// `/etc/dabba/kafka.properties:3`.
        public let description: String

        /// A `--property KEY=VALUE` argument.
        public static let propertyOption = Source(rank: 3, description: "--property")
        /// The `-b/--bootstrap` option.
        public static let bootstrapOption = Source(rank: 3, description: "-b/--bootstrap")

        /// An environment variable.
        /// - Parameter name: The variable's name.
        /// - Returns: The source.
        public static func environment(_ name: String) -> Source {
            Source(rank: 2, description: "environment variable \(name)")
        }

        /// A line of the properties file.
        /// - Parameters:
        ///   - path: The file's path.
        ///   - line: The 1-based line number.
        /// - Returns: The source.
        public static func file(_ path: String, line: Int) -> Source {
            Source(rank: 1, description: "\(path):\(line)")
        }
    }

    /// One property and where it was set.
    public struct Entry: Sendable, Hashable, CustomStringConvertible {
        /// The librdkafka property name.
        public var key: String
        /// Its value.
        public var value: String
        /// Where it was set.
        public var source: Source

        /// `key=value (source)`, the value redacted when the key is secret.
        public var description: String {
            "\(key)=\(SecretRedaction.displayValue(value, key: key)) (\(source))"
        }

        /// Parses `KEY=VALUE`, split at the first `=`; the value may be empty or contain `=`.
        /// - Parameters:
        ///   - assignment: The text.
        ///   - source: Where it was given.
        /// - Returns: The entry.
        /// - Throws: ``KafkaError`` `invalidArgument` when there is no `=` or the key is empty.
        public static func parse(_ assignment: String, source: Source) throws(KafkaError) -> Entry {
            guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                // The text may be a secret typed without its key: show only its first characters.
                let shown = assignment.count > 12 ? "\(assignment.prefix(8))…" : assignment
                throw KafkaError(
                    .invalidArgument,
                    "\(source): '\(shown)' is not KEY=VALUE (for example message.max.bytes=2000000)"
                )
            }
            let key = String(assignment[..<equals])
            return Entry(key: key, value: String(assignment[assignment.index(after: equals)...]), source: source)
        }
    }

    /// The environment variable whose value is the bootstrap servers.
    public static let bootstrapVariable = "DABBA_BOOTSTRAP"
    /// The prefix of environment variables that set librdkafka properties.
    public static let environmentPrefix = "DABBA_KAFKA_"
    /// The environment variable naming a properties file (when `--config` is not given).
    public static let configFileVariable = "DABBA_KAFKA_CONFIG"

    /// The winning entry for each key.
    public private(set) var entries: [String: Entry]
    /// The properties file that was read, if any.
    public private(set) var configFile: String?

    /// Gathers the properties from the file, the environment and the command line.
    /// - Parameters:
    ///   - bootstrap: The `-b/--bootstrap` value, if given.
    ///   - properties: The `--property KEY=VALUE` values (later ones override earlier ones).
    ///   - configFile: The `--config` path, if given (it takes the place of `DABBA_KAFKA_CONFIG`).
    ///   - environment: The process environment.
    /// - Throws: ``KafkaError`` `invalidArgument` for a malformed `--property`, a properties file that cannot be
    ///   read or has a malformed line (naming `file:line`), an empty `DABBA_KAFKA_` key, or two disagreeing
    ///   spellings of the bootstrap servers in the same source.
    public init(
        bootstrap: String? = nil,
        properties: [String] = [],
        configFile: String? = nil,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(KafkaError) {
        entries = [:]
        let filePath = configFile ?? environment[Self.configFileVariable].flatMap { $0.isEmpty ? nil : $0 }
        self.configFile = filePath
        if let filePath { try merge(Self.readFile(filePath)) }
        try merge(Self.environmentEntries(environment))
        var commandLine: [Entry] = []
        for text in properties { commandLine.append(try Entry.parse(text, source: .propertyOption)) }
        if let bootstrap {
            commandLine.append(Entry(key: "bootstrap.servers", value: bootstrap, source: .bootstrapOption))
        }
        try merge(commandLine)
    }

    /// The bootstrap servers, from whichever source set `bootstrap.servers`.
    public var bootstrapServers: String? {
        entries["bootstrap.servers"].map(\.value).flatMap { $0.allSatisfy(\.isWhitespace) ? nil : $0 }
    }

    /// The properties besides `bootstrap.servers`, sorted by key.
    public var librdkafkaEntries: [Entry] {
        entries.values.filter { $0.key != "bootstrap.servers" }.sorted { $0.key < $1.key }
    }

    /// Puts the properties into client settings: the bootstrap servers (when set) into
    /// ``ClientConfiguration/bootstrapServers``, every other property into ``ClientConfiguration/properties``,
    /// overriding what was there.
    /// - Parameter configuration: The settings to complete.
    public func apply(to configuration: inout ClientConfiguration) {
        if let bootstrapServers {
            configuration.bootstrapServers = bootstrapServers.split(separator: ",").map { String($0).trimmed }
        }
        for entry in librdkafkaEntries { configuration.properties[entry.key] = entry.value }
    }

    /// Client settings from the properties alone.
    /// - Parameter clientID: The client id, unless a property sets `client.id`.
    /// - Returns: The settings, validated.
    /// - Throws: ``KafkaError`` `invalidConfiguration` when no source sets the bootstrap servers, or from
    ///   ``validate()``.
    public func clientConfiguration(clientID: String) throws(KafkaError) -> ClientConfiguration {
        guard let bootstrapServers else {
            throw KafkaError(
                .invalidConfiguration,
                "no Kafka brokers given: pass -b/--bootstrap HOST:PORT[,HOST:PORT...], set \(Self.bootstrapVariable), "
                    + "or set bootstrap.servers in the properties file"
            )
        }
        try validate()
        var configuration = ClientConfiguration(bootstrap: bootstrapServers)
        configuration.clientID = clientID
        apply(to: &configuration)
        return configuration
    }

    /// Checks every property with librdkafka, without connecting.
    /// - Throws: ``KafkaError`` `invalidConfiguration` naming the first unknown key or invalid value and where it
    ///   was set; a secret value is never shown.
    public func validate() throws(KafkaError) {
        guard let scratch = rd_kafka_conf_new() else {
            throw KafkaError(.clientCreation, "librdkafka could not allocate a configuration")
        }
        defer { rd_kafka_conf_destroy(scratch) }
        var errorText = [CChar](repeating: 0, count: 512)
        for entry in librdkafkaEntries {
            let result = rd_kafka_conf_set(scratch, entry.key, entry.value, &errorText, errorText.count)
            guard result == RD_KAFKA_CONF_OK else {
                let reason = String(decoding: errorText.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                throw KafkaError.invalidProperty(
                    key: entry.key, value: entry.value, result: result, reason: reason, source: entry.source.description
                )
            }
        }
    }

    /// The properties and their sources, one per line, secrets redacted: what a service logs at start.
    public var redactedDescription: String {
        let file = configFile.map { "properties file \($0)" } ?? "no properties file"
        let lines = entries.values.sorted { $0.key < $1.key }.map { "  \($0)" }
        return ([file] + lines).joined(separator: "\n")
    }

    // MARK: - Sources

    /// Keeps each entry unless a higher-ranked source already set its key; within one source the later entry wins,
    /// except for the bootstrap servers, whose spellings must agree.
    private mutating func merge(_ newEntries: [Entry]) throws(KafkaError) {
        var bootstrapInSource: Entry?
        for entry in newEntries {
            if entry.key == "bootstrap.servers" {
                if let earlier = bootstrapInSource, earlier.value != entry.value,
                    earlier.source.rank == entry.source.rank
                {
                    throw KafkaError(
                        .invalidArgument,
                        "the bootstrap servers are given twice, differently: '\(earlier.value)' (\(earlier.source)) "
                            + "and '\(entry.value)' (\(entry.source)); give them once"
                    )
                }
                bootstrapInSource = entry
            }
            if let current = entries[entry.key], current.source.rank > entry.source.rank { continue }
            entries[entry.key] = entry
        }
    }

    /// The `key=value` lines of a properties file.
    static func readFile(_ path: String) throws(KafkaError) -> [Entry] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw KafkaError(
                .invalidArgument, "cannot read the Kafka properties file \(path): \(error.localizedDescription)"
            )
        }
        return try parseFile(text, path: path)
    }

    /// Parses the properties file format (kcat's `-F`).
    static func parseFile(_ text: String, path: String) throws(KafkaError) -> [Entry] {
        var entries: [Entry] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(rawLine).trimmed
            if line.isEmpty || line.hasPrefix("#") { continue }
            let source = Source.file(path, line: index + 1)
            guard let equals = line.firstIndex(of: "=") else {
                throw KafkaError(.invalidArgument, "\(source): expected key=value, found no '='")
            }
            let key = String(line[..<equals]).trimmed
            guard !key.isEmpty else {
                throw KafkaError(.invalidArgument, "\(source): expected key=value, found an empty key")
            }
            entries.append(Entry(key: key, value: String(line[line.index(after: equals)...]).trimmed, source: source))
        }
        return entries
    }

    /// The `DABBA_KAFKA_*` variables (besides `DABBA_KAFKA_CONFIG`) and `DABBA_BOOTSTRAP`, sorted by name.
    static func environmentEntries(_ environment: [String: String]) throws(KafkaError) -> [Entry] {
        var entries: [Entry] = []
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            if name == bootstrapVariable {
                guard !value.isEmpty else { continue }
                entries.append(Entry(key: "bootstrap.servers", value: value, source: .environment(name)))
                continue
            }
            guard name.hasPrefix(environmentPrefix), name != configFileVariable else { continue }
            let key = propertyName(forVariable: String(name.dropFirst(environmentPrefix.count)))
            guard !key.isEmpty else {
                throw KafkaError(.invalidArgument, "environment variable \(name) names no librdkafka property")
            }
            entries.append(Entry(key: key, value: value, source: .environment(name)))
        }
        return entries
    }

    /// `SASL_PASSWORD` → `sasl.password`, `LOG__LEVEL` → `log_level`.
    static func propertyName(forVariable suffix: String) -> String {
        var name = ""
        var index = suffix.startIndex
        while index < suffix.endIndex {
            let next = suffix.index(after: index)
            if suffix[index] == "_" {
                if next < suffix.endIndex, suffix[next] == "_" {
                    name.append("_")
                    index = suffix.index(after: next)
                    continue
                }
                name.append(".")
            } else {
                name.append(contentsOf: suffix[index].lowercased())
            }
            index = next
        }
        return name
    }

    /// The `DABBA_KAFKA_` variable that sets a property: `sasl.password` → `DABBA_KAFKA_SASL_PASSWORD`.
    /// - Parameter key: The librdkafka property name.
    /// - Returns: The environment variable's name.
    public static func environmentVariable(for key: String) -> String {
        environmentPrefix + key.replacing("_", with: "__").replacing(".", with: "_").uppercased()
    }
}
