/// The first line of an HTTP/1.x request, which is all the metrics server needs.
struct HTTPRequestHead: Equatable, Sendable {
    var method: String
    /// The path of the target, without query or fragment.
    var path: String
    /// `HTTP/1.0` or `HTTP/1.1`.
    var version: String
    /// The query of the target, without `?` (empty when there is none).
    var query = ""

    enum ParseError: Error, Equatable {
        case malformed
        case unsupportedVersion
    }

    /// Parses the request line of `head` (the bytes up to and including the blank line that ends the headers).
    ///
    /// Leading empty lines are skipped, as RFC 9112 §2.2 allows. The target may be in origin form (`/metrics?x=1`)
    /// or absolute form (`http://host:9090/metrics`).
    static func parse(_ head: ArraySlice<UInt8>) throws(ParseError) -> HTTPRequestHead {
        var bytes = head
        while let first = bytes.first, first == UInt8(ascii: "\r") || first == UInt8(ascii: "\n") {
            bytes = bytes.dropFirst()
        }
        guard let lineFeed = bytes.firstIndex(of: UInt8(ascii: "\n")) else { throw .malformed }
        var line = bytes[..<lineFeed]
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        guard line.allSatisfy({ $0 >= 0x21 && $0 < 0x7F || $0 == UInt8(ascii: " ") }) else { throw .malformed }

        let parts = line.split(separator: UInt8(ascii: " "), omittingEmptySubsequences: false)
        guard parts.count == 3, let method = ascii(parts[0]), let target = ascii(parts[1]),
            let version = ascii(parts[2]), !method.isEmpty,
            method.unicodeScalars.allSatisfy({ isTokenCharacter($0) })
        else { throw .malformed }

        guard version.hasPrefix("HTTP/"), version.count == 8 else { throw .malformed }
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else { throw .unsupportedVersion }
        guard let path = path(of: target) else { throw .malformed }
        return HTTPRequestHead(method: method, path: path, version: version, query: query(of: target))
    }

    /// The line was checked to be printable ASCII, so decoding cannot fail or substitute.
    private static func ascii(_ bytes: ArraySlice<UInt8>) -> String? {
        String(validating: bytes, as: UTF8.self)
    }

    /// RFC 9110 `tchar`.
    private static func isTokenCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9": true
        case "!", "#", "$", "%", "&", "'", "*", "+", "-", ".", "^", "_", "`", "|", "~": true
        default: false
        }
    }

    private static func query(of target: String) -> String {
        guard let start = target.firstIndex(of: "?") else { return "" }
        let rest = target[target.index(after: start)...]
        return String(rest.prefix { $0 != "#" })
    }

    private static func path(of target: String) -> String? {
        var rest = Substring(target)
        if !rest.hasPrefix("/") {
            // Absolute form: scheme "://" authority [path].
            guard let schemeEnd = rest.firstRange(of: "://") else { return nil }
            rest = rest[schemeEnd.upperBound...]
            guard let slash = rest.firstIndex(of: "/") else { return "/" }
            rest = rest[slash...]
        }
        if let end = rest.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            rest = rest[..<end]
        }
        return String(rest)
    }
}

/// A complete response; the server always closes the connection after it.
struct HTTPResponse: Equatable, Sendable {
    var status: Int
    var reason: String
    var contentType = "text/plain; charset=utf-8"
    var extraHeaders: [(name: String, value: String)] = []
    var body: String

    static func == (lhs: HTTPResponse, rhs: HTTPResponse) -> Bool {
        lhs.serialized() == rhs.serialized()
    }

    static func text(_ status: Int, _ reason: String, _ body: String) -> HTTPResponse {
        HTTPResponse(status: status, reason: reason, body: body)
    }

    static let badRequest = text(400, "Bad Request", "bad request\n")
    static let notFound = text(404, "Not Found", "not found\n")
    static let methodNotAllowed = HTTPResponse(
        status: 405,
        reason: "Method Not Allowed",
        extraHeaders: [("Allow", "GET")],
        body: "method not allowed\n"
    )
    static let requestTimeout = text(408, "Request Timeout", "request timeout\n")
    static let headTooLarge = text(431, "Request Header Fields Too Large", "request header fields too large\n")
    static let versionNotSupported = text(505, "HTTP Version Not Supported", "HTTP version not supported\n")

    /// The status line, headers and body, ready to send.
    func serialized() -> [UInt8] {
        let bodyBytes = Array(body.utf8)
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        head += "Content-Type: \(contentType)\r\n"
        head += "Content-Length: \(bodyBytes.count)\r\n"
        for header in extraHeaders {
            head += "\(header.name): \(header.value)\r\n"
        }
        head += "Connection: close\r\n\r\n"
        return Array(head.utf8) + bodyBytes
    }
}

/// Maps a request to a response: `GET /metrics`, `GET /health`, `GET /ready`; 404 for other paths and 405 for other
/// methods on those paths.
struct MetricsRoutes: Sendable {
    let registry: MetricsRegistry
    let health: @Sendable () -> HealthStatus
    let readiness: @Sendable () -> HealthStatus
    /// The application's routes (``MetricsServerRoute``).
    var extra: [MetricsServerRoute] = []

    /// The content type of the Prometheus text exposition format.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"

    func response(toHead head: ArraySlice<UInt8>) -> HTTPResponse {
        let request: HTTPRequestHead
        do {
            request = try HTTPRequestHead.parse(head)
        } catch .unsupportedVersion {
            return .versionNotSupported
        } catch {
            return .badRequest
        }
        return response(to: request)
    }

    func response(to request: HTTPRequestHead) -> HTTPResponse {
        if let route = extra.first(where: { $0.path == request.path }) {
            guard route.methods.contains(request.method) else {
                var response = HTTPResponse.methodNotAllowed
                response.extraHeaders = [("Allow", route.methods.sorted().joined(separator: ", "))]
                return response
            }
            let answer = route.handler(
                MetricsServerRoute.Request(
                    method: request.method, path: request.path,
                    query: MetricsServerRoute.Request.parameters(request.query)
                )
            )
            return HTTPResponse(
                status: answer.status, reason: Self.reasonPhrase(answer.status), contentType: answer.contentType,
                body: answer.body
            )
        }
        let check: @Sendable () -> HealthStatus
        switch request.path {
        case "/metrics":
            guard request.method == "GET" else { return .methodNotAllowed }
            return HTTPResponse(
                status: 200,
                reason: "OK",
                contentType: Self.metricsContentType,
                body: registry.prometheusText()
            )
        case "/health": check = health
        case "/ready": check = readiness
        default: return .notFound
        }
        guard request.method == "GET" else { return .methodNotAllowed }
        let status = check()
        return status.isHealthy
            ? .text(200, "OK", status.reason + "\n")
            : .text(503, "Service Unavailable", status.reason + "\n")
    }

    /// The reason phrase of the statuses routes answer with.
    static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 202: "Accepted"
        case 400: "Bad Request"
        case 404: "Not Found"
        case 409: "Conflict"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status \(status)"
        }
    }
}
