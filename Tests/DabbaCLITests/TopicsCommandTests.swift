import DabbaCatalog
import DabbaKafka
import DabbaTesting
import Foundation
import Testing

@testable import DabbaCLI

/// The repository's sample catalog document.
private let samplePaymentsURL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Topics/payments.asyncapi.yaml")

private let mainTopic = "payments.payments"
private let retry1 = "payments.payments.payments-authorizer.retry.1"
private let retry2 = "payments.payments.payments-authorizer.retry.2"
private let deadLetter = "payments.payments.payments-authorizer.dlq"
private let sampleTopics = [mainTopic, retry1, retry2, deadLetter]

/// A catalog directory in a temporary folder holding the sample payments document, changed by string replacement.
private final class CatalogDirectory: @unchecked Sendable {
    // @unchecked: only the test that created it touches it, one step at a time.
    let url: URL
    private(set) var text: String

    init(_ replacements: [(String, String)] = []) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("dabba-topics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        text = try String(contentsOf: samplePaymentsURL, encoding: .utf8)
        try write(replacements)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    var path: String { url.path }
    var file: URL { url.appendingPathComponent("payments.asyncapi.yaml") }

    /// Applies the replacements to the current text (each must match) and writes the file.
    func write(_ replacements: [(String, String)]) throws {
        for (old, new) in replacements {
            try #require(text.contains(old), "the sample catalog no longer contains '\(old)'")
            text = text.replacingOccurrences(of: old, with: new)
        }
        try Data(text.utf8).write(to: file)
    }

    /// The 1-based line of the first line containing `fragment`.
    func line(of fragment: String) throws -> Int {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        return try #require(lines.firstIndex { $0.contains(fragment) }) + 1
    }
}

// MARK: - The planner (no broker)

@Suite("TopicPlan (no broker)")
struct TopicPlanTests {
    private func spec(
        _ name: String,
        partitions: Int = 6,
        replicas: Int = 1,
        configs: [String: String] = [:],
        kind: DabbaCatalog.TopicSpec.Kind = .main
    ) -> DabbaCatalog.TopicSpec {
        DabbaCatalog.TopicSpec(
            name: name, partitions: partitions, replicas: replicas, configs: configs, channelID: "c", kind: kind,
            source: CatalogLocation(file: "t.asyncapi.yaml", line: 1, column: 1)
        )
    }

    private func sampleCatalog() throws -> Catalog {
        try Catalog.load(yaml: String(contentsOf: samplePaymentsURL, encoding: .utf8), path: "payments.asyncapi.yaml")
    }

