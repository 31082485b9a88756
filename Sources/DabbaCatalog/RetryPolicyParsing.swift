import DabbaSchema

/// A channel's `x-dabba-retry`: the retry policy plus how its derived topics are created.
struct ChannelRetry: Sendable {
    /// The delays and whether there is a dead-letter topic.
    var policy: RetryPolicy
    /// Partitions of the derived topics; `nil` to copy the main topic's.
    var partitions: Int?
    /// Replicas of the derived topics; `nil` to copy the main topic's.
    var replicas: Int?
    /// Configs of the dead-letter topics, over the defaults.
    var deadLetterConfiguration: [String: String]
}

enum RetryPolicyParsing {
    /// The keys `x-dabba-retry` accepts.
    static let knownKeys: Set<String> = ["delays", "deadLetter", "partitions", "replicas", "deadLetterConfiguration"]

    /// Reads an `x-dabba-retry` mapping.
    /// - Parameters:
    ///   - pointer: The mapping's pointer.
    ///   - reader: The document reader, which records problems.
    /// - Returns: The retry settings, or `nil` when there are none or they are unusable.
    static func read(_ pointer: JSONPointer, reader: DocumentReader) -> ChannelRetry? {
        guard let object = reader.object(pointer, code: .invalidRetryPolicy) else { return nil }
        var usable = true
        for key in object.keys where !knownKeys.contains(key) {
            reader.errorAtKey(
                .invalidRetryPolicy,
                at: pointer.appending(key),
                "unknown key '\(key)' in x-dabba-retry; expected one of "
                    + knownKeys.sorted().joined(separator: ", ")
            )
            usable = false
        }
        var delays: [Duration] = []
        let delaysPointer = pointer.appending("delays")
        if let items = reader.array(delaysPointer, required: true, code: .invalidRetryPolicy) {
            if items.isEmpty {
                reader.error(.invalidRetryPolicy, at: delaysPointer, "x-dabba-retry needs at least one delay")
                usable = false
            }
            for (index, item) in items.enumerated() {
                let itemPointer = delaysPointer.appending(index)
                guard case .string(let text) = item, let delay = DurationParsing.parse(text) else {
                    reader.error(
                        .invalidDuration,
                        at: itemPointer,
                        "invalid duration \(item.shortDescription); "
                            + "write a whole number followed by ms, s, m or h, for example '30s'"
                    )
                    usable = false
                    continue
                }
                delays.append(delay)
            }
        } else {
            usable = false
        }
        let deadLetterPointer = pointer.appending("deadLetter")
        let deadLetter = reader.bool(deadLetterPointer, code: .invalidRetryPolicy) ?? true
        let partitions = reader.integer(
            pointer.appending("partitions"), minimum: 1, maximum: TopicSpec.maximumPartitions, code: .invalidPartitions
        )
        let replicas = reader.integer(
            pointer.appending("replicas"), minimum: 1, maximum: TopicSpec.maximumReplicas, code: .invalidReplicas
        )
        let configurationPointer = pointer.appending("deadLetterConfiguration")
        let deadLetterConfiguration = TopicConfiguration.read(configurationPointer, reader: reader)
        if !deadLetter, reader.exists(configurationPointer) {
            reader.errorAtKey(
                .invalidRetryPolicy,
                at: configurationPointer,
                "deadLetterConfiguration is set but deadLetter is false"
            )
        }
        guard usable else { return nil }
        return ChannelRetry(
            policy: RetryPolicy(delays: delays, deadLetter: deadLetter),
            partitions: partitions,
            replicas: replicas,
            deadLetterConfiguration: deadLetterConfiguration
        )
    }
}
