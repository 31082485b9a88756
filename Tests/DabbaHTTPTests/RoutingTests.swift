import Prometheus
import Testing

@testable import DabbaHTTP

@Suite("Routing, without sockets")
struct RoutingTests {
    private func routes(
        metrics: PrometheusCollectorRegistry? = PrometheusCollectorRegistry(),
        extra: [ServiceRoute] = []
    ) -> ServiceRoutes {
        ServiceRoutes(metrics: metrics, health: { .ok }, readiness: { .unhealthy("later") }, extra: extra)
    }

    private func answer(_ routes: ServiceRoutes, _ method: String, _ path: String, _ query: Substring = "") async
        -> RouteAnswer
    {
        await routes.answer(method: method, path: path, query: query)
    }

    @Test("built-in paths, unknown paths and other methods")
    func builtIns() async {
        let routes = routes()
        #expect(await answer(routes, "GET", "/metrics").status == 200)
        #expect(await answer(routes, "GET", "/metrics").contentType == "text/plain; version=0.0.4; charset=utf-8")
        #expect(await answer(routes, "GET", "/health") == .text(200, "ok\n"))
        #expect(await answer(routes, "GET", "/ready") == .text(503, "later\n"))
        #expect(await answer(routes, "GET", "/metrics/").status == 404)
        #expect(await answer(routes, "GET", "/Health").status == 404)
        #expect(await answer(routes, "POST", "/elsewhere") == .text(404, "not found\n"))
        let notAllowed = await answer(routes, "DELETE", "/ready")
        #expect(notAllowed.status == 405)
        #expect(notAllowed.allow == "GET, HEAD")
        #expect(await answer(routes, "HEAD", "/health").status == 200)
    }

    @Test("without a registry /metrics is 404, whatever the method")
    func noRegistry() async {
        let routes = routes(metrics: nil)
        #expect(await answer(routes, "GET", "/metrics") == .text(404, ServiceRoutes.noRegistryBody))
        #expect(await answer(routes, "POST", "/metrics").status == 404)
    }

    @Test("extra routes take precedence, see the decoded query, and list their methods in Allow")
    func extraRoutes() async {
        let echo = ServiceRoute(path: "/health", methods: ["GET", "POST"]) { request in
            let query = request.query.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return ServiceRoute.Response(status: 202, body: "\(request.method) \(query)", contentType: "text/x-echo")
        }
        let routes = routes(extra: [echo])
        let answer = await answer(routes, "POST", "/health", "b=two+words&a=%C3%A9t%C3%A9&a=last&flag&bad=%zz")
        #expect(answer.status == 202)
        #expect(answer.contentType == "text/x-echo")
        #expect(String(decoding: answer.body, as: UTF8.self) == "POST a=last,b=two words,bad=%zz,flag=")
        // HEAD runs the GET handler, which sees GET.
        #expect(String(decoding: await self.answer(routes, "HEAD", "/health").body, as: UTF8.self) == "GET ")
        let notAllowed = await self.answer(routes, "PUT", "/health")
        #expect(notAllowed.status == 405)
        #expect(notAllowed.allow == "GET, HEAD, POST")
    }

    @Test("a route answering with an impossible status gets 500")
    func invalidStatus() async {
        let broken = ServiceRoute(path: "/broken", methods: ["GET"]) { _ in .init(status: 42, body: "") }
        let answer = await answer(routes(extra: [broken]), "GET", "/broken")
        #expect(answer.status == 500)
        #expect(String(decoding: answer.body, as: UTF8.self).contains("invalid status 42"))
    }

    @Test(
        "query parameters",
        arguments: [
            ("", [:]),
            ("a=1&b=2", ["a": "1", "b": "2"]),
            ("a=1&a=2", ["a": "2"]),
            ("x=a+b%20c", ["x": "a b c"]),
            ("%41%62=%7e", ["Ab": "~"]),
            ("k=%4", ["k": "%4"]),
            ("k=v#fragment", ["k": "v"]),
            ("&&k&", ["k": ""]),
            ("k=a=b", ["k": "a=b"]),
        ] as [(String, [String: String])]
    )
    func queryParameters(query: String, expected: [String: String]) {
        #expect(ServiceRoute.Request.parameters(Substring(query)) == expected)
    }
}