    @Test("an empty cluster: every topic, derived ones included, is created with its partitions, replicas, configs")
    func createsEverything() throws {
        let plan = TopicPlan.make(catalog: try sampleCatalog(), cluster: [], prune: false)
        #expect(plan.creations.map(\.topic.name) == sampleTopics)
        let dlq = try #require(plan.creations.last?.topic)
        #expect(dlq.partitions == 6 && dlq.replicas == 1)
        #expect(dlq.configs["retention.ms"] == "1209600000")
        #expect(plan.creations.first?.topic.configs["retention.ms"] == "604800000")
        #expect(plan.updates.isEmpty && plan.deletions.isEmpty && plan.refusals.isEmpty && plan.warnings.isEmpty)
        #expect(plan.hasChanges)
        #expect(plan.summary == "Plan: 4 to create, 0 to update, 0 to delete, 0 refused.")
        let lines = plan.lines
        #expect(lines.first == "+ create payments.payments: 6 partitions, 1 replica")
        #expect(lines.contains("    retention.ms = 604800000"))
        #expect(
            lines.contains(
                "+ create \(retry2): 6 partitions, 1 replica (retry tier 2 (10s) of payments.payments for group "
                    + "payments-authorizer)"
            )
        )
        #expect(
            lines.contains(
                "+ create \(deadLetter): 6 partitions, 1 replica (dead letter of payments.payments for group "
                    + "payments-authorizer)"
            )
        )
        #expect(lines.last == plan.summary)
    }

    @Test("a matching cluster: no changes; undeclared keys and cleanup.policy order do not count")
    func noChanges() {
        let topics = [
            spec("a", configs: ["cleanup.policy": "compact,delete", "retention.ms": "1000"]),
            spec("b", partitions: 1),
        ]
        let cluster = [
            ClusterTopic(
                name: "a", partitions: 6, replicationFactor: 1,
                configs: ["cleanup.policy": "delete, compact", "retention.ms": "1000", "segment.ms": "42"]
            ),
            ClusterTopic(name: "b", partitions: 1, replicationFactor: 1, configs: ["retention.ms": "5"]),
            ClusterTopic(name: "unrelated", partitions: 3, replicationFactor: 1),
        ]
        let plan = TopicPlan.make(topics: topics, cluster: cluster, prune: true)
        #expect(plan == TopicPlan())
        #expect(!plan.hasChanges)
    }

    @Test("more partitions in the catalog: the topic grows")
    func grows() {
        let plan = TopicPlan.make(
            topics: [spec("a", partitions: 12)],
            cluster: [ClusterTopic(name: "a", partitions: 6, replicationFactor: 1)],
            prune: false
        )
        #expect(plan.updates == [.init(name: "a", partitions: .init(from: 6, to: 12), configChanges: [])])
        #expect(plan.refusals.isEmpty)
        #expect(plan.lines.contains { $0.hasPrefix("    partitions: 6 -> 12") })
        #expect(plan.summary == "Plan: 0 to create, 1 to update, 0 to delete, 0 refused.")
    }

    @Test("only declared config keys that differ change, old -> new; a key the cluster lacks is '(not set)'")
    func configChanges() {
        let plan = TopicPlan.make(
            topics: [
                spec("a", configs: ["retention.ms": "2000", "max.message.bytes": "100", "compression.type": "zstd"])
            ],
            cluster: [
                ClusterTopic(
                    name: "a", partitions: 6, replicationFactor: 1,
                    configs: ["retention.ms": "1000", "max.message.bytes": "100", "segment.ms": "7"]
                )
            ],
            prune: false
        )
        let update = TopicPlan.Update(
            name: "a", partitions: nil,
            configChanges: [
                .init(key: "compression.type", old: nil, new: "zstd"),
                .init(key: "retention.ms", old: "1000", new: "2000"),
            ]
        )
        #expect(plan.updates == [update])
        #expect(
            plan.lines == [
                "~ update a", "    compression.type: (not set) -> zstd", "    retention.ms: 1000 -> 2000",
                "Plan: 0 to create, 1 to update, 0 to delete, 0 refused.",
            ])
    }

    @Test("fewer partitions in the catalog is refused with an explanation; other changes are still shown")
    func shrinkRefused() {
        let plan = TopicPlan.make(
            topics: [spec("a", partitions: 3, configs: ["retention.ms": "2"]), spec("b", partitions: 2)],
            cluster: [
                ClusterTopic(name: "a", partitions: 6, replicationFactor: 1, configs: ["retention.ms": "1"]),
                ClusterTopic(name: "b", partitions: 4, replicationFactor: 1),
            ],
            prune: false
        )
        #expect(plan.refusals.map(\.name) == ["a", "b"])
        #expect(plan.refusals.first?.change == "partitions 6 -> 3")
        #expect(plan.refusals.first?.explanation.contains("Kafka cannot remove partitions") == true)
        #expect(plan.refusals.first?.explanation.contains("new name") == true)
        #expect(plan.updates.map(\.name) == ["a"])
        #expect(plan.updates.first?.partitions == nil)
        let lines = plan.lines
        #expect(lines.contains("! refused a: partitions 6 -> 3"))
        #expect(lines.contains("! refused b: partitions 4 -> 2"))
        // The shared explanation is printed once.
        #expect(lines.filter { $0.contains("Kafka cannot remove partitions") }.count == 1)
        #expect(lines.last == "Plan: 0 to create, 1 to update, 0 to delete, 2 refused.")
    }

    @Test("a different replication factor is a warning, not a change")
    func replicationFactorWarning() {
        let plan = TopicPlan.make(
            topics: [spec("a", replicas: 3)],
            cluster: [ClusterTopic(name: "a", partitions: 6, replicationFactor: 1)],
            prune: false
        )
        #expect(!plan.hasChanges && plan.refusals.isEmpty)
        #expect(plan.warningLines.count == 1)
        #expect(plan.warningLines.first?.hasPrefix("warning: a: replication factor 1 -> 3 is not changed") == true)
        #expect(plan.warningLines.first?.contains("partition reassignment") == true)
    }

    @Test("--prune deletes only derived-looking topics of declared topics that the catalog no longer derives")
    func prune() throws {
        let catalog = try sampleCatalog()
        let existing = catalog.allTopics.map {
            ClusterTopic(name: $0.name, partitions: $0.partitions, replicationFactor: $0.replicas, configs: $0.configs)
        }
        let stale = [
            ClusterTopic(name: "payments.payments.payments-authorizer.retry.3", partitions: 6, replicationFactor: 1),
            ClusterTopic(name: "payments.payments.old-group.dlq", partitions: 2, replicationFactor: 1),
        ]
        let kept = [
            ClusterTopic(name: "payments.payments.archive", partitions: 1, replicationFactor: 1),
            ClusterTopic(name: "payments.refunds", partitions: 1, replicationFactor: 1),
            ClusterTopic(name: "other.topic.g.dlq", partitions: 1, replicationFactor: 1),
            ClusterTopic(name: "payments.payments.retry.1", partitions: 1, replicationFactor: 1),
            ClusterTopic(name: "__consumer_offsets", partitions: 50, replicationFactor: 1),
        ]
        let withoutPrune = TopicPlan.make(catalog: catalog, cluster: existing + stale + kept, prune: false)
        #expect(withoutPrune == TopicPlan())

        let plan = TopicPlan.make(catalog: catalog, cluster: existing + stale + kept, prune: true)
        #expect(
            plan.deletions.map(\.name)
                == ["payments.payments.old-group.dlq", "payments.payments.payments-authorizer.retry.3"]
        )
        #expect(
            plan.deletions.first?.reason
                == "dead letter of payments.payments for group old-group, no longer in the catalog"
        )
        #expect(
            plan.deletions.last?.reason
                == "retry tier 3 of payments.payments for group payments-authorizer, no longer in the catalog"
        )
        #expect(
            plan.lines.contains(
                "- delete payments.payments.old-group.dlq: 2 partitions (dead letter of "
                    + "payments.payments for group old-group, no longer in the catalog)"))
        #expect(plan.summary == "Plan: 0 to create, 0 to update, 2 to delete, 0 refused.")
    }

    @Test("a derived-looking name belongs to the longest declared topic it starts with")
    func derivedOrigin() {
        #expect(TopicPlan.derivedOrigin(of: "a.b.g.dlq", mainTopics: ["a", "a.b"]) == "dead letter of a.b for group g")
        #expect(TopicPlan.derivedOrigin(of: "a.x.y.retry.12", mainTopics: ["a"]) == "retry tier 12 of a for group x.y")
        #expect(TopicPlan.derivedOrigin(of: "a.dlq", mainTopics: ["a"]) == nil)
        #expect(TopicPlan.derivedOrigin(of: "a.g.retry.x", mainTopics: ["a"]) == nil)
        #expect(TopicPlan.derivedOrigin(of: "ab.g.dlq", mainTopics: ["a"]) == nil)
    }

    @Test("retry delays print as the catalog writes them")
    func delays() {
        #expect(TopicPlan.formatDelay(.milliseconds(250)) == "250ms")
        #expect(TopicPlan.formatDelay(.seconds(30)) == "30s")
        #expect(TopicPlan.formatDelay(.seconds(300)) == "5m")
        #expect(TopicPlan.formatDelay(.seconds(7200)) == "2h")
        #expect(TopicPlan.formatDelay(.milliseconds(1500)) == "1500ms")
    }
}

