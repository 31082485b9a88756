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

    @Test("food-loadgen takes the connection settings every service takes, and names a bad one")
    func loadGeneratorConnection() async throws {
        let malformed = try await run("food-loadgen", ["--bootstrap", "127.0.0.1:1", "--property", "nonsense"])
        #expect(malformed.status != 0)
        #expect(malformed.output.contains("--property: 'nonsense' is not KEY=VALUE"), "\(malformed.output)")
        let unknown = try await run("food-loadgen", ["--bootstrap", "127.0.0.1:1", "--property", "no.such.key=1"])
        #expect(unknown.status != 0)
        #expect(unknown.output.contains("'no.such.key' (from --property)"), "\(unknown.output)")
        let file = NSTemporaryDirectory() + TestHelpers.uniqueName("loadgen") + ".properties"
        try "bootstrap.servers=127.0.0.1:1\nsasl.mechanism=NOPE\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        let fromFile = try await run("food-loadgen", ["--config", file])
        #expect(fromFile.status != 0)
        #expect(fromFile.output.contains("sasl.mechanism"), "\(fromFile.output)")
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
