// rides-surge: one surge multiplier per zone and window. A tumbling window per pickup zone (the record key of
// rides.rides) over dispatch's zone activity counts the requests and the unmatched expiries and keeps the last
// supply sample; when the window closes (by stream time: dispatch samples every zone every 5 s, so a zone's stream
// time always moves) it emits the result — demand, supply, unmatched and the multiplier they give, clamped to
// [1, 3] — with an id derived from the zone and the window, so a crash and a replay emit it once in effect.
import ArgumentParser
import DabbaEvents
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import RidesDomain
import RidesRuntime

@main
struct SurgeService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rides-surge", abstract: "Per-zone windows of demand and supply, one multiplier per window.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    @Option(name: .customLong("surge-window"), help: "The surge window's length in seconds.")
    var windowSeconds = 60

    func validate() throws {
        if windowSeconds < 1 { throw ValidationError("--surge-window must be at least 1 second, not \(windowSeconds)") }
    }

    func run() async throws {
        try demo.check(options, system: ridesSystem)
        var pipeline = Pipeline(service: "rides-surge", groupID: "rides-surge")
        pipeline.emits(RideSamples.surge)
        pipeline.ignoreOthers(of: rideEventTypes, handled: [ZoneActivity.self])
        pipeline.window(
            "surge", of: ZoneActivity.self,
            .tumbling(.seconds(windowSeconds), grace: SurgeTally.grace).closingOnStreamTimeOnly,
            aggregate: .reduce(SurgeTally()) { tally, activity in tally.adding(activity) }
        ) { result in
            result.value.surge(zone: result.key, start: result.start, end: result.end)
        }
        try await PipelineService.run(
            pipeline, options: options, migrations: ServiceEffects.migrations, configure: { demo.apply(to: &$0) })
    }
}
