import Foundation

extension JSONValue {
    /// Parses RFC 8259 JSON text.
    ///
    /// Integers without fraction/exponent that fit in `Int64` become
    /// ``integer(_:)`` exactly; other numbers become ``double(_:)``. A leading
    /// UTF-8 byte-order mark is skipped. Nesting deeper than
    /// ``maximumParsingDepth`` is rejected to keep stack usage bounded on
    /// untrusted input.
    ///
    /// - Throws: ``SchemaError`` with code ``SchemaError/Code/invalidJSON`` and
    ///   ``SchemaError/byteOffset`` set to where the input went wrong.
    public static func parse(_ data: Data) throws -> JSONValue {
        try data.withUnsafeBytes { buffer in
            var parser = JSONParser(bytes: buffer)
            return try parser.parseDocument()
        }
    }

    /// Parses JSON text held in a string (see ``parse(_:)-(Data)``).
    public static func parse(_ text: String) throws -> JSONValue {
        try parse(Data(text.utf8))
    }

    /// The maximum array/object nesting depth ``parse(_:)-(Data)`` accepts.
    public static let maximumParsingDepth = 512
}

/// A recursive-descent parser over raw bytes.
///
/// Hand-written (rather than `JSONSerialization`) so that integers stay exact,
/// key order is preserved and errors carry byte offsets.
struct JSONParser {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0
    private var depth = 0

    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    mutating func parseDocument() throws -> JSONValue {
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF {
            offset = 3
        }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        if offset < bytes.count {
            throw error("unexpected trailing \(describeCurrent()) after the JSON value")
        }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws -> JSONValue {
        guard offset < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[offset] {
        case UInt8(ascii: "{"):
            return try parseObject()
        case UInt8(ascii: "["):
            return try parseArray()
        case UInt8(ascii: "\""):
            return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func parseObject() throws -> JSONValue {
        try enterContainer()
        offset += 1  // "{"
        var object = JSONObject()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            offset += 1
            depth -= 1
            return .object(object)
        }
        while true {
            guard peek() == UInt8(ascii: "\"") else {
                throw error("unexpected \(describeCurrent()), expected a string key")
            }
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else {
                throw error("unexpected \(describeCurrent()), expected ':'")
            }
            offset += 1
            skipWhitespace()
            object[key] = try parseValue()
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                offset += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                offset += 1
                depth -= 1
                return .object(object)
            default:
                throw error("unexpected \(describeCurrent()), expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray() throws -> JSONValue {
        try enterContainer()
        offset += 1  // "["
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            offset += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                offset += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                offset += 1
                depth -= 1
                return .array(elements)
            default:
                throw error("unexpected \(describeCurrent()), expected ',' or ']'")
            }
        }
    }

    private mutating func enterContainer() throws {
        depth += 1
        if depth > JSONValue.maximumParsingDepth {
            throw error("nesting deeper than \(JSONValue.maximumParsingDepth) levels")
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws {
        let start = offset
        let count = literal.utf8CodeUnitCount
        let matches = literal.withUTF8Buffer { expected -> Bool in
            guard start + count <= bytes.count else { return false }
            for index in 0..<count where bytes[start + index] != expected[index] {
                return false
            }
            return true
        }
        guard matches else { throw error("invalid literal, expected '\(literal)'") }
        offset += count
    }

    // MARK: Strings

    private mutating func parseString() throws -> String {
        let quoteOffset = offset
        offset += 1  // opening quote
        let start = offset
        // Fast path: no escapes, so the bytes can be validated and used as is.
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<offset])
                offset += 1
                return try makeString(raw, quoteOffset: quoteOffset)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw error("unescaped control character in string") }
            offset += 1
        }
        guard offset < bytes.count else {
            throw error("unterminated string starting at byte offset \(quoteOffset)")
        }
        var buffer = Array(bytes[start..<offset])
        while offset < bytes.count {
            let byte = bytes[offset]
            switch byte {
            case UInt8(ascii: "\""):
                offset += 1
                return try buffer.withUnsafeBytes { try makeString($0, quoteOffset: quoteOffset) }
            case UInt8(ascii: "\\"):
                try parseEscape(into: &buffer)
            case 0..<0x20:
                throw error("unescaped control character in string")
            default:
                buffer.append(byte)
                offset += 1
            }
        }
        throw error("unterminated string starting at byte offset \(quoteOffset)")
    }