// MARK: - dabba topics list and catalog errors (no broker)

@Suite("dabba topics list and catalog errors", .timeLimit(.minutes(2)))
struct TopicsCatalogCommandTests {
    @Test("list prints every topic, derived ones included, as a table; $DABBA_CATALOG names the catalog")
    func listTable() async throws {
        let catalog = try CatalogDirectory()
        let result = try await Dabba.run(["topics", "list"], environment: ["DABBA_CATALOG": catalog.path])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let lines = result.lines
        try #require(lines.count == 5)
        #expect(lines[0].hasPrefix("NAME") && lines[0].hasSuffix("CONFIGS"))
        let columns = lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        #expect(columns[1].prefix(4) == [mainTopic, "main", "6", "1"])
        #expect(lines[1].hasSuffix("cleanup.policy=delete max.message.bytes=1048576 retention.ms=604800000"))
        #expect(lines[2].contains("retry tier 1 (1s) of payments.payments for group payments-authorizer"))
        #expect(lines[3].hasPrefix(retry2) && lines[3].contains("retry tier 2 (10s)"))
        #expect(lines[4].hasPrefix(deadLetter) && lines[4].contains("dead letter of payments.payments for group"))
        #expect(lines[4].hasSuffix("retention.ms=1209600000"))
    }

