// tatkal-notifications: one SMS per step a passenger must know of — waitlisted (with the position), seats held or
// promoted from the waitlist (pay within the hold), confirmed (with the PNR and seats), hold expired, refund.
import ArgumentParser
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import TatkalDomain
import TatkalRuntime

@main
struct NotificationsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tatkal-notifications", abstract: "SMS to passengers: holds, waitlist, PNR, expiries, refunds.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    func run() async throws {
        try demo.check(options, system: tatkalSystem)
        var pipeline = Pipeline(service: "tatkal-notifications", groupID: "tatkal-notifications")
        let handled: [any InventoryEvent.Type] = [
            SeatsHeld.self, BookingWaitlisted.self, WaitlistPromoted.self, BookingConfirmed.self, HoldExpired.self,
            TatkalRefundRequested.self,
        ]
        pipeline.ignoreOthers(of: tatkalBookingEventTypes, handled: handled)
        pipeline.on(SeatsHeld.self) { event, context in
            try send(event.requestId, "held", "Seats \(event.hold.seats.joined(separator: ", ")) on \(event.trainNumber) held: pay ₹\(event.hold.farePaise / 100) before \(event.hold.expiresAt)", context)
        }
        pipeline.on(BookingWaitlisted.self) { event, context in
            try send(event.requestId, "waitlisted", "\(event.trainNumber) \(event.travelClass): waitlisted at WL \(event.position)", context)
        }
        pipeline.on(WaitlistPromoted.self) { event, context in
            try send(event.requestId, "promoted", "Your waitlisted request got seats \(event.hold.seats.joined(separator: ", ")): pay ₹\(event.hold.farePaise / 100) before \(event.hold.expiresAt)", context)
        }
        pipeline.on(BookingConfirmed.self) { event, context in
            try send(event.requestId, "confirmed", "PNR \(event.pnr): \(event.trainNumber) \(event.travelClass) \(event.journeyDate), seats \(event.seats.joined(separator: ", "))", context)
        }
        pipeline.on(HoldExpired.self) { event, context in
            try send(event.requestId, "expired", "Your hold on \(event.trainNumber) expired unpaid; the seats were released", context)
        }
        pipeline.on(TatkalRefundRequested.self) { event, context in
            try send(event.requestId, "refund", "Your payment of ₹\(event.amountPaise / 100) came after the hold expired: it will be refunded", context)
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ServiceEffects.migrations + [
                "CREATE TABLE IF NOT EXISTS sms (request_id TEXT NOT NULL, kind TEXT NOT NULL, text TEXT NOT NULL)"
            ],
            configure: { demo.apply(to: &$0) }
        )
    }
}

/// Records one SMS (a row of the store, and an effect: the same SMS twice is a duplicate effect).
private func send(_ requestId: String, _ kind: String, _ text: String, _ context: EventContext) throws {
    let database = try tatkalDatabase(context)
    _ = try database.execute(
        "INSERT INTO sms (request_id, kind, text) VALUES (?, ?, ?)", [.text(requestId), .text(kind), .text(text)])
    try ServiceEffects.record("sms:\(requestId):\(kind)", context: context, in: database)
}
