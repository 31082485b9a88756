import DabbaCatalog
import DabbaKafka
import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// `dabba ui`: a web console that knows the application — the catalog's systems, topics, event types and consumer
/// groups — and the cluster and services behind it.
///
/// Pages are rendered on the server and work without JavaScript; a small script (shipped in the binary) adds the live
/// tail (server-sent events) and refreshes the overview's figures. Write actions (produce, dead-letter replay, offset
/// reset) exist only with ``ConsoleConfiguration/allowActions``; every form post must carry the console's CSRF token,
/// bulk actions need a typed confirmation, and every action is logged. The console listens on `127.0.0.1` unless told
/// otherwise.
public final class Console: Service, Sendable {
    let model: ConsoleModel
    /// A random token every form carries; a post without it is refused (a page of another site cannot read it).
    let csrfToken: String
    private let port = Mutex<Int?>(nil)
    private let portWaiters = Mutex<[CheckedContinuation<Int, Never>]>([])

    /// Creates the console for a catalog (loaded from ``ConsoleConfiguration/catalogDirectory``) and connects the
    /// admin client (connection happens in the background).
    /// - Throws: ``ConsoleError`` with `invalidConfiguration` naming the setting, or ``KafkaError`` for a bad client
    ///   property.
    public init(configuration: ConsoleConfiguration, catalog: Catalog, logger: Logger = Logger(label: "dabba.ui")) throws {
        if let problem = configuration.problem { throw ConsoleError(.invalidConfiguration, problem) }
        model = try ConsoleModel(configuration: configuration, catalog: catalog, logger: logger)
        var bytes = [UInt8](repeating: 0, count: 24)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: .min ... .max, using: &generator) }
        csrfToken = bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Serves until cancelled or shut down gracefully; samples the cluster and services meanwhile.
    public func run() async throws {
        let configuration = model.configuration
        let router = Router()
        routes(router)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "dabba-ui"),
            onServerRunning: { [weak self] channel in self?.listening(on: channel.localAddress?.port ?? configuration.port) },
            logger: model.logger
        )
        let model = self.model
        try await withThrowingDiscardingTaskGroup { group in
            group.addTask { await model.runSampler() }
            try await app.runService()
            group.cancelAll()
        }
    }

    /// The port the console listens on, once it does.
    public func boundPort() async -> Int {
        if let port = port.withLock({ $0 }) { return port }
        return await withCheckedContinuation { continuation in
            let known: Int? = port.withLock { port in
                if let port { return port }
                portWaiters.withLock { $0.append(continuation) }
                return nil
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    private func listening(on bound: Int) {
        let waiters = port.withLock { port in
            port = bound
            return portWaiters.withLock { waiters in
                defer { waiters = [] }
                return waiters
            }
        }
        for waiter in waiters { waiter.resume(returning: bound) }
        model.logger.notice("dabba ui listening on http://\(model.configuration.host):\(bound)/")
    }

    // MARK: - Routes

    private func routes(_ router: Router<BasicRequestContext>) {
        let pages = ConsolePages(model: model, csrfToken: csrfToken)
        router.get("/assets/console.css") { _, _ in Self.asset(ConsoleAssets.css, type: "text/css; charset=utf-8") }
        router.get("/assets/console.js") { _, _ in Self.asset(ConsoleAssets.javascript, type: "text/javascript; charset=utf-8") }
        let reads: [(String, @Sendable ([String: String]) async throws -> String)] = [
            ("/", pages.overview), ("/topic", pages.topic), ("/group", pages.group), ("/messages", pages.messages),
            ("/flow", pages.flow), ("/dead-letters", pages.deadLetters), ("/dead-letters/record", pages.deadLetterRecord),
            ("/produce", pages.produceForm), ("/service", pages.service), ("/contracts", pages.contracts),
            ("/status", pages.status),
        ]
        for (path, render) in reads {
            router.get(RouterPath(path)) { request, _ in
                await Self.respond { try await render(Self.query(request)) }
            }
        }
        router.get("/messages/tail") { request, _ in pages.tail(Self.query(request)) }
        let writes: [(String, @Sendable ([String: String]) async throws -> String)] = [
            ("/group/reset", pages.resetOffsets), ("/dead-letters/replay", pages.replay), ("/produce", pages.produce),
        ]
        for (path, act) in writes {
            router.post(RouterPath(path)) { request, _ in
                var request = request
                let form: [String: String]
                do {
                    form = Self.decodeForm(String(buffer: try await request.collectBody(upTo: 1 << 20)))
                } catch {
                    return Self.html(.badRequest, ConsolePages.errorPage(ConsoleError(.badRequest, "the form could not be read: \(error)")))
                }
                return await Self.respond { try await act(try self.checked(form, request)) }
            }
        }
    }

    /// Refuses a post without the CSRF token, or from another origin, or when actions are disabled.
    private func checked(_ form: [String: String], _ request: Request) throws -> [String: String] {
        guard form["csrf"] == csrfToken else {
            throw ConsoleError(.forbidden, "the form did not carry this console's CSRF token: reload the page and try again")
        }
        if let origin = request.headers[.origin], let host = request.head.authority, origin != "http://\(host)" {
            throw ConsoleError(.forbidden, "a post from \(origin) is not from this console (\(host))")
        }
        guard model.configuration.allowActions else {
            throw ConsoleError(.actionsDisabled, "write actions are disabled: start dabba ui with --allow-actions")
        }
        return form
    }

    /// The query string, decoded as a GET form sends it (`+` for spaces, then percent escapes).
    static func query(_ request: Request) -> [String: String] { decodeForm(request.uri.query ?? "") }

    /// Decodes `application/x-www-form-urlencoded` text: a posted form's body or a query string.
    static func decodeForm(_ body: String) -> [String: String] {
        var form: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(text)
            }
            guard let name = parts.first else { continue }
            form[decode(name)] = parts.count > 1 ? decode(parts[1]) : ""
        }
        return form
    }

    static func respond(_ render: () async throws -> String) async -> Response {
        do {
            return html(.ok, try await render())
        } catch let error as ConsoleError {
            let status: HTTPResponse.Status =
                switch error.code {
                case .forbidden, .actionsDisabled: .forbidden
                case .notFound: .notFound
                default: .badRequest
                }
            return html(status, ConsolePages.errorPage(error))
        } catch {
            return html(.internalServerError, ConsolePages.errorPage(ConsoleError(.badRequest, "\(error)")))
        }
    }

    static func html(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status,
            headers: htmlHeaders, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// Pages are never cached and never framed by another site (clickjacking of the action forms).
    static let htmlHeaders: HTTPFields = {
        var headers: HTTPFields = [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"]
        if let frames = HTTPFields.Element.Name("X-Frame-Options") { headers[frames] = "DENY" }
        return headers
    }()

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
