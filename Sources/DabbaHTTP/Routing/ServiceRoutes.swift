import Prometheus

/// An answer of the routing table, before it becomes a Hummingbird response.
struct RouteAnswer: Sendable, Equatable {
    var status: Int
    var contentType = ServiceRoutes.plainText
    var body: [UInt8]
    /// The `Allow` header of a `405` answer.
    var allow: String?

    static func text(_ status: Int, _ body: String) -> RouteAnswer {
        RouteAnswer(status: status, body: Array(body.utf8))
    }
}

/// Maps a method and path to an answer: the application's routes first, then `GET /metrics`, `GET /health` and
/// `GET /ready`; `404` for other paths and `405` (with `Allow`) for other methods on a known path. `HEAD` is answered
/// as `GET` wherever `GET` is served and `HEAD` is not (the caller drops the body).
struct ServiceRoutes: Sendable {
    /// The content type of plain-text answers.
    static let plainText = "text/plain; charset=utf-8"
    /// The content type of the Prometheus text exposition format 0.0.4.
    static let metricsContentType = "text/plain; version=0.0.4; charset=utf-8"
    /// The body of `/metrics` when the server has no registry.
    static let noRegistryBody = "metrics are exported by the application's own metrics backend\n"

    let metrics: PrometheusCollectorRegistry?
    let health: @Sendable () -> HealthStatus
    let readiness: @Sendable () -> HealthStatus
    let extra: [ServiceRoute]

    /// Answers a request whose head has been read (and whose body, if any, has been read and was small enough).
    func answer(method: String, path: String, query: Substring) async -> RouteAnswer {
        if let route = extra.first(where: { $0.path == path }) {
            guard let served = Self.servedMethod(method, among: route.methods) else {
                return Self.methodNotAllowed(allowing: route.methods)
            }
            let request = ServiceRoute.Request(
                method: served,
                path: path,
                query: ServiceRoute.Request.parameters(query)
            )
            let response = await route.handler(request)
            guard (200...599).contains(response.status) else {
                return .text(500, "the route \(path) answered with the invalid status \(response.status)\n")
            }
            return RouteAnswer(
                status: response.status,
                contentType: response.contentType,
                body: Array(response.body.utf8)
            )
        }

        let check: @Sendable () -> HealthStatus
        switch path {
        case "/metrics":
            guard let metrics else { return .text(404, Self.noRegistryBody) }
            guard Self.servedMethod(method, among: ["GET"]) != nil else {
                return Self.methodNotAllowed(allowing: ["GET"])
            }
            var body: [UInt8] = []
            metrics.emit(into: &body)
            return RouteAnswer(status: 200, contentType: Self.metricsContentType, body: body)
        case "/health": check = health
        case "/ready": check = readiness
        default: return .text(404, "not found\n")
        }
        guard Self.servedMethod(method, among: ["GET"]) != nil else { return Self.methodNotAllowed(allowing: ["GET"]) }
        let status = check()
        return .text(status.isHealthy ? 200 : 503, status.reason + "\n")
    }

    /// The method the handler sees: `method` itself if served, `GET` for a `HEAD` on a path that serves `GET` but not
    /// `HEAD`, nil if the method is not allowed.
    static func servedMethod(_ method: String, among methods: Set<String>) -> String? {
        if methods.contains(method) { return method }
        if method == "HEAD", methods.contains("GET") { return "GET" }
        return nil
    }

    /// The methods a path answers, as its `Allow` header lists them.
    static func allowed(_ methods: Set<String>) -> String {
        var all = methods
        if all.contains("GET") { all.insert("HEAD") }
        return all.sorted().joined(separator: ", ")
    }

    static func methodNotAllowed(allowing methods: Set<String>) -> RouteAnswer {
        var answer = RouteAnswer.text(405, "method not allowed\n")
        answer.allow = allowed(methods)
        return answer
    }
}
