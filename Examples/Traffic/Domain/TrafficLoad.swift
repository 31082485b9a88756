import DemoKit
import Foundation

/// A deterministic morning of reports for every zone: each zone's congestion rises and falls on its own curve over
/// three simulated hours, citizens (70%) and cameras (30%) report it with some noise, one zone goes quiet for over
/// an hour, a few reports arrive two hours stale, and about one in fifty is sent twice.
public struct TrafficLoad: Sendable {
    /// The seed.
    public var seed: UInt64
    /// The report ids' prefix.
    public var runID: String
    /// The simulated morning's start.
    public var start: Date

    /// Creates a load.
    public init(seed: UInt64, runID: String, start: Date = Date(timeIntervalSince1970: 1_796_614_200)) {
        self.seed = seed
        self.runID = runID
        self.start = start
    }

    /// `perZone` reports per zone, interleaved across zones in time order.
    public func reports(perZone: Int) -> [TrafficReported] {
        var random = SeededGenerator(seed: seed)
        let span = 3.0 * 3600
        var result: [TrafficReported] = []
        for step in 0..<max(1, perZone) {
            for (zoneIndex, zone) in TrafficRules.zones.enumerated() {
                var offset = span * Double(step) / Double(max(1, perZone))
                // The first zone goes quiet between 1:00 and 2:10 of the morning: its reports then are held back.
                if zoneIndex == 0, offset > 3600, offset < 3600 + 4200 { continue }
                offset += Double.random(in: 0..<30, using: &random)
                let phase = Double(zoneIndex) / Double(TrafficRules.zones.count)
                let congestion = 0.5 + 0.48 * sin(2 * .pi * (offset / span + phase))
                let camera = Int.random(in: 0..<10, using: &random) < 3
                let noise = camera ? 0.05 : 0.15
                let heavy = Double.random(in: 0..<1, using: &random) < min(1, max(0, congestion + Double.random(in: -noise...noise, using: &random)))
                var at = start.addingTimeInterval(offset)
                if Int.random(in: 0..<100, using: &random) == 0 { at = at.addingTimeInterval(-2 * 3600) }
                let report = TrafficReported(
                    reportId: "\(runID)\(String(format: "%06d", result.count + 1))", zone: zone,
                    source: camera ? .camera : .citizen, heavy: heavy, reportedAt: at)
                result.append(report)
                if Int.random(in: 0..<50, using: &random) == 0 { result.append(report) }
            }
        }
        return result
    }
}