    @Test("list --json prints one object per topic")
    func listJSON() async throws {
        let catalog = try CatalogDirectory([("partitions: 6", "partitions: 4")])
        let result = try await Dabba.run(["topics", "list", "--catalog", catalog.path, "--json"])
        #expect(result.exitCode == 0, "\(result.stderr)")
        let objects = try result.jsonLines()
        #expect(objects.map { $0.string("name") } == sampleTopics)
        #expect(objects.map { $0.string("kind") } == ["main", "retry", "retry", "deadLetter"])
        #expect(objects.allSatisfy { $0.int("partitions") == 4 && $0.int("replicas") == 1 })
        #expect(objects[0].isNull("group") && objects[0].isNull("tier"))
        #expect(objects[2].int("tier") == 2 && objects[2].string("delay") == "10s")
        #expect(objects[2].int("delayMilliseconds") == 10_000)
        #expect(objects[3].string("group") == "payments-authorizer")
        #expect(objects[3].string("mainTopic") == mainTopic)
        #expect((objects[3]["configs"] as? [String: String])?["retention.ms"] == "1209600000")
        let addressLine = try catalog.line(of: "address: payments.payments")
        #expect(objects[0].string("source")?.hasSuffix("payments.asyncapi.yaml:\(addressLine):14") == true)
    }

    @Test("a catalog with errors: every error with file:line, exit 1, before any broker is contacted")
    func invalidCatalog() async throws {
        let catalog = try CatalogDirectory([
            ("partitions: 6", "partitions: 0"),
            ("retention.ms: 604800000 # 7 days", "retention.ms: -5"),
        ])
        let partitionsLine = try catalog.line(of: "partitions: 0")
        let retentionLine = try catalog.line(of: "retention.ms: -5")
        for command in [["list"], ["plan", "-b", "127.0.0.1:1"], ["apply", "-b", "127.0.0.1:1"]] {
            let result = try await Dabba.run(
                ["topics"] + command + ["--catalog", catalog.path], timeLimit: .seconds(30)
            )
            #expect(result.exitCode == 1, "\(command): \(result.stderr)")
            #expect(result.stdout.isEmpty)
            let errors = result.stderr.split(separator: "\n").map(String.init)
            #expect(errors.allSatisfy { $0.hasPrefix("error: ") }, "\(result.stderr)")
            #expect(errors.contains { $0.contains("payments.asyncapi.yaml:\(partitionsLine):") }, "\(result.stderr)")
            #expect(errors.contains { $0.contains("payments.asyncapi.yaml:\(retentionLine):") }, "\(result.stderr)")
            #expect(errors.last == "error: the catalog in '\(catalog.path)' has 2 errors")
        }
    }

