import Hummingbird

/// The Hummingbird responder of a ``ServiceHTTPServer``: bounds the request body, then asks the routing table.
struct ServiceResponder: HTTPResponder {
    typealias Context = BasicRequestContext

    let routes: ServiceRoutes
    let maxRequestBodySize: Int

    func respond(to request: Request, context: BasicRequestContext) async throws -> Response {
        // The body is read (and dropped: routes act on the path and query) before any handler runs, so that a handler
        // starts only once the whole request is in: a request that never finishes is the connection guard's to end.
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxRequestBodySize {
            return Self.response(Self.tooLarge(maxRequestBodySize), method: request.method)
        }
        var received = 0
        for try await chunk in request.body {
            received += chunk.readableBytes
            if received > maxRequestBodySize {
                return Self.response(Self.tooLarge(maxRequestBodySize), method: request.method)
            }
        }

        let query = request.uri.query.map { Substring($0) } ?? ""
        let answer = await routes.answer(method: request.method.rawValue, path: request.uri.path, query: query)
        return Self.response(answer, method: request.method)
    }

    static func tooLarge(_ limit: Int) -> RouteAnswer {
        .text(413, "request body larger than \(limit) bytes\n")
    }

    /// The Hummingbird response of an answer; without the body (but with its length) for `HEAD`.
    static func response(_ answer: RouteAnswer, method: HTTPRequest.Method) -> Response {
        var headers: HTTPFields = [.contentType: answer.contentType]
        if let allow = answer.allow { headers[.allow] = allow }
        let response = Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: headers,
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: answer.body))
        )
        return method == .head ? response.createHeadResponse() : response
    }
}
