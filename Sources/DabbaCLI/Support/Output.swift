import Foundation

/// Line-oriented output: data on standard output, messages for people on standard error.
///
/// Each line is written with one `write(2)` call straight to the file descriptor, so lines reach a pipe as soon
/// as they are printed (a script can read `dabba broker`'s bootstrap line while it keeps running) and output of
/// concurrent tasks never interleaves within a line.
enum Output {
    /// Writes `text` and a newline to standard output.
    static func line(_ text: String) {
        write(text + "\n", to: STDOUT_FILENO)
    }

    /// Writes `text` and a newline to standard error.
    static func note(_ text: String) {
        write(text + "\n", to: STDERR_FILENO)
    }

    /// Writes a JSON object as one line to standard output, keys sorted so the output is stable.
    static func json(_ object: [String: Any]) {
        line(jsonLine(object))
    }

    /// One JSON object as text, keys sorted.
    static func jsonLine(_ object: [String: Any]) -> String {
        guard
            let data = try? JSONSerialization.data(
                withJSONObject: object,
                options: [.sortedKeys, .withoutEscapingSlashes]
            )
        else {
            // Only reachable for non-JSON values, which the CLI never builds.
            return "{}"
        }
        return String(decoding: data, as: UTF8.self)
    }

    private static func write(_ text: String, to descriptor: Int32) {
        var text = text
        text.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = Foundation.write(descriptor, base + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                offset += written
            }
        }
    }
}

/// A JSON value for an optional string: the string, or `null`.
func jsonString(_ value: String?) -> Any {
    value.map { $0 as Any } ?? NSNull()
}
