import DabbaTesting
import Foundation
import Testing

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

@Suite("dabba ui (the command)", .timeLimit(.minutes(2)))
struct UICommandTests {
    @Test("serves the console on 127.0.0.1, prints its URL, answers pages, and exits 0 on SIGTERM")
    func serves() async throws {
        let ui = try RunningDabba(
            ["ui", "--port", "0", "--catalog", repositoryRoot.appendingPathComponent("Topics").path] + bootstrapArguments,
            input: nil, environment: [:])
        try await TestHelpers.eventually("dabba ui printed its URL", timeout: .seconds(30), pollInterval: .milliseconds(100)) {
            ui.stderr.contains("dabba ui: http://127.0.0.1:")
        }
        let line = try #require(ui.stderr.split(separator: "\n").first { $0.hasPrefix("dabba ui: http://127.0.0.1:") })
        #expect(line.contains("read-only"))
        let url = try #require(line.split(separator: " ").dropFirst(2).first.flatMap { URL(string: String($0)) })
        let (data, response) = try await URLSession.shared.data(from: url.appendingPathComponent("status"))
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: data, as: UTF8.self).contains("disabled: read-only"))
        ui.signal(SIGTERM)
        let result = try await ui.waitForExit(timeLimit: .seconds(30))
        #expect(result.exitCode == 0, "\(result.stderr)")
    }

    @Test("a malformed --service or port is refused, naming it")
    func refusesBadOptions() async throws {
        let service = try await Dabba.run(["ui", "--service", "orders"] + bootstrapArguments)
        #expect(service.exitCode != 0)
        #expect(service.stderr.contains("--service orders: expected NAME=http://host:port"), "\(service.stderr)")
        let port = try await Dabba.run(["ui", "--port", "70000"] + bootstrapArguments)
        #expect(port.exitCode != 0)
        #expect(port.stderr.contains("--port must be within 0…65535"), "\(port.stderr)")
    }
}
