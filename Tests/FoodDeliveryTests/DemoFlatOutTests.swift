import DemoTestKit
import Testing

@Suite("food-demo flat out (--rate 0)", .serialized, .timeLimit(.minutes(6)))
struct FoodDemoFlatOutTests {
    @Test("orders placed as fast as the broker acknowledges them all finish once, and the demo prints orders per second")
    func flatOut() async throws {
        let run = try await DemoExecutableRun.run("food-demo", arguments: ["--rate", "0", "--orders", "150", "--seed", "11"])
        #expect(run.status == 0, "food-demo failed:\n\(run.output)")
        // The well-formed orders, and the bad ones that must be rejected, all reached a final state once.
        #expect((run.integer("orders") ?? 0) >= 150, "\(run.fields)")
        #expect(run.integer("stuck") == 0, "\(run.fields)")
        #expect(run.integer("duplicate_effects") == 0, "\(run.fields)")
        #expect(run.integer("disagreeing") == 0, "\(run.fields)")
        #expect(
            (run.integer("delivered") ?? 0) + (run.integer("rejected") ?? 0) + (run.integer("cancelled") ?? 0)
                == run.integer("orders"), "\(run.fields)")
        #expect((run.integer("orders_per_s") ?? 0) > 0, "\(run.fields)")
        #expect(run.output.contains("orders end to end"), "\(run.output)")
    }

    @Test("a negative rate is refused, naming the option")
    func negativeRate() async throws {
        let run = try await DemoExecutableRun.run("food-demo", arguments: ["--rate", "-1"])
        #expect(run.status != 0)
        #expect(run.output.contains("--rate"), "\(run.output)")
    }
}
