import DemoTestKit
import Testing

@Suite("chat-demo flat out (--rate 0)", .serialized, .timeLimit(.minutes(6)))
struct ChatDemoFlatOutTests {
    @Test("messages sent as fast as the broker acknowledges them are each decided and delivered once, per second figures printed")
    func flatOut() async throws {
        let run = try await DemoExecutableRun.run(
            "chat-demo",
            arguments: [
                "--rate", "0", "--messages", "300", "--burst-messages", "100", "--small-groups", "20",
                "--large-group", "100", "--seed", "19",
            ])
        #expect(run.status == 0, "chat-demo failed:\n\(run.output)")
        for invariant in [
            "missing", "duplicate_deliveries", "order_violations", "leaked", "undelivered_online", "stuck",
            "duplicate_effects",
        ] {
            #expect(run.integer(invariant) == 0, "\(invariant): \(run.fields)")
        }
        // The base load and the burst (plus the racing and large-group messages), every one decided.
        let messages = try #require(run.integer("messages"), "\(run.fields)")
        #expect(messages >= 400, "\(run.fields)")
        #expect(run.output.contains("(\(messages) messages decided and "), "\(run.output)")
        #expect((run.integer("deliveries") ?? 0) > 0, "\(run.fields)")
        #expect((run.integer("messages_per_s") ?? 0) > 0, "\(run.fields)")
        #expect((run.integer("deliveries_per_s") ?? 0) > 0, "\(run.fields)")
        #expect(run.integer("p99_ms") != nil, "\(run.fields)")
    }

    @Test("a negative rate is refused, naming the option")
    func negativeRate() async throws {
        let run = try await DemoExecutableRun.run("chat-demo", arguments: ["--rate", "-1"])
        #expect(run.status != 0)
        #expect(run.output.contains("--rate"), "\(run.output)")
    }
}
