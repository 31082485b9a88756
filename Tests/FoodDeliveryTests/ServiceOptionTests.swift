import FoodDeliveryRuntime
import Foundation
import Testing

@Suite("Food delivery: service options")
struct ServiceOptionTests {
    func run(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = try ServiceProcess.locate(name)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test("services refuse --exactly-once, --inbox none and a malformed --session-timeout, naming the option")
    func refusals() throws {
        for name in foodServiceNames {
            let exactlyOnce = try run(name, ["--bootstrap", "127.0.0.1:1", "--exactly-once"])
            #expect(exactlyOnce.status != 0)
            #expect(exactlyOnce.output.contains("--exactly-once"), "\(name): \(exactlyOnce.output)")
            let noInbox = try run(name, ["--bootstrap", "127.0.0.1:1", "--inbox", "none"])
            #expect(noInbox.status != 0)
            #expect(noInbox.output.contains("--inbox none"), "\(name): \(noInbox.output)")
        }
        let timeout = try run("food-orders", ["--bootstrap", "127.0.0.1:1", "--session-timeout", "soon"])
        #expect(timeout.status != 0)
        #expect(timeout.output.contains("--session-timeout"))
    }

    @Test("food-analytics --report names the missing store")
    func reportWithoutStore() throws {
        let missing = NSTemporaryDirectory() + "food-no-such-\(UUID().uuidString.prefix(8)).sqlite"
        let report = try run("food-analytics", ["--report", "--inbox", "sqlite:\(missing)"])
        #expect(report.status != 0)
        #expect(report.output.contains(missing))
        #expect(!FileManager.default.fileExists(atPath: missing))
    }
}
