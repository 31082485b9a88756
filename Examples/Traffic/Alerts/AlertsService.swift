// traffic-alerts: tells each subscriber of a zone about each change of its status, once: one alert per subscriber
// and change, keyed by the subscriber, with an id derived from the change's event and the subscriber's place in the
// zone's fixed list (a replayed change alerts no one twice).
import ArgumentParser
import DabbaEvents
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import TrafficDomain
import TrafficRuntime

@main
struct AlertsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traffic-alerts", abstract: "One alert per subscriber and status change.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: trafficSystem)
        var pipeline = Pipeline(service: "traffic-alerts", groupID: "traffic-alerts")
        pipeline.emits(
            AlertSent(
                subscriberId: "sub-WEH-Andheri-1", zone: "WEH-Andheri", previous: .light, current: .heavy,
                causeReportId: "R000042", sentAt: Date(timeIntervalSince1970: 1_796_644_800)))
        pipeline.ignoreOthers(of: trafficReportEventTypes, handled: [ZoneStatusChanged.self])
        pipeline.on(ZoneStatusChanged.self) { change, context in
            let database = try trafficDatabase(context)
            for subscriber in TrafficRules.subscribers(of: change.zone) {
                try ServiceEffects.record("alert:\(subscriber):\(change.zone):\(change.causeReportId)", context: context, in: database)
                try await context.emit(
                    AlertSent(
                        subscriberId: subscriber, zone: change.zone, previous: change.previous, current: change.current,
                        causeReportId: change.causeReportId, sentAt: Date()))
            }
        }
        try await PipelineService.run(
            pipeline, options: options, migrations: ServiceEffects.migrations, configure: { demo.apply(to: &$0) })
    }
}
