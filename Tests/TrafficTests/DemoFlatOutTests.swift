import DemoTestKit
import Testing
import TrafficDomain

@Suite("traffic-demo flat out (--rate 0)", .serialized, .timeLimit(.minutes(6)))
struct TrafficDemoFlatOutTests {
    @Test("reports sent as fast as the broker acknowledges them all apply, every change alerted once, reports per second printed")
    func flatOut() async throws {
        let run = try await DemoExecutableRun.run(
            "traffic-demo", arguments: ["--rate", "0", "--reports-per-zone", "60", "--seed", "21"])
        #expect(run.status == 0, "traffic-demo failed:\n\(run.output)")
        for invariant in ["status_mismatch", "missing_alerts", "duplicate_alerts", "duplicate_effects"] {
            #expect(run.integer(invariant) == 0, "\(invariant): \(run.fields)")
        }
        // The demo's load (run id "T"): every distinct report reached the log once.
        let sent = Set(TrafficLoad(seed: 21, runID: "T").reports(perZone: 60).map(\.reportId)).count
        #expect(run.integer("reports") == sent, "\(run.fields), \(sent) sent")
        #expect((run.integer("changes") ?? 0) > 0 && (run.integer("alerts") ?? 0) > 0, "\(run.fields)")
        #expect((run.integer("reports_per_s") ?? 0) > 0, "\(run.fields)")
        #expect(run.integer("p99_ms") != nil, "\(run.fields)")
    }

    @Test("a negative rate is refused, naming the option")
    func negativeRate() async throws {
        let run = try await DemoExecutableRun.run("traffic-demo", arguments: ["--rate", "-1"])
        #expect(run.status != 0)
        #expect(run.output.contains("--rate"), "\(run.output)")
    }
}
