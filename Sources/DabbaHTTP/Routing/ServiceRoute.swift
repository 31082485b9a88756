/// A route an application adds to the ``ServiceHTTPServer`` next to `/metrics`, `/health` and `/ready`: a pipeline
/// service's `POST /pause`, say.
///
/// ```swift
/// let pause = ServiceRoute(path: "/pause", methods: ["POST"]) { request in
///     await pipeline.pause(reason: request.query["reason"] ?? "operator")
///     return ServiceRoute.Response(status: 202, body: "pausing\n")
/// }
/// ```
public struct ServiceRoute: Sendable {
    /// A request to a route: its method, path and query parameters.
    ///
    /// The server reads a request body (up to the server's `maxRequestBodySize`) but does not pass it on: routes act
    /// on their path and query alone.
    public struct Request: Sendable, Hashable {
        /// `GET`, `POST`, …
        public var method: String
        /// The path, without the query; not percent-decoded.
        public var path: String
        /// The query's parameters, percent-decoded (`+` is a space); the last value of a repeated name wins.
        public var query: [String: String]

        /// Creates a request (the server makes them; this is for testing handlers).
        /// - Parameters:
        ///   - method: The method.
        ///   - path: The path, without the query.
        ///   - query: The query's parameters.
        public init(method: String, path: String, query: [String: String] = [:]) {
            self.method = method
            self.path = path
            self.query = query
        }
    }

    /// A route's answer.
    public struct Response: Sendable, Hashable {
        /// The status code, 200…599 (anything else is answered as `500 Internal Server Error`).
        public var status: Int
        /// The body.
        public var body: String
        /// The body's content type.
        public var contentType: String

        /// Creates a response.
        /// - Parameters:
        ///   - status: The status code, 200…599.
        ///   - body: The body.
        ///   - contentType: The content type (plain text by default).
        public init(status: Int, body: String, contentType: String = "text/plain; charset=utf-8") {
            self.status = status
            self.body = body
            self.contentType = contentType
        }
    }

    /// The path served (exact match, query excluded).
    public var path: String
    /// The methods served; any other gets `405 Method Not Allowed` with an `Allow` header naming these. A route that
    /// serves `GET` also answers `HEAD` (the `GET` answer without its body) unless it serves `HEAD` itself.
    public var methods: Set<String>
    /// Answers a request. It runs on the server's event loop threads (see ``ServiceHTTPServer``): it may await, but
    /// must not block or compute for long. The server does not cut it short (the request timeout bounds the client,
    /// not the handler).
    public var handler: @Sendable (Request) async -> Response

    /// Creates a route.
    /// - Parameters:
    ///   - path: The path served.
    ///   - methods: The methods served (upper case, e.g. `["POST"]`).
    ///   - handler: Answers a request.
    public init(path: String, methods: Set<String>, handler: @escaping @Sendable (Request) async -> Response) {
        self.path = path
        self.methods = methods
        self.handler = handler
    }
}

extension ServiceRoute.Request {
    /// Parses `a=1&b=two+words` into its parameters: percent-decoded, `+` as a space, the last value of a repeated
    /// name winning; a fragment (`#…`) is ignored.
    static func parameters(_ query: Substring) -> [String: String] {
        var result: [String: String] = [:]
        let withoutFragment = query.prefix { $0 != "#" }
        for pair in withoutFragment.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            result[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }

    /// Percent-decodes `text` (`+` is a space); a `%` not followed by two hex digits is kept as it is, and invalid
    /// UTF-8 is repaired with replacement characters.
    private static func decode(_ text: Substring) -> String {
        let utf8 = Array(text.utf8)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < utf8.count,
                let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2])
            {
                bytes.append(high << 4 | low)
                index += 2
            } else {
                bytes.append(byte)
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
