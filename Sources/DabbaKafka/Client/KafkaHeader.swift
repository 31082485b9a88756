/// A Kafka record header: a name and an optional byte value. Names may repeat within one record.
public struct KafkaHeader: Sendable, Hashable {
    /// The header name.
    public var name: String
    /// The header value, or nil for a header with a null value.
    public var value: [UInt8]?

    /// Creates a header with a byte value.
    /// - Parameters:
    ///   - name: The header name.
    ///   - value: The value bytes, or nil for a null value.
    public init(name: String, value: [UInt8]?) {
        self.name = name
        self.value = value
    }

    /// Creates a header with a UTF-8 string value.
    /// - Parameters:
    ///   - name: The header name.
    ///   - value: The value, stored as UTF-8.
    public init(name: String, string value: String) {
        self.name = name
        self.value = Array(value.utf8)
    }

    /// The value decoded as UTF-8, if there is a value.
    public var stringValue: String? {
        value.map { String(decoding: $0, as: UTF8.self) }
    }
}

extension Array where Element == KafkaHeader {
    /// The value of the last header with this name (Kafka's convention when a name repeats), as UTF-8.
    /// - Parameter name: The header name.
    /// - Returns: The value, or nil if absent or null.
    public func string(named name: String) -> String? {
        last { $0.name == name }?.stringValue
    }

    /// The value bytes of the last header with this name.
    /// - Parameter name: The header name.
    /// - Returns: The value bytes, or nil if absent or null.
    public func bytes(named name: String) -> [UInt8]? {
        last { $0.name == name }?.value
    }
}
