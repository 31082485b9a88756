/// Something that happened to a consumer besides a message: rebalances and errors.
public enum ConsumerEvent: Sendable, CustomStringConvertible {
    /// Partitions were assigned to this member.
    case assigned([TopicPartition])
    /// Partitions were taken from this member; their buffered, unprocessed messages were discarded (they will be
    /// redelivered to the new owner from the last committed offset).
    case revoked([TopicPartition])
    /// A non-fatal error (for example an unknown topic in the subscription, or a broker connection failure).
    case error(KafkaError)

    public var description: String {
        switch self {
        case .assigned(let partitions): "assigned \(partitions.map(\.description).joined(separator: ", "))"
        case .revoked(let partitions): "revoked \(partitions.map(\.description).joined(separator: ", "))"
        case .error(let error): "error \(error)"
        }
    }
}
