import Testing

@testable import DabbaMetrics

@Suite("HTTP request parsing and routing")
struct HTTPParsingTests {
    private func parse(_ text: String) throws(HTTPRequestHead.ParseError) -> HTTPRequestHead {
        try HTTPRequestHead.parse(Array(text.utf8)[...])
    }

    @Test("request lines in origin and absolute form, with queries and leading blank lines")
    func validRequestLines() throws {
        #expect(
            try parse("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
                == .init(method: "GET", path: "/metrics", version: "HTTP/1.1")
        )
        #expect(try parse("GET /metrics?name[]=x#frag HTTP/1.0\n\n").path == "/metrics")
        #expect(try parse("\r\n\r\nPOST /ready HTTP/1.1\r\n\r\n").method == "POST")
        #expect(try parse("GET http://example.com:9090/health?x HTTP/1.1\r\n\r\n").path == "/health")
        #expect(try parse("GET http://example.com HTTP/1.1\r\n\r\n").path == "/")
    }

    @Test(
        "malformed request lines are rejected",
        arguments: [
            "", "\r\n\r\n", "GET /metrics\r\n\r\n", "GET  /metrics HTTP/1.1\r\n\r\n", "GET /metrics HTTP/1.1 x\r\n\r\n",
            "GET metrics HTTP/1.1\r\n\r\n", "G(T /metrics HTTP/1.1\r\n\r\n", "GET /métrics HTTP/1.1\r\n\r\n",
            "GET /metrics FTP/1.1\r\n\r\n", "GET /a\tb HTTP/1.1\r\n\r\n",
        ]
    )
    func malformed(line: String) {
        #expect(throws: HTTPRequestHead.ParseError.malformed) { try parse(line) }
    }

    @Test("HTTP versions other than 1.0 and 1.1 are unsupported")
    func versions() {
        #expect(throws: HTTPRequestHead.ParseError.unsupportedVersion) { try parse("GET / HTTP/2.0\r\n\r\n") }
        #expect(throws: HTTPRequestHead.ParseError.unsupportedVersion) { try parse("GET / HTTP/0.9\r\n\r\n") }
    }

    @Test("the end of the head is found across CRLF and bare LF line endings")
    func endOfHead() {
        func end(_ text: String) -> Int? { MetricsServerCore.endOfHead(in: Array(text.utf8)[...]) }
        #expect(end("GET / HTTP/1.1\r\nA: b\r\n\r\nbody") == 24)
        #expect(end("GET / HTTP/1.1\n\nbody") == 16)
        #expect(end("GET / HTTP/1.1\r\nA: b\r\n") == nil)
        #expect(end("GET / HTTP/1.1\r\n\r") == nil)
        let bytes = Array("xxGET / HTTP/1.1\r\n\r\n".utf8)
        #expect(MetricsServerCore.endOfHead(in: bytes[2...]) == bytes.count)
    }

    @Test("responses are serialised with length and Connection: close")
    func serialisation() {
        let response = HTTPResponse.methodNotAllowed.serialized()
        #expect(
            String(decoding: response, as: UTF8.self)
                == "HTTP/1.1 405 Method Not Allowed\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 19\r\n"
                + "Allow: GET\r\nConnection: close\r\n\r\nmethod not allowed\n"
        )
        let unicode = HTTPResponse.text(503, "Service Unavailable", "café\n").serialized()
        #expect(String(decoding: unicode, as: UTF8.self).contains("Content-Length: 6\r\n"))
    }

    @Test("routing")
    func routing() {
        let routes = MetricsRoutes(registry: MetricsRegistry(), health: { .ok }, readiness: { .unhealthy("later") })
        func status(_ method: String, _ path: String) -> Int {
            routes.response(to: HTTPRequestHead(method: method, path: path, version: "HTTP/1.1")).status
        }
        #expect(status("GET", "/metrics") == 200)
        #expect(status("GET", "/health") == 200)
        #expect(status("GET", "/ready") == 503)
        #expect(status("GET", "/metrics/") == 404)
        #expect(status("GET", "/Health") == 404)
        #expect(status("DELETE", "/ready") == 405)
        #expect(status("POST", "/elsewhere") == 404)
        #expect(routes.response(toHead: Array("BAD\r\n\r\n".utf8)[...]).status == 400)
    }
}
