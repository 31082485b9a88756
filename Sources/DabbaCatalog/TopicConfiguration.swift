import DabbaSchema

/// Turns a Kafka binding `topicConfiguration` mapping into Kafka topic configs.
enum TopicConfiguration {
    /// Configs whose value must be an integer of at least the given minimum.
    private static let integerConfigs: [String: Int64] = [
        "retention.ms": -1,
        "retention.bytes": -1,
        "delete.retention.ms": 0,
        "max.message.bytes": 0,
        "segment.ms": 1,
        "segment.bytes": 14,
        "min.insync.replicas": 1,
        "min.compaction.lag.ms": 0,
        "max.compaction.lag.ms": 1,
    ]

    /// The accepted `cleanup.policy` values.
    private static let cleanupPolicies: Set<String> = ["delete", "compact"]

    /// Reads a configuration mapping.
    ///
    /// `cleanup.policy` may be a sequence (as in the Kafka bindings) or a comma-separated string; it is joined with
    /// `,`. Integer configs are checked for type and range. Any other key is passed through: scalars are printed,
    /// sequences of scalars joined with `,`.
    /// - Parameters:
    ///   - pointer: The mapping's pointer.
    ///   - reader: The document reader, which records problems as `invalidTopicConfiguration`.
    /// - Returns: Kafka config name → value; entries with problems are left out.
    static func read(_ pointer: JSONPointer, reader: DocumentReader) -> [String: String] {
        guard let object = reader.object(pointer, code: .invalidTopicConfiguration) else { return [:] }
        var configs: [String: String] = [:]
        for (key, value) in object {
            let entry = pointer.appending(key)
            guard isConfigName(key) else {
                reader.errorAtKey(
                    .invalidTopicConfiguration,
                    at: entry,
                    "'\(key)' is not a Kafka topic configuration name"
                )
                continue
            }
            if key == "cleanup.policy" {
                if let policy = cleanupPolicy(value, at: entry, reader: reader) { configs[key] = policy }
            } else if let minimum = integerConfigs[key] {
                guard case .integer(let integer) = value, integer >= minimum else {
                    reader.error(
                        .invalidTopicConfiguration,
                        at: entry,
                        "'\(key)' must be an integer of at least \(minimum), not \(value.shortDescription)"
                    )
                    continue
                }
                configs[key] = String(integer)
            } else if let text = passThrough(value) {
                configs[key] = text
            } else {
                reader.error(
                    .invalidTopicConfiguration,
                    at: entry,
                    "'\(key)' must be a scalar or a sequence of scalars, not \(value.kindName)"
                )
            }
        }
        return configs
    }

    private static func isConfigName(_ key: String) -> Bool {
        !key.isEmpty
            && key.unicodeScalars.allSatisfy { scalar in
                ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || scalar == "." || scalar == "_" || scalar == "-"
            }
    }

    private static func cleanupPolicy(_ value: JSONValue, at pointer: JSONPointer, reader: DocumentReader) -> String? {
        let parts: [String]
        switch value {
        case .string(let string):
            parts = string.split(separator: ",").map { String($0).trimmingWhitespace() }
        case .array(let array):
            var strings: [String] = []
            for (index, item) in array.enumerated() {
                guard case .string(let string) = item else {
                    reader.error(
                        .invalidTopicConfiguration,
                        at: pointer.appending(index),
                        "'cleanup.policy' entries must be 'delete' or 'compact', not \(item.shortDescription)"
                    )
                    return nil
                }
                strings.append(string)
            }
            parts = strings
        default:
            reader.error(
                .invalidTopicConfiguration,
                at: pointer,
                "'cleanup.policy' must be a sequence of 'delete' and 'compact', not \(value.kindName)"
            )
            return nil
        }
        guard !parts.isEmpty else {
            reader.error(.invalidTopicConfiguration, at: pointer, "'cleanup.policy' must not be empty")
            return nil
        }
        if let bad = parts.first(where: { !cleanupPolicies.contains($0) }) {
            reader.error(
                .invalidTopicConfiguration,
                at: pointer,
                "'cleanup.policy' must be 'delete' and/or 'compact', not '\(bad)'"
            )
            return nil
        }
        return parts.joined(separator: ",")
    }

    private static func passThrough(_ value: JSONValue) -> String? {
        switch value {
        case .string(let string): return string
        case .integer(let integer): return String(integer)
        case .double(let double): return Int64(exactly: double).map { String($0) } ?? "\(double)"
        case .bool(let bool): return bool ? "true" : "false"
        case .array(let array):
            let parts = array.compactMap { item -> String? in
                if case .array = item { return nil }
                return passThrough(item)
            }
            return parts.count == array.count ? parts.joined(separator: ",") : nil
        case .null, .object: return nil
        }
    }
}
