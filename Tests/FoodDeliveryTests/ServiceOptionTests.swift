import DabbaTesting
import FoodDeliveryRuntime
import Foundation
import Testing

@Suite("Food delivery: service options")
struct ServiceOptionTests {
    func run(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let result = try await TestProcess(
            executable: TestProcess.executable(named: name), arguments: arguments, mergeStandardError: true
        ).waitForExit()
        return (result.exitCode, result.stdout)
    }

    @Test("services refuse --exactly-once, --inbox none and a malformed --session-timeout, naming the option")
    func refusals() async throws {
        for name in foodServiceNames {
            let exactlyOnce = try await run(name, ["--bootstrap", "127.0.0.1:1", "--exactly-once"])
            #expect(exactlyOnce.status != 0)
            #expect(exactlyOnce.output.contains("--exactly-once"), "\(name): \(exactlyOnce.output)")
            let noInbox = try await run(name, ["--bootstrap", "127.0.0.1:1", "--inbox", "none"])
            #expect(noInbox.status != 0)
            #expect(noInbox.output.contains("--inbox none"), "\(name): \(noInbox.output)")
        }
        let timeout = try await run("food-orders", ["--bootstrap", "127.0.0.1:1", "--session-timeout", "soon"])
        #expect(timeout.status != 0)
        #expect(timeout.output.contains("--session-timeout"))
    }

    @Test("food-analytics --report names the missing store")
    func reportWithoutStore() async throws {
        let missing = NSTemporaryDirectory() + TestHelpers.uniqueName("food-no-such") + ".sqlite"
        let report = try await run("food-analytics", ["--report", "--inbox", "sqlite:\(missing)"])
        #expect(report.status != 0)
        #expect(report.output.contains(missing))
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}
