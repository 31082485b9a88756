// tatkal-payments: the passengers' payment gateways. For every hold (first, or after a promotion) the passenger's
// behaviour is fixed by the request id: most pay within the hold, some pay too late, some never pay, some are
// declined. The passenger's moment to pay is a durable timer; while their gateway is down (`--gateway-control`), the
// attempt is tried again every minute (scaled) — meanwhile holds expire and the waitlist moves on.
import ArgumentParser
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoKit
import DemoServiceKit
import Foundation
import TatkalDomain
import TatkalRuntime

@main
struct PaymentsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tatkal-payments", abstract: "Fake payment gateways: payers, late payers, abandoners, declines.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    @Option(
        name: .customLong("gateway-control"),
        help: "A JSON file of the gateways' conditions ({\"down\": [\"gw-b\"]}), read on every attempt.")
    var gatewayControl: String?

    @Option(name: .customLong("hold-seconds"), help: "The inventory's hold period (passengers pay within or after it).")
    var holdSeconds = 300

    func run() async throws {
        try demo.check(options, system: tatkalSystem)
        let holdSeconds = self.holdSeconds
        let control = gatewayControl
        var pipeline = Pipeline(service: "tatkal-payments", groupID: "tatkal-payments")
        pipeline.emits(TatkalSamples.paid)
        pipeline.emits(TatkalSamples.paymentFailed)
        pipeline.ignoreOthers(
            of: tatkalBookingEventTypes, handled: [SeatsHeld.self, WaitlistPromoted.self, PaymentAttemptDue.self])
        let start: @Sendable (String, Hold, any InventoryEvent, EventContext) async throws -> Void = {
            requestId, hold, event, context in
            let database = try tatkalDatabase(context)
            let behaviour = PassengerBehaviour.of(requestId: requestId, holdSeconds: holdSeconds)
            _ = try database.execute(
                "INSERT INTO passengers (request_id, behaviour, gateway, attempts) VALUES (?, ?, ?, 0) ON CONFLICT (request_id) DO NOTHING",
                [.text(requestId), .text(behaviour.outcome.rawValue), .text(behaviour.gateway)])
            guard behaviour.outcome != .abandons else { return }
            try context.timers.schedule(
                PaymentAttemptDue(
                    requestId: requestId, trainNumber: event.trainNumber, journeyDate: event.journeyDate,
                    travelClass: event.travelClass, amountPaise: hold.farePaise, gateway: behaviour.gateway, attempt: 1),
                id: "pay:\(requestId)", after: .seconds(behaviour.paysAfterSeconds))
        }
        pipeline.on(SeatsHeld.self) { held, context in try await start(held.requestId, held.hold, held, context) }
        pipeline.on(WaitlistPromoted.self) { promoted, context in
            try await start(promoted.requestId, promoted.hold, promoted, context)
        }
        pipeline.on(PaymentAttemptDue.self) { attempt, context in
            let database = try tatkalDatabase(context)
            _ = try database.execute(
                "UPDATE passengers SET attempts = attempts + 1 WHERE request_id = ?", [.text(attempt.requestId)])
            let conditions = try ControlFile.read(GatewayConditions.self, from: control, or: .healthy)
            if conditions.down.contains(attempt.gateway) {
                var next = attempt
                next.attempt += 1
                try context.timers.schedule(next, id: "pay:\(attempt.requestId)", after: .seconds(60))
                return
            }
            let behaviour = PassengerBehaviour.of(requestId: attempt.requestId, holdSeconds: holdSeconds)
            try ServiceEffects.record("charge:\(attempt.requestId)", context: context, in: database)
            if behaviour.outcome == .declined {
                try await context.emit(
                    TatkalPaymentFailed(
                        requestId: attempt.requestId, trainNumber: attempt.trainNumber,
                        journeyDate: attempt.journeyDate, travelClass: attempt.travelClass, gateway: attempt.gateway,
                        reason: "declined", failedAt: Date()))
            } else {
                try await context.emit(
                    TatkalPaymentSucceeded(
                        requestId: attempt.requestId, trainNumber: attempt.trainNumber,
                        journeyDate: attempt.journeyDate, travelClass: attempt.travelClass,
                        amountPaise: attempt.amountPaise, gateway: attempt.gateway, paidAt: Date()))
            }
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ServiceEffects.migrations + [
                "CREATE TABLE IF NOT EXISTS passengers (request_id TEXT PRIMARY KEY, behaviour TEXT NOT NULL, gateway TEXT NOT NULL, attempts BIGINT NOT NULL)"
            ],
            configure: { configuration in
                demo.apply(to: &configuration)
                // Whether a gateway is up is read when a timer fires: a firing repeated after a crash may decide
                // differently, so what it emitted must commit with its state, or not at all (Docs/pipelines.md,
                // "Transactional outbox").
                configuration.outbox.enabled = true
            }
        )
    }
}
