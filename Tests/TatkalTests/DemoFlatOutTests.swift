import DemoTestKit
import Testing

@Suite("tatkal-demo flat out (--rate 0)", .serialized, .timeLimit(.minutes(6)))
struct TatkalDemoFlatOutTests {
    @Test("a burst sent as fast as the broker acknowledges it is decided once, no seat sold twice, requests per second printed")
    func flatOut() async throws {
        // A short outage keeps the run brief; the holds, the retries after the retry-after and the chart still run.
        let run = try await DemoExecutableRun.run(
            "tatkal-demo", arguments: ["--rate", "0", "--requests", "600", "--outage-seconds", "2", "--seed", "12"])
        #expect(run.status == 0, "tatkal-demo failed:\n\(run.output)")
        for invariant in ["oversold", "seat_conflicts", "late_expiries", "stuck", "duplicate_effects"] {
            #expect(run.integer(invariant) == 0, "\(invariant): \(run.fields)")
        }
        // The burst's 600 requests plus the early ones (refused) and the retries; each decided.
        let requests = try #require(run.integer("requests"), "\(run.fields)")
        #expect(requests > 600, "\(run.fields)")
        let finished = ["confirmed", "waitlisted", "rejected", "expired"].compactMap { run.integer($0) }.reduce(0, +)
        #expect(finished > 0 && finished <= requests, "\(run.fields)")
        #expect(run.output.contains("(600 burst requests held, waitlisted or rejected"), "\(run.output)")
        #expect((run.integer("bookings_per_s") ?? 0) > 0, "\(run.fields)")
        #expect(run.integer("p99_ms") != nil, "\(run.fields)")
    }

    @Test("a negative rate is refused, naming the option")
    func negativeRate() async throws {
        let run = try await DemoExecutableRun.run("tatkal-demo", arguments: ["--rate", "-1"])
        #expect(run.status != 0)
        #expect(run.output.contains("--rate"), "\(run.output)")
    }
}
