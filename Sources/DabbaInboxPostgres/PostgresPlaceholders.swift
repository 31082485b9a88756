import DabbaInbox

/// Rewrites the `?` placeholders of ``InboxTransaction`` statements into PostgreSQL's `$1…$n`.
///
/// A `?` counts as a placeholder outside string literals (`'…'`, `E'…'` with backslash escapes), quoted identifiers
/// (`"…"`), dollar-quoted strings (`$$…$$`, `$tag$…$tag$`) and comments (`-- …`, nested `/* … */`).
///
/// A statement that already uses `$1`-style parameters is left as it is, which is also the way to use the `jsonb`
/// operators `?`, `?|` and `?&` in a statement with parameters: write `$1…$n` yourself (or call `jsonb_exists`).
enum PostgresPlaceholders {
    /// The statement with `?` numbered, and how many there were (0 when `sql` uses `$n` itself).
    static func rewrite(_ sql: String) -> (sql: String, count: Int) {
        let bytes = Array(sql.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count + 8)
        var count = 0
        var index = 0

        /// Copies `bytes[index..<end]` and moves on.
        func copy(upTo end: Int) {
            output.append(contentsOf: bytes[index..<min(end, bytes.count)])
            index = min(end, bytes.count)
        }

        while index < bytes.count {
            let byte = bytes[index]
            let next = index + 1 < bytes.count ? bytes[index + 1] : 0
            switch byte {
            case UInt8(ascii: "'"):
                let previous = index > 0 ? bytes[index - 1] : 0
                let beforePrevious = index > 1 ? bytes[index - 2] : 0
                let escapes = (previous == UInt8(ascii: "E") || previous == UInt8(ascii: "e"))
                    && !isIdentifierByte(beforePrevious)
                copy(upTo: endOfQuoted(bytes, from: index, quote: byte, backslashEscapes: escapes))
            case UInt8(ascii: "\""):
                copy(upTo: endOfQuoted(bytes, from: index, quote: byte, backslashEscapes: false))
            case UInt8(ascii: "-") where next == UInt8(ascii: "-"):
                copy(upTo: (bytes[index...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count) + 1)
            case UInt8(ascii: "/") where next == UInt8(ascii: "*"):
                copy(upTo: endOfBlockComment(bytes, from: index))
            case UInt8(ascii: "$") where index == 0 || !isIdentifierByte(bytes[index - 1]):
                if isDigit(next) { return (sql, 0) }  // `$1`: the statement numbers its own parameters.
                if let end = endOfDollarQuoted(bytes, from: index) {
                    copy(upTo: end)
                } else {
                    copy(upTo: index + 1)
                }
            case UInt8(ascii: "?"):
                count += 1
                output.append(contentsOf: "$\(count)".utf8)
                index += 1
            default:
                output.append(byte)
                index += 1
            }
        }
        return (String(decoding: output, as: UTF8.self), count)
    }

    /// The statement to send with `parameterCount` parameters.
    /// - Throws: ``InboxError/Code-swift.struct/statement`` if the number of `?` differs from `parameterCount`.
    static func numbered(_ sql: String, parameterCount: Int) throws -> String {
        let (statement, count) = rewrite(sql)
        // 0: no `?` at all, or `$n` written by the caller; PostgreSQL checks those itself.
        guard count == 0 || count == parameterCount else {
            throw InboxError(
                .statement,
                "the statement has \(count) `?` placeholders but \(parameterCount) parameters were given"
                    + " — in: \(sql.prefix(200))"
            )
        }
        return statement
    }

    /// The index just past the closing quote (a doubled quote inside is part of the text), or the end of `bytes`.
    private static func endOfQuoted(_ bytes: [UInt8], from start: Int, quote: UInt8, backslashEscapes: Bool) -> Int {
        var index = start + 1
        while index < bytes.count {
            let byte = bytes[index]
            if backslashEscapes && byte == UInt8(ascii: "\\") {
                index += 2
            } else if byte == quote {
                if index + 1 < bytes.count && bytes[index + 1] == quote {
                    index += 2
                } else {
                    return index + 1
                }
            } else {
                index += 1
            }
        }
        return bytes.count
    }

    /// The index just past the `*/` closing the (possibly nested) comment at `start`, or the end of `bytes`.
    private static func endOfBlockComment(_ bytes: [UInt8], from start: Int) -> Int {
        var depth = 0
        var index = start
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "/") && bytes[index + 1] == UInt8(ascii: "*") {
                depth += 1
                index += 2
            } else if bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/") {
                depth -= 1
                index += 2
                if depth == 0 { return index }
            } else {
                index += 1
            }
        }
        return bytes.count
    }

    /// If a dollar quote (`$$` or `$tag$`) opens at `start`, the index just past its closing tag (or the end of
    /// `bytes` if unterminated); nil if `$` does not open one.
    private static func endOfDollarQuoted(_ bytes: [UInt8], from start: Int) -> Int? {
        var index = start + 1
        while index < bytes.count && bytes[index] != UInt8(ascii: "$") {
            guard isIdentifierByte(bytes[index]) else { return nil }
            index += 1
        }
        guard index < bytes.count else { return nil }
        let tag = bytes[start...index]
        var search = index + 1
        while search + tag.count <= bytes.count {
            if bytes[search..<search + tag.count].elementsEqual(tag) { return search + tag.count }
            search += 1
        }
        return bytes.count
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    /// Letters, digits, `_`, `$` and any non-ASCII byte (PostgreSQL allows those in identifiers).
    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "$") || byte >= 0x80
            || ((byte | 0x20) >= UInt8(ascii: "a") && (byte | 0x20) <= UInt8(ascii: "z"))
    }
}
