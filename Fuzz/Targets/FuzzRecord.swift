import DabbaKafka

/// A Kafka record written as text, the input of the record targets (CloudEvents headers, dead letters):
///
/// ```
/// @key: ord_1
/// @timestamp: 1790000000000
/// ce_specversion: 1.0
/// ce_type: fuzz.order.placed
/// traceparent
///
/// {"id":"ord_1"}
/// ```
///
/// Lines up to the first empty line are headers (`name: value`; a line without `:` is a header with a null value;
/// `@key` and `@timestamp` set the record's key and timestamp); `\xHH` in a value is the byte HH. Everything after
/// the empty line is the value, byte for byte; without an empty line the record is a tombstone (no value). Any bytes
/// make a record, so the fuzzer explores the format freely and readable corpus files stay easy to write.
public struct FuzzRecord {
    /// The record key (`@key:`), or nil.
    public var key: [UInt8]?
    /// The record timestamp (`@timestamp:`), or nil.
    public var timestampMilliseconds: Int64?
    /// The headers, in order.
    public var headers: [KafkaHeader] = []
    /// The value, or nil for a tombstone.
    public var value: [UInt8]?

    /// Creates a record.
    /// - Parameters:
    ///   - key: The key.
    ///   - timestampMilliseconds: The timestamp.
    ///   - headers: The headers.
    ///   - value: The value.
    public init(key: [UInt8]? = nil, timestampMilliseconds: Int64? = nil, headers: [KafkaHeader] = [], value: [UInt8]?)
    {
        self.key = key
        self.timestampMilliseconds = timestampMilliseconds
        self.headers = headers
        self.value = value
    }

    /// Reads a record from any bytes.
    /// - Parameter input: The record as text.
    public init(parsing input: [UInt8]) {
        var start = 0
        while start < input.count {
            let end = input[start...].firstIndex(of: UInt8(ascii: "\n")) ?? input.count
            if end == start {
                // The empty line: the value follows (nothing after it is an empty value, not a tombstone).
                value = Array(input[(end + 1)...])
                return
            }
            readHeaderLine(input[start..<end])
            start = end + 1
        }
    }

    private mutating func readHeaderLine(_ line: ArraySlice<UInt8>) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
            headers.append(KafkaHeader(name: String(decoding: line, as: UTF8.self), value: nil))
            return
        }
        let name = String(decoding: line[..<colon], as: UTF8.self)
        var valueStart = colon + 1
        if valueStart < line.endIndex, line[valueStart] == UInt8(ascii: " ") { valueStart += 1 }
        let value = Self.unescape(line[valueStart...])
        switch name {
        case "@key": key = value
        case "@timestamp": timestampMilliseconds = Int64(String(decoding: value, as: UTF8.self))
        default: headers.append(KafkaHeader(name: name, value: value))
        }
    }

    private static func unescape(_ text: ArraySlice<UInt8>) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.count)
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == UInt8(ascii: "\\"), index + 3 < text.endIndex, text[index + 1] == UInt8(ascii: "x"),
                let high = hexDigit(text[index + 2]), let low = hexDigit(text[index + 3])
            {
                bytes.append(high << 4 | low)
                index += 4
            } else {
                bytes.append(text[index])
                index += 1
            }
        }
        return bytes
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The record as text (the inverse of ``init(parsing:)``; header names must not hold `:` or a newline).
    public var text: [UInt8] {
        var output: [UInt8] = []
        func line(_ name: String, _ value: [UInt8]?) {
            output += Array(name.utf8)
            if let value {
                output += Array(": ".utf8)
                for byte in value {
                    if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\\") || byte == UInt8(ascii: "\r") {
                        output += Array("\\x".utf8) + Array(String(byte, radix: 16).leftPadded(to: 2).utf8)
                    } else {
                        output.append(byte)
                    }
                }
            }
            output.append(UInt8(ascii: "\n"))
        }
        if let key { line("@key", key) }
        if let timestampMilliseconds { line("@timestamp", Array(String(timestampMilliseconds).utf8)) }
        for header in headers { line(header.name, header.value) }
        if let value {
            output.append(UInt8(ascii: "\n"))
            output += value
        }
        return output
    }

    /// The record as a consumed message (made in memory, no broker): topic `fuzz.records`, partition 3, offset 42.
    /// - Returns: The message.
    public func message() -> KafkaMessage {
        KafkaMessage.inMemory(
            topic: "fuzz.records", partition: 3, offset: 42, key: key, value: value, headers: headers,
            timestampMilliseconds: timestampMilliseconds
        )
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
