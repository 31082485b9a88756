/// A route an application adds to the ``MetricsHTTPServer`` next to `/metrics`, `/health` and `/ready`: a pipeline
/// service's `POST /pause`, say.
public struct MetricsServerRoute: Sendable {
    /// A request to a route: its method, path and query parameters (the server reads no request body).
    public struct Request: Sendable, Hashable {
        /// `GET`, `POST`, …
        public var method: String
        /// The path, without the query.
        public var path: String
        /// The query's parameters, percent-decoded (`+` is a space); the last value of a repeated name wins.
        public var query: [String: String]
    }

    /// A route's answer.
    public struct Response: Sendable, Hashable {
        /// The status code.
        public var status: Int
        /// The body.
        public var body: String
        /// The body's content type.
        public var contentType: String

        /// Creates a response.
        /// - Parameters:
        ///   - status: The status code.
        ///   - body: The body.
        ///   - contentType: The content type (plain text by default).
        public init(status: Int, body: String, contentType: String = "text/plain; charset=utf-8") {
            self.status = status
            self.body = body
            self.contentType = contentType
        }
    }

    /// The path served (exact match).
    public var path: String
    /// The methods served; any other gets `405 Method Not Allowed` with an `Allow` header naming these.
    public var methods: Set<String>
    /// Answers a request. It runs on the server's thread, one request at a time: keep it short (it may wait for a
    /// few seconds at most, which delays other requests as long).
    public var handler: @Sendable (Request) -> Response

    /// Creates a route.
    /// - Parameters:
    ///   - path: The path served.
    ///   - methods: The methods served.
    ///   - handler: Answers a request.
    public init(path: String, methods: Set<String>, handler: @escaping @Sendable (Request) -> Response) {
        self.path = path
        self.methods = methods
        self.handler = handler
    }
}

extension MetricsServerRoute.Request {
    /// Parses `a=1&b=two+words` into its parameters.
    static func parameters(_ query: String) -> [String: String] {
        var result: [String: String] = [:]
        for pair in query.split(separator: "&") where !pair.isEmpty {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = decode(parts[0])
            result[name] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return result
    }

    private static func decode(_ text: Substring) -> String {
        var bytes: [UInt8] = []
        var index = text.utf8.startIndex
        let utf8 = text.utf8
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex),
                let low = utf8.index(index, offsetBy: 2, limitedBy: utf8.endIndex), low < utf8.endIndex,
                let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index = low
            } else {
                bytes.append(byte)
            }
            index = utf8.index(after: index)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