    @Test("a missing catalog directory is named, with how to choose another")
    func missingCatalog() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("no-such-\(UUID().uuidString)").path
        let result = try await Dabba.run(["topics", "list", "--catalog", missing])
        #expect(result.exitCode == 1)
        #expect(
            result.stderr
                == "error: catalog directory '\(missing)' (--catalog) does not exist\n"
        )
    }
}

// MARK: - plan and apply on a broker with admin APIs

@Suite(
    "dabba topics plan/apply on a persistent broker",
    .enabled(if: PersistentTestBroker.isAvailable, Comment(rawValue: PersistentTestBroker.unavailableMessage)),
    .timeLimit(.minutes(3))
)
struct TopicsPlanApplyTests {
    private func topics(_ broker: PersistentTestBroker, _ arguments: [String], catalog: CatalogDirectory)
        async throws -> CommandResult
    {
        try await Dabba.run(
            ["topics"] + arguments + ["-b", broker.bootstrapServers, "--catalog", catalog.path, "--timeout", "20"],
            timeLimit: .seconds(60)
        )
    }

    /// Partition counts of the sample's topics, in `sampleTopics` order.
    private func partitionCounts(_ admin: KafkaAdmin) async throws -> [Int] {
        try await admin.describeTopics(sampleTopics).map(\.partitions.count)
    }