    private func makeString(_ raw: UnsafeRawBufferPointer, quoteOffset: Int) throws -> String {
        // Validate first, then use the specialized decoding initializer
        // (`String(validating:)` is markedly slower here, and decoding alone
        // would silently repair invalid bytes).
        guard UTF8Validation.isValid(raw) else {
            throw SchemaError(
                code: .invalidJSON,
                message: "invalid UTF-8 in string starting at byte offset \(quoteOffset)",
                byteOffset: quoteOffset)
        }
        return String(decoding: raw, as: UTF8.self)
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws {
        offset += 1  // backslash
        guard offset < bytes.count else { throw error("unterminated escape sequence") }
        let byte = bytes[offset]
        offset += 1
        switch byte {
        case UInt8(ascii: "\""): buffer.append(0x22)
        case UInt8(ascii: "\\"): buffer.append(0x5C)
        case UInt8(ascii: "/"): buffer.append(0x2F)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            let escapeOffset = offset - 2
            var scalarValue = try parseHex4()
            if (0xD800...0xDBFF).contains(scalarValue) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard offset + 1 < bytes.count,
                      bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u")
                else {
                    throw SchemaError(code: .invalidJSON, message: "unpaired surrogate escape at byte offset \(escapeOffset)", byteOffset: escapeOffset)
                }
                offset += 2
                let low = try parseHex4()
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw SchemaError(code: .invalidJSON, message: "unpaired surrogate escape at byte offset \(escapeOffset)", byteOffset: escapeOffset)
                }
                scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(scalarValue) {
                throw SchemaError(code: .invalidJSON, message: "unpaired surrogate escape at byte offset \(escapeOffset)", byteOffset: escapeOffset)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw SchemaError(code: .invalidJSON, message: "invalid unicode escape at byte offset \(escapeOffset)", byteOffset: escapeOffset)
            }
            UTF8.encode(scalar) { buffer.append($0) }
        default:
            offset -= 2  // report the backslash
            throw error("invalid escape sequence '\\\(describeByte(byte))'")
        }
    }

    private mutating func parseHex4() throws -> UInt32 {
        guard offset + 4 <= bytes.count else { throw error("incomplete \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[offset]
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
            offset += 1
        }
        return value
    }

    // MARK: Numbers

    private mutating func parseNumber() throws -> JSONValue {
        let start = offset
        var negative = false
        if peek() == UInt8(ascii: "-") {
            negative = true
            offset += 1
        }
        // Accumulate as a negative value so Int64.min parses without overflow.
        var accumulator: Int64 = 0
        var overflowed = false
        guard let first = peek(), isDigit(first) else {
            throw error("invalid number, expected a digit")
        }
        if first == UInt8(ascii: "0") {
            offset += 1
            if let next = peek(), isDigit(next) {
                throw error("invalid number, leading zeros are not allowed")
            }
        } else {
            while let byte = peek(), isDigit(byte) {
                if !overflowed {
                    let (times10, o1) = accumulator.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.subtractingReportingOverflow(Int64(byte - UInt8(ascii: "0")))
                    overflowed = o1 || o2
                    accumulator = sum
                }
                offset += 1
            }
        }
        var isInteger = true
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            offset += 1
            guard let byte = peek(), isDigit(byte) else {
                throw error("invalid number, expected a digit after '.'")
            }
            while let byte = peek(), isDigit(byte) { offset += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            offset += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { offset += 1 }
            guard let byte = peek(), isDigit(byte) else {
                throw error("invalid number, expected a digit in the exponent")
            }
            while let byte = peek(), isDigit(byte) { offset += 1 }
        }
        if isInteger && !overflowed {
            if negative { return .integer(accumulator) }
            let (positive, overflow) = (0 as Int64).subtractingReportingOverflow(accumulator)
            if !overflow { return .integer(positive) }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw SchemaError(
                code: .invalidJSON,
                message: "number '\(text)' at byte offset \(start) is out of range",
                byteOffset: start)
        }
        return .double(value)
    }

    // MARK: Helpers

    private func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private func peek() -> UInt8? {
        offset < bytes.count ? bytes[offset] : nil
    }

    private mutating func skipWhitespace() {
        while offset < bytes.count {
            switch bytes[offset] {
            case 0x20, 0x09, 0x0A, 0x0D: offset += 1
            default: return
            }
        }
    }

    private func describeCurrent() -> String {
        guard let byte = peek() else { return "end of input" }
        return "character '\(describeByte(byte))'"
    }

    private func describeByte(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F {
            return String(UnicodeScalar(byte))
        }
        return "\\x" + String(byte, radix: 16, uppercase: true)
    }

    private func error(_ message: String) -> SchemaError {
        SchemaError(code: .invalidJSON, message: "\(message) at byte offset \(offset)", byteOffset: offset)
    }
}
