/// Something that happened to a consumer besides a message: rebalances and errors.
public enum ConsumerEvent: Sendable, CustomStringConvertible {
    /// Partitions were assigned to this member; `paused` are those of them that start paused (the consumer's
    /// assignment hook decided so before any was fetched: an open circuit breaker, an operator pause).
    case assigned([TopicPartition], paused: [TopicPartition])
    /// Partitions were taken from this member; their buffered, unprocessed messages were discarded (they will be
    /// redelivered to the new owner from the last committed offset).
    case revoked([TopicPartition])
    /// A non-fatal error (for example an unknown topic in the subscription, or a broker connection failure).
    case error(KafkaError)

    public var description: String {
        switch self {
        case .assigned(let partitions, let paused):
            "assigned \(partitions.map(\.description).joined(separator: ", "))"
                + (paused.isEmpty ? "" : " (paused: \(paused.map(\.description).joined(separator: ", ")))")
        case .revoked(let partitions): "revoked \(partitions.map(\.description).joined(separator: ", "))"
        case .error(let error): "error \(error)"
        }
    }
}
