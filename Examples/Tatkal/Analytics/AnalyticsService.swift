// tatkal-analytics: every request's outcome per inventory, revenue of confirmed bookings, time from hold to
// confirmation, holds expired, promotions and refunds; `tatkal-analytics --report` prints them from its store.
import ArgumentParser
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import TatkalDomain
import TatkalRuntime

@main
struct AnalyticsService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tatkal-analytics", abstract: "Tatkal outcomes, revenue and hold-to-confirmation time (--report).")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    @Flag(help: "Print the report from the store (--inbox sqlite:PATH) and exit, without consuming.")
    var report = false

    func run() async throws {
        try demo.check(options, system: tatkalSystem)
        if report {
            let path = try sqliteStorePath(inbox: options.inbox, group: "tatkal-analytics", instanceID: options.instanceID)
            let store = try SQLiteInbox(path: path)
            try await store.migrate(TatkalReport.migrations)
            for line in try await store.withConnection({ try TatkalReport.lines($0) }) { print(line) }
            return
        }
        var pipeline = Pipeline(service: "tatkal-analytics", groupID: "tatkal-analytics")
        let handled: [any InventoryEvent.Type] = [
            BookingRejected.self, SeatsHeld.self, BookingWaitlisted.self, WaitlistPromoted.self, BookingConfirmed.self,
            HoldExpired.self, TatkalRefundRequested.self, TatkalPaymentFailed.self,
        ]
        pipeline.ignoreOthers(of: tatkalRequestEventTypes + tatkalBookingEventTypes, handled: handled)
        pipeline.on(BookingRejected.self) { event, context in
            try outcome(event.requestId, event.inventory, "rejected", reason: event.reason.rawValue, context)
        }
        pipeline.on(SeatsHeld.self) { event, context in try count(event.inventory, "held", context) }
        pipeline.on(BookingWaitlisted.self) { event, context in
            try outcome(event.requestId, event.inventory, "waitlisted", context)
        }
        pipeline.on(WaitlistPromoted.self) { event, context in try count(event.inventory, "promoted", context) }
        pipeline.on(BookingConfirmed.self) { event, context in
            try outcome(event.requestId, event.inventory, "confirmed", context)
            _ = try tatkalDatabase(context).execute(
                "INSERT INTO analytics_confirmed (request_id, inventory, fare_paise, hold_ms) VALUES (?, ?, ?, ?)",
                [
                    .text(event.requestId), .text(event.inventory), .integer(Int64(event.farePaise)),
                    .integer(Int64((event.confirmedAt.timeIntervalSince(event.heldAt) * 1000).rounded())),
                ])
        }
        pipeline.on(HoldExpired.self) { event, context in try outcome(event.requestId, event.inventory, "expired", context) }
        pipeline.on(TatkalPaymentFailed.self) { event, context in
            try outcome(event.requestId, event.inventory, "payment_failed", context)
        }
        pipeline.on(TatkalRefundRequested.self) { event, context in
            _ = try tatkalDatabase(context).execute(
                "INSERT INTO analytics_refunds (request_id, amount_paise) VALUES (?, ?)",
                [.text(event.requestId), .integer(Int64(event.amountPaise))])
        }
        try await PipelineService.run(
            pipeline, options: options, migrations: TatkalReport.migrations, configure: { demo.apply(to: &$0) })
    }
}

/// Records a request's latest outcome.
private func outcome(
    _ requestId: String, _ inventory: String, _ state: String, reason: String? = nil, _ context: EventContext
) throws {
    _ = try tatkalDatabase(context).execute(
        "INSERT INTO analytics_requests (request_id, inventory, outcome, reason) VALUES (?, ?, ?, ?) ON CONFLICT (request_id) DO UPDATE SET outcome = excluded.outcome",
        [.text(requestId), .text(inventory), .text(state), reason.map { .text($0) } ?? .null])
}

/// Counts an event per inventory.
private func count(_ inventory: String, _ kind: String, _ context: EventContext) throws {
    _ = try tatkalDatabase(context).execute(
        "INSERT INTO analytics_counts (inventory, kind, n) VALUES (?, ?, 1) ON CONFLICT (inventory, kind) DO UPDATE SET n = analytics_counts.n + 1",
        [.text(inventory), .text(kind)])
}
