import DemoTestKit
import Testing

/// `rides-demo --rate 0` as a user runs it: the executable, its summary and its `dabba-demo` line.
@Suite("rides-demo flat out: the whole system as fast as the broker acknowledges", .serialized, .timeLimit(.minutes(6)))
struct RidesDemoFlatOutTests {
    @Test("--rate 0 --requests 240: every ride ends once, no driver twice, surge as the log says, and rides_per_s")
    func flatOut() async throws {
        // 400 drivers and 5 s surge windows keep the run short; the checks are the same.
        let run = try await DemoExecutableRun.run(
            "rides-demo", arguments: ["--rate", "0", "--requests", "240", "--drivers", "400", "--surge-window", "5"])
        #expect(run.status == 0, "rides-demo failed:\n\(run.output.suffix(4000))")
        for key in ["stuck", "double_assignments", "surge_mismatch", "duplicate_effects"] {
            #expect(run.integer(key) == 0, "\(key) on: \(run.fields)")
        }
        // Every request of the load was sent and ended: completed (after its match), expired, rejected or
        // cancelled; the one in fifty malformed ones are rejected.
        #expect(run.integer("requests") == 240)
        let matched = try #require(run.integer("matched"))
        let completed = try #require(run.integer("completed"))
        let expired = try #require(run.integer("expired"))
        let (rejected, cancelled) = try #require(Self.rejectedAndCancelled(in: run.output))
        #expect(completed == matched && completed > 0)
        #expect(completed + expired + rejected + cancelled == 240)
        #expect(rejected > 0, "the load's malformed requests are refused")
        // The figures are there (their size depends on the machine: never asserted).
        #expect((run.integer("rides_per_s") ?? 0) > 0, "rides_per_s on: \(run.fields)")
        #expect(run.integer("p99_match_ms") != nil)
        #expect(run.output.contains("rides end to end"))
        #expect(run.output.contains("requests across the zones flat out"), "the run took the flat-out phases")
    }

    /// The summary's `  rejected  N   cancelled M` line (they are not on the `dabba-demo` line).
    static func rejectedAndCancelled(in output: String) -> (Int, Int)? {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("  rejected ") }) else { return nil }
        let numbers = line.split(separator: " ").compactMap { Int($0) }
        guard numbers.count == 2 else { return nil }
        return (numbers[0], numbers[1])
    }

    @Test("a negative --rate is refused, naming the option")
    func negativeRate() async throws {
        let run = try await DemoExecutableRun.run("rides-demo", arguments: ["--rate=-1"])
        #expect(run.status != 0)
        #expect(run.output.contains("--rate must not be negative"), "\(run.output)")
    }
}