    @Test("plan lists the creates (exit 2), apply creates them, then plan and apply report no changes (exit 0)")
    func createThenNoChanges() async throws {
        try await PersistentTestBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let catalog = try CatalogDirectory()

            let plan = try await topics(broker, ["plan", "--detailed-exitcode"], catalog: catalog)
            #expect(plan.exitCode == 2, "\(plan.stderr)")
            #expect(plan.stderr.isEmpty)
            #expect(plan.lines.filter { $0.hasPrefix("+ create ") }.count == 4)
            for name in sampleTopics { #expect(plan.lines.contains { $0.hasPrefix("+ create \(name): 6 partitions") }) }
            #expect(plan.lines.last == "Plan: 4 to create, 0 to update, 0 to delete, 0 refused.")
            // Planning changed nothing.
            #expect(try await admin.describeTopics().filter { sampleTopics.contains($0.name) }.isEmpty)

            let apply = try await topics(broker, ["apply"], catalog: catalog)
            #expect(apply.exitCode == 0, "\(apply.stderr)")
            #expect(
                apply.lines == sampleTopics.map { "+ created \($0): 6 partitions, 1 replica" }
                    + ["Apply complete: 4 created, 0 updated, 0 deleted."])

            let described = try await admin.describeTopics(sampleTopics)
            #expect(described.map(\.partitions.count) == [6, 6, 6, 6])
            #expect(described.map(\.replicationFactor) == [1, 1, 1, 1])
            let main = try await admin.describeTopicConfigs(mainTopic)
            #expect(main["retention.ms"]?.value == "604800000")
            #expect(main["max.message.bytes"]?.value == "1048576")
            #expect(main["cleanup.policy"]?.value == "delete")
            let dlq = try await admin.describeTopicConfigs(deadLetter)
            #expect(dlq["retention.ms"]?.value == "1209600000")
            #expect(dlq["retention.ms"]?.source == .dynamicTopic)

            let again = try await topics(broker, ["plan", "--detailed-exitcode"], catalog: catalog)
            #expect(again.exitCode == 0, "\(again.stderr)")
            #expect(again.stdout == "No changes. The cluster matches the catalog's 4 topics.\n")
            let reapply = try await topics(broker, ["apply"], catalog: catalog)
            #expect(reapply.exitCode == 0, "\(reapply.stderr)")
            #expect(reapply.stdout == "No changes. The cluster matches the catalog's 4 topics.\n")
            // Without --detailed-exitcode a plan with changes exits 0 too.
            try catalog.write([("partitions: 6", "partitions: 7")])
            #expect(try await topics(broker, ["plan"], catalog: catalog).exitCode == 0)
        }
    }

    @Test("more partitions and a new retention.ms: plan shows ~, apply grows and updates, other configs are kept")
    func growAndReconfigure() async throws {
        try await PersistentTestBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let catalog = try CatalogDirectory()
            #expect(try await topics(broker, ["apply"], catalog: catalog).exitCode == 0)
            // An override the catalog does not declare must survive the apply.
            try await admin.alterTopicConfigs(mainTopic, set: ["segment.ms": "600000"])

            try catalog.write([
                ("partitions: 6", "partitions: 8"),
                ("retention.ms: 604800000 # 7 days", "retention.ms: 86400000"),
            ])
            let plan = try await topics(broker, ["plan", "--detailed-exitcode"], catalog: catalog)
            #expect(plan.exitCode == 2, "\(plan.stderr)")
            let mainBlock = Array(plan.lines.drop { $0 != "~ update \(mainTopic)" }.prefix(3))
            #expect(
                mainBlock == [
                    "~ update \(mainTopic)",
                    "    partitions: 6 -> 8 (keys produced from now on may map to other partitions)",
                    "    retention.ms: 604800000 -> 86400000",
                ])
            // The dead-letter topic keeps its own retention: only its partitions change.
            #expect(plan.lines.contains("~ update \(deadLetter)"))
            #expect(plan.lines.last == "Plan: 0 to create, 4 to update, 0 to delete, 0 refused.")

            let apply = try await topics(broker, ["apply"], catalog: catalog)
            #expect(apply.exitCode == 0, "\(apply.stderr)")
            #expect(apply.lines.contains("~ grew \(mainTopic): partitions 6 -> 8"))
            #expect(apply.lines.contains("~ updated \(mainTopic): retention.ms 604800000 -> 86400000"))
            #expect(apply.lines.last == "Apply complete: 0 created, 4 updated, 0 deleted.")

            #expect(try await partitionCounts(admin) == [8, 8, 8, 8])
            let configs = try await admin.describeTopicConfigs(mainTopic)
            #expect(configs["retention.ms"]?.value == "86400000")
            #expect(configs["max.message.bytes"]?.value == "1048576")
            #expect(configs["cleanup.policy"]?.value == "delete")
            #expect(configs["segment.ms"]?.value == "600000")
            #expect(try await admin.describeTopicConfigs(deadLetter)["retention.ms"]?.value == "1209600000")

            let after = try await topics(broker, ["plan", "--detailed-exitcode"], catalog: catalog)
            #expect(after.exitCode == 0, "\(after.stdout)\(after.stderr)")
        }
    }

    @Test("a compacted topic: apply creates it compacted; a changed cleanup.policy is planned and applied")
    func compaction() async throws {
        try await PersistentTestBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let catalog = try CatalogDirectory([("cleanup.policy: [delete]", "cleanup.policy: [compact]")])
            let plan = try await topics(broker, ["plan"], catalog: catalog)
            #expect(plan.exitCode == 0, "\(plan.stderr)")
            let mainCreate = Array(plan.lines.drop { !$0.hasPrefix("+ create \(mainTopic):") }.prefix(4))
            #expect(mainCreate.contains("    cleanup.policy = compact"), "\(plan.stdout)")

            let apply = try await topics(broker, ["apply"], catalog: catalog)
            #expect(apply.exitCode == 0, "\(apply.stderr)")
            #expect(try await admin.describeTopicConfigs(mainTopic)["cleanup.policy"]?.value == "compact")
            // Retry and dead-letter topics never compact: a newer record of a key would drop a pending retry.
            for derived in [retry1, retry2, deadLetter] {
                #expect(try await admin.describeTopicConfigs(derived)["cleanup.policy"]?.value == "delete")
            }

            // An existing topic whose cleanup.policy differs from the catalog's: shown old -> new, then set.
            try catalog.write([("cleanup.policy: [compact]", "cleanup.policy: [delete]")])
            let back = try await topics(broker, ["plan", "--detailed-exitcode"], catalog: catalog)
            #expect(back.exitCode == 2, "\(back.stderr)")
            #expect(back.lines.contains("~ update \(mainTopic)"))
            #expect(back.lines.contains("    cleanup.policy: compact -> delete"))
            #expect(back.lines.last == "Plan: 0 to create, 1 to update, 0 to delete, 0 refused.")
            let reapply = try await topics(broker, ["apply"], catalog: catalog)
            #expect(reapply.exitCode == 0, "\(reapply.stderr)")
            #expect(reapply.lines.contains("~ updated \(mainTopic): cleanup.policy compact -> delete"))
            #expect(try await admin.describeTopicConfigs(mainTopic)["cleanup.policy"]?.value == "delete")

            try catalog.write([("cleanup.policy: [delete]", "cleanup.policy: [delete, compact]")])
            let both = try await topics(broker, ["apply"], catalog: catalog)
            #expect(both.lines.contains("~ updated \(mainTopic): cleanup.policy delete -> delete,compact"))
            let policy = try await admin.describeTopicConfigs(mainTopic)["cleanup.policy"]?.value
            #expect(Set((policy ?? "").split(separator: ",")) == ["compact", "delete"])
            let after = try await topics(broker, ["plan", "--detailed-exitcode"], catalog: catalog)
            #expect(after.exitCode == 0, "\(after.stdout)\(after.stderr)")
        }
    }

    @Test("fewer partitions: plan and apply refuse with !, exit 1, and nothing changes")
    func shrinkRefused() async throws {
        try await PersistentTestBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let catalog = try CatalogDirectory()
            #expect(try await topics(broker, ["apply"], catalog: catalog).exitCode == 0)

            try catalog.write([
                ("partitions: 6", "partitions: 3"),
                ("retention.ms: 604800000 # 7 days", "retention.ms: 86400000"),
            ])
            for command in [["plan", "--detailed-exitcode"], ["plan"], ["apply"]] {
                let result = try await topics(broker, command, catalog: catalog)
                #expect(result.exitCode == 1, "\(command): \(result.stderr)")
                #expect(result.lines.contains("! refused \(mainTopic): partitions 6 -> 3"), "\(result.stdout)")
                #expect(result.stdout.contains("Kafka cannot remove partitions"))
                #expect(result.lines.last == "Plan: 0 to create, 3 to update, 0 to delete, 4 refused.")
                #expect(result.stderr.hasPrefix("error: 4 changes are refused (marked !)"), "\(result.stderr)")
            }
            // Not even the allowed retention change was applied.
            #expect(try await partitionCounts(admin) == [6, 6, 6, 6])
            #expect(try await admin.describeTopicConfigs(mainTopic)["retention.ms"]?.value == "604800000")
        }
    }

    @Test("--prune deletes stale derived topics only with --yes; other topics are never deleted")
    func prune() async throws {
        try await PersistentTestBroker.with { broker in
            let admin = try broker.admin(logger: quietLogger)
            let catalog = try CatalogDirectory()
            #expect(try await topics(broker, ["apply"], catalog: catalog).exitCode == 0)
            let unrelated = ["payments.payments.archive", "orders.orders.g.dlq"]
            try await admin.createTopics(unrelated.map { NewTopic(name: $0, partitions: 1, replicationFactor: 1) })

            // Two retry tiers become one: tier 2 is no longer derived.
            try catalog.write([("delays: [1s, 10s]", "delays: [1s]")])
            let plain = try await topics(broker, ["plan", "--detailed-exitcode"], catalog: catalog)
            #expect(plain.exitCode == 0, "\(plain.stdout)")
            let plan = try await topics(broker, ["plan", "--prune", "--detailed-exitcode"], catalog: catalog)
            #expect(plan.exitCode == 2)
            #expect(
                plan.lines == [
                    "- delete \(retry2): 6 partitions (retry tier 2 of payments.payments for group "
                        + "payments-authorizer, no longer in the catalog)",
                    "Plan: 0 to create, 0 to update, 1 to delete, 0 refused.",
                ])

            let unconfirmed = try await topics(broker, ["apply", "--prune"], catalog: catalog)
            #expect(unconfirmed.exitCode == 1)
            #expect(unconfirmed.stderr.contains("--prune would delete 1 topic and all its messages; add --yes"))
            #expect(try await admin.describeTopics([retry2]).count == 1)

            let confirmed = try await topics(broker, ["apply", "--prune", "--yes"], catalog: catalog)
            #expect(confirmed.exitCode == 0, "\(confirmed.stderr)")
            #expect(confirmed.lines == ["- deleted \(retry2)", "Apply complete: 0 created, 0 updated, 1 deleted."])
            let remaining = Set(try await admin.describeTopics().map(\.name))
            #expect(!remaining.contains(retry2))
            #expect(remaining.isSuperset(of: [mainTopic, retry1, deadLetter] + unrelated))
        }
    }
}

