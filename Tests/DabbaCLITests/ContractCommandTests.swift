import Foundation
import Testing

@testable import DabbaCLI

/// The repository's `Topics/` directory, found by walking up from this file.
private func repositoryTopics(file: String = #filePath) throws -> URL {
    var directory = URL(fileURLWithPath: file).deletingLastPathComponent()
    while directory.path != "/" {
        let topics = directory.appendingPathComponent("Topics")
        if FileManager.default.fileExists(atPath: topics.appendingPathComponent("payments.asyncapi.yaml").path) {
            return topics
        }
        directory.deleteLastPathComponent()
    }
    throw CocoaError(.fileNoSuchFile)
}

/// Where the fixture services were built: next to `dabba`.
private var binPath: String { Dabba.executable.deletingLastPathComponent().path }

@Suite("dabba contract verify")
struct ContractVerifyTests {
    @Test("a service that honours the catalog passes, with producer -> topic -> consumer rows")
    func passing() async throws {
        let result = try await Dabba.run([
            "contract", "verify", "--bin-path", binPath, "--service", "dabba-contract-fixture",
            "--catalog", try repositoryTopics().path,
        ])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let rows = result.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        let eventRows = rows.dropFirst().dropLast()
        #expect(rows.first == "EVENT TYPE PRODUCERS TOPIC CONSUMERS RESULT")
        #expect(
            eventRows.filter { $0.hasPrefix("payments.") } == [
                "payments.payment.requested (catalog: checkout) payments.payments dabba-contract-fixture ok",
                "payments.payment.authorized dabba-contract-fixture payments.payments - ok",
                "payments.payment.declined dabba-contract-fixture payments.payments - ok",
            ]
        )
        // The catalog's other documents (the food-delivery example) have no service in this run.
        let others = eventRows.filter { !$0.hasPrefix("payments.") }
        #expect(others.allSatisfy { $0.hasSuffix(" not covered") }, "\(others)")
        #expect(rows.last == "All contracts hold: 1 service, \(eventRows.count) event types.")
    }

    @Test("the broken service is caught: a forbidden field and a missing handler, each named exactly")
    func broken() async throws {
        let result = try await Dabba.run([
            "contract", "verify", "--bin-path", binPath, "--service", "dabba-contract-fixture",
            "--service", "dabba-broken-contract-fixture", "--catalog", try repositoryTopics().path,
        ])
        #expect(result.exitCode == 1)
        #expect(
            result.stderr.split(separator: "\n").map(String.init) == [
                "error: dabba-broken-contract-fixture emits payments.payment.authorized: /cardNumber: property 'cardNumber' is not allowed (additionalProperties is false) (additionalProperties)",
                "error: dabba-broken-contract-fixture receives payments.payment.requested: the catalog routes it to group payments-authorizer but there is no handler and no pipeline.ignore (handler)",
                "error: contract verification failed: 2 problems in 2 services",
            ]
        )
        let failing = result.lines.filter { $0.hasSuffix("FAIL") }.compactMap { $0.split(separator: " ").first.map(String.init) }
        #expect(failing == ["payments.payment.requested", "payments.payment.authorized"])
    }

    @Test("an executable that is not a pipeline service is reported, not skipped")
    func notAService() async throws {
        let result = try await Dabba.run([
            "contract", "verify", "--bin-path", binPath, "--service", "dabba", "--catalog", try repositoryTopics().path,
        ])
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("error: dabba: no contract report (exit status 64); is it a PipelineService executable?"))
    }

    @Test("discovery: executables on DabbaService (directly, through targets, as a product) calling PipelineService; not launchers, not Tests/ fixtures")
    func discovery() throws {
        let description = """
            {"name": "food", "products": [
              {"name": "food-orders", "type": {"executable": null}, "targets": ["FoodOrders"]},
              {"name": "food-analytics", "type": {"executable": null}, "targets": ["FoodAnalytics"]},
              {"name": "food-demo", "type": {"executable": null}, "targets": ["FoodDemo"]},
              {"name": "user-service", "type": {"executable": null}, "targets": ["UserService"]},
              {"name": "dabba", "type": {"executable": null}, "targets": ["dabba"]},
              {"name": "some-fixture", "type": {"executable": null}, "targets": ["SomeFixture"]},
              {"name": "FoodShared", "type": {"library": ["automatic"]}, "targets": ["FoodShared"]}
            ], "targets": [
              {"name": "FoodOrders", "path": "Examples/FoodDelivery/Orders", "sources": ["main.swift"], "target_dependencies": ["DabbaService"]},
              {"name": "FoodAnalytics", "path": "Examples/FoodDelivery/Analytics", "sources": ["Analytics.swift"], "target_dependencies": ["FoodShared"]},
              {"name": "FoodDemo", "path": "Examples/FoodDelivery/Demo", "sources": ["Demo.swift"], "target_dependencies": ["DabbaService"]},
              {"name": "FoodShared", "path": "Examples/FoodDelivery/Shared", "target_dependencies": ["DabbaService"]},
              {"name": "UserService", "path": "Sources/UserService", "sources": ["main.swift"], "product_dependencies": ["DabbaService", "Logging"]},
              {"name": "dabba", "path": "Sources/dabba", "target_dependencies": ["DabbaCLI"]},
              {"name": "DabbaCLI", "path": "Sources/DabbaCLI", "target_dependencies": ["DabbaPipeline"]},
              {"name": "SomeFixture", "path": "Tests/Fixtures/Some", "sources": ["main.swift"], "target_dependencies": ["DabbaService"]},
              {"name": "DabbaService", "path": "Sources/DabbaService", "target_dependencies": ["DabbaPipeline"]}
            ]}
            """
        let sources = [
            "Examples/FoodDelivery/Orders/main.swift": "try await PipelineService.run(pipeline, options: options)",
            "Examples/FoodDelivery/Analytics/Analytics.swift": "await PipelineService.main(pipeline)",
            "Examples/FoodDelivery/Demo/Demo.swift": "// starts the five services as processes",
            "Sources/UserService/main.swift": "try await PipelineService.run(pipeline, options: options)",
            "Tests/Fixtures/Some/main.swift": "try await PipelineService.run(pipeline, options: options)",
        ]
        let services = try ServiceDiscovery.services(describeJSON: Data(description.utf8)) { sources[$0] }
        #expect(services.map(\.executable) == ["food-analytics", "food-orders", "user-service"])
    }
}

