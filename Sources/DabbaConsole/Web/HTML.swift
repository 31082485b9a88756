import Foundation

/// Builds the console's server-rendered HTML. Every value that comes from the cluster, the catalog or a request is
/// escaped with ``HTML/escape(_:)`` before it reaches a page.
enum HTML {
    /// Escapes text for an HTML element or a quoted attribute.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Percent-encodes a query parameter value or a path segment.
    static func urlComponent(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// A link; `href` is built by the console (its parts encoded with ``urlComponent(_:)``).
    static func link(_ text: String, _ href: String, id: String? = nil) -> String {
        "<a href=\"\(escape(href))\"\(id.map { " id=\"\(escape($0))\"" } ?? "")>\(escape(text))</a>"
    }

    /// A table with a header row; cells are HTML already (escape text before passing it).
    static func table(id: String, headers: [String], rows: [[String]], rowIDs: [String]? = nil) -> String {
        var html = "<table id=\"\(escape(id))\"><thead><tr>"
        html += headers.map { "<th>\(escape($0))</th>" }.joined()
        html += "</tr></thead><tbody>"
        for (index, row) in rows.enumerated() {
            let rowID = rowIDs.map { " data-key=\"\(escape($0[index]))\"" } ?? ""
            html += "<tr\(rowID)>" + row.map { "<td>\($0)</td>" }.joined() + "</tr>"
        }
        html += "</tbody></table>"
        return html
    }

    /// A definition list of label → HTML value.
    static func facts(_ pairs: [(String, String)], id: String? = nil) -> String {
        "<dl class=\"facts\"\(id.map { " id=\"\(escape($0))\"" } ?? "")>"
            + pairs.map { "<dt>\(escape($0.0))</dt><dd>\($0.1)</dd>" }.joined() + "</dl>"
    }

    /// A notice box: `kind` is `ok`, `warn` or `error`.
    static func notice(_ kind: String, _ html: String, id: String? = nil) -> String {
        "<p class=\"notice \(kind)\"\(id.map { " id=\"\(escape($0))\"" } ?? "")>\(html)</p>"
    }

    /// Pretty-printed JSON in a `pre` block.
    static func json(_ data: Data, id: String? = nil) -> String {
        let pretty =
            (try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]))
            .flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.prettyPrinted, .sortedKeys, .fragmentsAllowed]) }
            ?? data
        return "<pre class=\"json\"\(id.map { " id=\"\(escape($0))\"" } ?? "")>\(escape(String(decoding: pretty, as: UTF8.self)))</pre>"
    }

    /// Milliseconds since the epoch as an RFC 3339 UTC time with milliseconds.
    static func time(_ milliseconds: Int64?) -> String {
        guard let milliseconds else { return "–" }
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            .ISO8601Format(.iso8601WithTimeZone(includingFractionalSeconds: true))
    }

    /// The whole page around a section's body.
    static func page(title: String, section: String, body: String, actionsEnabled: Bool) -> String {
        let sections: [(String, String)] = [
            ("Overview", "/"), ("Messages", "/messages"), ("Flow", "/flow"), ("Dead letters", "/dead-letters"),
            ("Produce", "/produce"), ("Contracts", "/contracts"), ("Status", "/status"),
        ]
        let navigation = sections.map { name, href in
            "<a href=\"\(href)\"\(name == section ? " class=\"current\"" : "")>\(escape(name))</a>"
        }.joined()
        return """
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(title)) · dabba ui</title>
            <link rel="stylesheet" href="/assets/console.css">
            <script src="/assets/console.js" defer></script>
            </head><body data-section="\(escape(section))">
            <header><span class="brand">dabba ui</span><nav>\(navigation)</nav>
            <span class="mode \(actionsEnabled ? "write" : "read")">\(actionsEnabled ? "actions enabled" : "read-only")</span></header>
            <main><h1>\(escape(title))</h1>
            \(body)
            </main></body></html>
            """
    }
}
