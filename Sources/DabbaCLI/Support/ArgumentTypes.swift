import DabbaKafka

/// Why a command-line value could not be parsed; ArgumentParser shows it after "The value '…' is invalid for …".
struct ArgumentFormatError: Error, CustomStringConvertible {
    var description: String
}

/// `--topic NAME:PARTITIONS[:REPLICAS]` of `dabba broker`.
struct TopicSpec: Sendable, Hashable {
    var name: String
    var partitions: Int32
    var replicationFactor: Int32

    /// Parses `NAME:PARTITIONS` or `NAME:PARTITIONS:REPLICAS`.
    /// - Throws: ``ArgumentFormatError`` naming what is wrong with `text`.
    static func parse(_ text: String) throws -> TopicSpec {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2 || parts.count == 3 else {
            throw ArgumentFormatError(description: "expected NAME:PARTITIONS (for example orders:6), got '\(text)'")
        }
        let name = parts[0]
        if let problem = TopicName.problem(with: name) {
            throw ArgumentFormatError(description: problem)
        }
        guard let partitions = Int32(parts[1]), partitions > 0 else {
            throw ArgumentFormatError(
                description: "the partition count '\(parts[1])' of topic '\(name)' is not a positive integer"
            )
        }
        var replicationFactor: Int32 = 1
        if parts.count == 3 {
            guard let replicas = Int32(parts[2]), replicas > 0 else {
                throw ArgumentFormatError(
                    description: "the replication factor '\(parts[2])' of topic '\(name)' is not a positive integer"
                )
            }
            replicationFactor = replicas
        }
        return TopicSpec(name: name, partitions: partitions, replicationFactor: replicationFactor)
    }
}

/// Kafka's rules for topic names.
enum TopicName {
    /// Why `name` is not a legal Kafka topic name, or nil if it is.
    static func problem(with name: String) -> String? {
        if name.isEmpty { return "the topic name is empty" }
        if name == "." || name == ".." { return "'\(name)' is not a legal topic name" }
        if name.utf8.count > 249 { return "the topic name '\(name.prefix(40))…' is longer than 249 characters" }
        let legal = name.unicodeScalars.allSatisfy { scalar in
            scalar.isASCII
                && (("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
                    || scalar == "." || scalar == "_" || scalar == "-")
        }
        if !legal { return "the topic name '\(name)' may only contain ASCII letters, digits, '.', '_' and '-'" }
        return nil
    }
}

/// `--header NAME=VALUE` of `dabba produce`.
enum HeaderArgument {
    /// Parses `NAME=VALUE` (split at the first `=`; the value may be empty).
    /// - Throws: ``ArgumentFormatError`` naming the header.
    static func parse(_ text: String) throws -> KafkaHeader {
        guard let equals = text.firstIndex(of: "=") else {
            throw ArgumentFormatError(description: "header '\(text)' has no '=': expected NAME=VALUE, e.g. trace-id=42")
        }
        let name = String(text[..<equals])
        guard !name.isEmpty else {
            throw ArgumentFormatError(description: "header '\(text)' has an empty name: expected NAME=VALUE")
        }
        return KafkaHeader(name: name, string: String(text[text.index(after: equals)...]))
    }
}