@Suite("dabba contract compat")
struct ContractCompatTests {
    /// A git repository with the repository's payments catalog committed once.
    private func repository() async throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("compat-\(UUID().uuidString)")
        let topics = directory.appendingPathComponent("Topics")
        try FileManager.default.createDirectory(at: topics, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: try repositoryTopics().appendingPathComponent("payments.asyncapi.yaml"),
            to: topics.appendingPathComponent("payments.asyncapi.yaml")
        )
        try await git(["init", "-q"], in: directory)
        try await git(["add", "-A"], in: directory)
        try await git(["-c", "user.email=test@dabba", "-c", "user.name=test", "commit", "-qm", "v1"], in: directory)
        return directory
    }

    private func git(_ arguments: [String], in directory: URL) async throws {
        let result = try await ChildProcess.run("git", arguments, workingDirectory: directory)
        try #require(result.status == 0, "git \(arguments): \(result.stderr)")
    }

    private func edit(_ directory: URL, replacing old: String, with new: String) throws {
        let file = directory.appendingPathComponent("Topics/payments.asyncapi.yaml")
        let text = try String(contentsOf: file, encoding: .utf8)
        try #require(text.contains(old))
        try text.replacingOccurrences(of: old, with: new).write(to: file, atomically: true, encoding: .utf8)
    }

    @Test("removing an enum value breaks backward, named by event type, direction, field and rule")
    func breaking() async throws {
        let directory = try await repository()
        defer { try? FileManager.default.removeItem(at: directory) }
        try edit(directory, replacing: "enum: [card, bank_transfer, wallet]", with: "enum: [card, bank_transfer]")
        let result = try await Dabba.run(["contract", "compat", "--against", "HEAD"], workingDirectory: directory)
        #expect(result.exitCode == 1)
        #expect(
            result.stderr.split(separator: "\n").map(String.init) == [
                #"error: payments.payment.requested: backward: /method: the writer may write "wallet", which the reader's enum does not allow (enum)"#,
                "error: 1 breaking change since HEAD in 1 event type",
            ]
        )
        let rows = result.lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(rows.contains("payments.payment.requested changed backward (x-dabba-compatibility) BREAKING"))
        #expect(rows.contains("payments.payment.declined unchanged backward (x-dabba-compatibility) ok"))
    }

    @Test("the event's x-dabba-compatibility overrides --mode; unchanged catalogs pass")
    func override() async throws {
        let directory = try await repository()
        defer { try? FileManager.default.removeItem(at: directory) }
        let unchanged = try await Dabba.run(["contract", "compat", "--against", "HEAD", "--mode", "full"], workingDirectory: directory)
        #expect(unchanged.exitCode == 0, "\(unchanged.stderr)")
        #expect(unchanged.lines.last == "Compatible with HEAD: 3 event types checked.")
        // Adding an enum value breaks forward only; the event declares backward.
        try edit(directory, replacing: "enum: [card, bank_transfer, wallet]", with: "enum: [card, bank_transfer, wallet, voucher]")
        let declared = try await Dabba.run(["contract", "compat", "--against", "HEAD", "--mode", "forward"], workingDirectory: directory)
        #expect(declared.exitCode == 0, "\(declared.stderr)")
        try edit(directory, replacing: "x-dabba-compatibility: backward\n      payload:\n        $ref: '#/components/schemas/PaymentRequested'", with: "x-dabba-compatibility: full\n      payload:\n        $ref: '#/components/schemas/PaymentRequested'")
        let full = try await Dabba.run(["contract", "compat", "--against", "HEAD"], workingDirectory: directory)
        #expect(full.exitCode == 1)
        #expect(full.stderr.contains(#"error: payments.payment.requested: forward: /method: the writer may write "voucher", which the reader's enum does not allow (enum)"#))
    }

    @Test("a revision that does not exist is an error, not a pass")
    func missingRevision() async throws {
        let directory = try await repository()
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try await Dabba.run(["contract", "compat", "--against", "HEAD~5"], workingDirectory: directory)
        #expect(result.exitCode == 1)
        #expect(result.stderr.contains("error: git revision 'HEAD~5' does not exist here"))
    }
}