// MARK: - A broker without admin APIs

@Suite("dabba topics on the embedded broker", .timeLimit(.minutes(2)))
struct TopicsOnEmbeddedBrokerTests {
    @Test("plan and apply fail at once naming the unsupported API and suggesting dabba broker --catalog")
    func unsupported() async throws {
        let broker = try EmbeddedBroker(logger: quietLogger)
        defer { broker.stop() }
        let catalog = try CatalogDirectory()
        // One of the catalog's topics exists; the rest would have to be created.
        try await broker.createTopic(mainTopic, partitions: 6)
        for command in ["plan", "apply"] {
            let started = ContinuousClock.now
            // "At once" means well before the request timeout (60 s here), however loaded the machine is.
            let result = try await Dabba.run(
                ["topics", command, "-b", broker.bootstrapServers, "--catalog", catalog.path, "--timeout", "60"],
                timeLimit: .seconds(90)
            )
            #expect(ContinuousClock.now - started < .seconds(30))
            #expect(result.exitCode == 1)
            #expect(result.stdout.isEmpty)
            #expect(result.stderr.hasPrefix("error: this broker does not support DescribeConfigs"), "\(result.stderr)")
            #expect(result.stderr.contains("dabba broker --catalog"))
        }
        // A fresh embedded cluster without any of the topics fails the same way (plan would otherwise only create).
        let empty = try EmbeddedBroker(logger: quietLogger)
        defer { empty.stop() }
        let result = try await Dabba.run(
            ["topics", "plan", "-b", empty.bootstrapServers, "--catalog", catalog.path], timeLimit: .seconds(30)
        )
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("error: this broker does not support DescribeConfigs"), "\(result.stderr)")
    }

    @Test("an unreachable broker is named within --timeout")
    func unreachable() async throws {
        let catalog = try CatalogDirectory()
        let result = try await Dabba.run(
            ["topics", "plan", "-b", "127.0.0.1:1", "--catalog", catalog.path, "--timeout", "2"],
            timeLimit: .seconds(30)
        )
        #expect(result.exitCode == 1)
        #expect(result.stderr.hasPrefix("error: could not reach Kafka at 127.0.0.1:1 within 2s"), "\(result.stderr)")
    }
}
