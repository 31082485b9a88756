import DabbaSchema

/// An RFC 6901 JSON Pointer such as `/components/messages/OrderPlaced`, kept as its unescaped tokens.
struct JSONPointer: Hashable, Sendable, CustomStringConvertible {
    /// The reference tokens, unescaped.
    var tokens: [String]

    /// The pointer to the whole document (`""`).
    static let root = JSONPointer(tokens: [])

    /// Creates a pointer from unescaped tokens.
    init(tokens: [String]) {
        self.tokens = tokens
    }

    /// Parses the escaped form (`""` or `/a/b~1c`).
    /// - Returns: `nil` when the text is neither empty nor starts with `/`, or has a bad `~` escape.
    init?(_ text: String) {
        if text.isEmpty {
            self.tokens = []
            return
        }
        guard text.hasPrefix("/") else { return nil }
        var tokens: [String] = []
        for raw in text.dropFirst().split(separator: "/", omittingEmptySubsequences: false) {
            guard let token = Self.unescape(String(raw)) else { return nil }
            tokens.append(token)
        }
        self.tokens = tokens
    }

    /// Parses a local reference of the form `#/a/b` (the URI fragment form used by `$ref`).
    /// - Returns: `nil` when the reference is not local to the document.
    init?(reference: String) {
        guard reference.hasPrefix("#") else { return nil }
        let fragment = String(reference.dropFirst())
        let decoded = fragment.removingPercentEncodingIfPossible()
        self.init(decoded)
    }

    /// The escaped form, for example `/bindings/kafka/topicConfiguration/retention.ms`.
    var description: String {
        tokens.map { "/" + Self.escape($0) }.joined()
    }

    /// The `#/...` reference form.
    var reference: String { "#" + description }

    /// The pointer with one more token.
    func appending(_ token: String) -> JSONPointer {
        JSONPointer(tokens: tokens + [token])
    }

    /// The pointer with one more array index.
    func appending(_ index: Int) -> JSONPointer {
        appending(String(index))
    }

    /// The pointer with all tokens of another pointer appended.
    func appending(_ other: JSONPointer) -> JSONPointer {
        JSONPointer(tokens: tokens + other.tokens)
    }

    /// The pointer to the containing value, or `nil` for the root.
    var parent: JSONPointer? {
        tokens.isEmpty ? nil : JSONPointer(tokens: Array(tokens.dropLast()))
    }

    /// Whether this pointer equals `prefix` or lies below it.
    func hasPrefix(_ prefix: JSONPointer) -> Bool {
        tokens.count >= prefix.tokens.count && Array(tokens.prefix(prefix.tokens.count)) == prefix.tokens
    }

    private static func escape(_ token: String) -> String {
        token.replacingAll("~", with: "~0").replacingAll("/", with: "~1")
    }

    private static func unescape(_ token: String) -> String? {
        var result = ""
        var iterator = token.makeIterator()
        while let character = iterator.next() {
            guard character == "~" else {
                result.append(character)
                continue
            }
            switch iterator.next() {
            case "0": result.append("~")
            case "1": result.append("/")
            default: return nil
            }
        }
        return result
    }
}

extension JSONValue {
    /// The value a pointer designates inside this value, or `nil` when it does not exist.
    func resolve(_ pointer: JSONPointer) -> JSONValue? {
        var current = self
        for token in pointer.tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { return nil }
                current = next
            case .array(let array):
                guard let index = Int(token), index >= 0, index < array.count, String(index) == token else {
                    return nil
                }
                current = array[index]
            default:
                return nil
            }
        }
        return current
    }
}

extension String {
    /// Replaces every occurrence of `target` (non-empty) with `replacement`.
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        return split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }

    /// Decodes `%XX` escapes as in a URI fragment; returns the string unchanged when it has none or they are invalid.
    func removingPercentEncodingIfPossible() -> String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var utf8 = Array(self.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
                let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self) ?? self
    }
}
