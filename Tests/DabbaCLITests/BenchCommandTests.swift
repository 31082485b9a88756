import Foundation
import Testing

@Suite("dabba bench", .timeLimit(.minutes(5)))
struct BenchCommandTests {
    @Test("a small run measures every phase and ends with the machine-readable line")
    func smallRun() async throws {
        let result = try await Dabba.run(
            ["bench", "--messages", "3000", "--keys", "50", "--partitions", "2"], timeLimit: .seconds(240)
        )
        #expect(result.exitCode == 0, "stderr: \(result.stderr)")
        let last = try #require(result.lines.last)
        #expect(last.hasPrefix("dabba-bench "))
        var fields: [String: String] = [:]
        for pair in last.split(separator: " ").dropFirst() {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        for key in [
            "produce_ratio", "consume_ratio", "typed_produce_ratio", "typed_consume_ratio", "pipeline_ratio",
            "typed_consume_vs_same_records", "typed_headers_c_ratio", "typed_produce_c_ratio",
            "typed_consume_ceiling_ratio", "pipeline_ceiling_ratio", "structured_consume_ratio",
            "structured_produce_ratio", "structured_produce_c_ratio", "consume_rss_ratio",
        ] {
            let value = try #require(fields[key], "\(key) missing from: \(last)")
            #expect(Double(value).map { $0 > 0 } == true, "\(key)=\(value)")
        }
        #expect(Int(fields["inbox_events_per_s"] ?? "") ?? 0 > 0, "\(last)")
        #expect(fields["eos_events_per_s"] != nil, "\(last)")
        #expect(Int(fields["table_updates_per_s"] ?? "") ?? 0 > 0, "\(last)")
        #expect(Int(fields["window_events_per_s"] ?? "") ?? 0 > 0, "\(last)")
        let phases = [
            "typed-bytes-consume", "typed-headers-consume", "typed-consume", "pipeline-inbox", "pipeline-table",
            "pipeline-window", "structured-produce", "structured-consume",
        ]
        for phase in phases {
            #expect(result.stdout.contains(phase), "the table has no \(phase) row")
        }
    }
}
