import DabbaTesting
import Foundation


/// A headless Chromium driven through chromedriver's W3C WebDriver protocol (JSON over HTTP): no npm, no Selenium.
final class Browser: Sendable {
    /// Why browser tests cannot run here, or nil when Debian's `chromium` and `chromium-driver` are installed.
    static var unavailableReason: String? {
        for path in [chromium, chromedriver, curl] where !FileManager.default.isExecutableFile(atPath: path) {
            return "browser tests skipped: \(path) is missing (make deps installs Debian's chromium and chromium-driver)"
        }
        return nil
    }
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"
    static let curl = "/usr/bin/curl"
    /// Where screenshots go (each page of each test; the last one tells what a failing check saw).
    static let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent(".build/console-screenshots")

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let driver: TestProcess
    private let base: URL
    private let session: String

    private init(driver: TestProcess, base: URL, session: String) {
        self.driver = driver
        self.base = base
        self.session = session
    }

    /// Starts chromedriver and a headless browser session.
    static func start() async throws -> Browser {
        // A port the system just gave out, not a random one: a random port could be one a broker or service of
        // the test run listens on, and chromedriver would exit at once.
        let port = TestHelpers.freePort()
        let driver = try TestProcess(
            executable: URL(fileURLWithPath: chromedriver), arguments: ["--port=\(port)"], mergeStandardError: true)
        let base = URL(string: "http://127.0.0.1:\(port)")!
        do {
            try await TestHelpers.eventually(
                "chromedriver answers", timeout: .seconds(60), pollInterval: .milliseconds(100)
            ) {
                guard driver.isRunning else { return true }
                return (try? await request(base.appendingPathComponent("status"), method: "GET", body: nil)) != nil
            }
        } catch {
            driver.signal(SIGKILL)
            throw Failure(description: "chromedriver on port \(port) did not answer: \(error)\n\(driver.stdout)")
        }
        guard driver.isRunning else {
            throw Failure(description: "chromedriver on port \(port) exited before answering:\n\(driver.stdout)")
        }
        let capabilities: [String: Any] = [
            "capabilities": [
                "alwaysMatch": [
                    "browserName": "chrome",
                    "goog:chromeOptions": [
                        "binary": chromium,
                        "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1100"],
                    ],
                ]
            ]
        ]
        let answer = try await request(base.appendingPathComponent("session"), method: "POST", body: capabilities)
        guard let value = answer["value"] as? [String: Any], let session = value["sessionId"] as? String else {
            driver.signal(SIGKILL)
            throw Failure(description: "chromedriver did not open a session: \(answer)")
        }
        return Browser(driver: driver, base: base, session: session)
    }

    /// Ends the session and chromedriver.
    func quit() async {
        _ = try? await Self.request(base.appendingPathComponent("session/\(session)"), method: "DELETE", body: nil)
        driver.signal(SIGTERM)
        _ = try? await driver.waitForExit(timeLimit: .seconds(10))
    }

    /// One WebDriver call, through curl: Foundation's URLSession on Linux fails on chromedriver's answers ("Failed
    /// writing header").
    @discardableResult
    private static func request(_ url: URL, method: String, body: [String: Any]?) async throws -> [String: Any] {
        var arguments = ["-s", "--max-time", "90", "-X", method, url.absoluteString]
        var input: Data?
        if let body {
            input = try JSONSerialization.data(withJSONObject: body)
            arguments += ["-H", "Content-Type: application/json", "--data-binary", "@-"]
        }
        let process = try TestProcess(executable: URL(fileURLWithPath: curl), arguments: arguments, input: input)
        let result = try await process.waitForExit(timeLimit: .seconds(100))
        guard result.exitCode == 0 else { throw Failure(description: "curl \(method) \(url) exited with \(result.exitCode)") }
        let data = Data(result.stdout.utf8)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw Failure(description: "WebDriver answered \(String(decoding: data, as: UTF8.self))")
        }
        if let value = object["value"] as? [String: Any], let error = value["error"] as? String {
            throw Failure(description: "WebDriver \(error): \(value["message"] ?? "")")
        }
        return object
    }

    @discardableResult
    private func command(_ path: String, _ method: String = "POST", _ body: [String: Any]? = [:]) async throws -> Any? {
        try await Self.request(base.appendingPathComponent("session/\(session)/\(path)"), method: method, body: method == "GET" ? nil : body)["value"]
    }

    /// Opens a URL and waits for the document.
    func open(_ url: String) async throws { try await command("url", "POST", ["url": url]) }

    /// The element's id for a CSS selector.
    func find(_ selector: String) async throws -> String {
        let value = try await command("element", "POST", ["using": "css selector", "value": selector]) as? [String: Any]
        guard let id = value?.values.first as? String else { throw Failure(description: "no element \(selector)") }
        return id
    }

    /// Every element matching a CSS selector.
    func findAll(_ selector: String) async throws -> [String] {
        let value = try await command("elements", "POST", ["using": "css selector", "value": selector]) as? [[String: Any]]
        return (value ?? []).compactMap { $0.values.first as? String }
    }

    func text(_ selector: String) async throws -> String { try await text(of: try await find(selector)) }
    func text(of element: String) async throws -> String { try await command("element/\(element)/text", "GET") as? String ?? "" }
    func attribute(_ selector: String, _ name: String) async throws -> String? {
        try await command("element/\(try await find(selector))/attribute/\(name)", "GET") as? String
    }
    /// A DOM property (`value` of an input or a textarea, as the user sees it).
    func property(_ selector: String, _ name: String) async throws -> String? {
        try await command("element/\(try await find(selector))/property/\(name)", "GET") as? String
    }
    func exists(_ selector: String) async throws -> Bool { !(try await findAll(selector)).isEmpty }

    func click(_ selector: String) async throws { try await command("element/\(try await find(selector))/click") }
    func type(_ selector: String, _ text: String, replacing: Bool = true) async throws {
        let element = try await find(selector)
        if replacing { try await command("element/\(element)/clear") }
        try await command("element/\(element)/value", "POST", ["text": text])
    }
    func select(_ selector: String, value: String) async throws {
        try await command("execute/sync", "POST", [
            "script": "var s = document.querySelector(arguments[0]); s.value = arguments[1];", "args": [selector, value],
        ])
    }

    /// Saves a screenshot as `<name>.png` in ``screenshots``.
    func screenshot(_ name: String) async throws {
        guard let encoded = try await command("screenshot", "GET") as? String, let data = Data(base64Encoded: encoded) else { return }
        try FileManager.default.createDirectory(at: Self.screenshots, withIntermediateDirectories: true)
        try data.write(to: Self.screenshots.appendingPathComponent("\(name).png"))
    }

    /// Waits until `condition` holds, taking a screenshot named `name` either way.
    func waitFor(_ what: String, screenshot name: String, timeout: Duration = .seconds(30), _ condition: @escaping @Sendable () async throws -> Bool) async throws {
        do {
            try await TestHelpers.eventually(what, timeout: timeout, pollInterval: .milliseconds(250)) { (try? await condition()) ?? false }
        } catch {
            try? await screenshot(name + "-failed")
            throw error
        }
        try? await screenshot(name)
    }
}
