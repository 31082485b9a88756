import DemoTestKit
import Testing

/// `upi-demo --rate 0` as a user runs it: the executable, its summary and its `dabba-demo` line.
@Suite("upi-demo flat out: the whole system as fast as the broker acknowledges", .serialized, .timeLimit(.minutes(6)))
struct PaymentsDemoFlatOutTests {
    @Test("--rate 0 --payments 300: every payment ends once, the money adds up, and the line has payments_per_s")
    func flatOut() async throws {
        let run = try await DemoExecutableRun.run("upi-demo", arguments: ["--rate", "0", "--payments", "300"])
        #expect(run.status == 0, "upi-demo failed:\n\(run.output.suffix(4000))")
        for key in ["stuck", "money_delta", "negative_balances", "open_holds", "bank_mismatch", "duplicate_effects"] {
            #expect(run.integer(key) == 0, "\(key) on: \(run.fields)")
        }
        // Every payment of the load was sent and ended in exactly one terminal bucket.
        #expect(run.integer("payments") == 300)
        let settled = try #require(run.integer("settled"))
        let rejected = try #require(run.integer("rejected"))
        let failed = try #require(run.integer("failed"))
        #expect(settled + rejected + failed == 300)
        #expect(settled > 0)
        // The figures are there (their size depends on the machine: never asserted).
        #expect((run.integer("payments_per_s") ?? 0) > 0, "payments_per_s on: \(run.fields)")
        #expect(run.integer("p99_realtime_ms") != nil && run.integer("p99_end_to_end_ms") != nil)
        #expect(run.output.contains("payments end to end"))
        #expect(run.output.contains("Flat out: "), "the run took the flat-out phase")
    }

    @Test("a negative --rate is refused, naming the option")
    func negativeRate() async throws {
        let run = try await DemoExecutableRun.run("upi-demo", arguments: ["--rate=-1"])
        #expect(run.status != 0)
        #expect(run.output.contains("--rate must not be negative"), "\(run.output)")
    }

    @Test("--payments at a positive rate is refused: the phases' seconds size the load there")
    func paymentsNeedRateZero() async throws {
        let run = try await DemoExecutableRun.run("upi-demo", arguments: ["--rate", "5", "--payments", "10"])
        #expect(run.status != 0)
        #expect(run.output.contains("--payments"), "\(run.output)")
    }
}
