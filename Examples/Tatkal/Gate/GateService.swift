// tatkal-gate: the front door at 10:00. Refuses requests outside the Tatkal window, for unknown trains or classes
// not on the train, or with invalid passengers; admits at most an inventory's quota plus an equal waitlist in
// passengers holding or waiting (anything beyond could neither get a seat nor wait for one; places come back when
// holds expire or payments are declined) and refuses the rest `at_capacity` with a retry-after of one hold period. A request id seen before (a user refreshing) is recorded and ignored. The burst
// queues on `tatkal.requests` and shows as lag, never as errors.
import ArgumentParser
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import TatkalDomain
import TatkalRuntime

@main
struct GateService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tatkal-gate", abstract: "Admits Tatkal booking requests: the window, validation, admission.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    @Option(
        name: .customLong("opens-at"),
        help: "When the Tatkal window opens, as seconds since 1970 or ISO 8601 (default: when the service starts).")
    var opensAt: String?

    @Option(name: .customLong("window-minutes"), help: "How long the window stays open.")
    var windowMinutes = 60

    func validate() throws {
        if let opensAt, Self.date(opensAt) == nil {
            throw ValidationError("--opens-at must be seconds since 1970 or an ISO 8601 time, not '\(opensAt)'")
        }
        if windowMinutes <= 0 { throw ValidationError("--window-minutes must be positive, not \(windowMinutes)") }
    }

    static func date(_ text: String) -> Date? {
        if let seconds = Double(text) { return Date(timeIntervalSince1970: seconds) }
        return ISO8601DateFormatter().date(from: text)
    }

    func run() async throws {
        try demo.check(options, system: tatkalSystem)
        let opens = opensAt.flatMap(Self.date) ?? Date()
        let rules = GateRules(
            window: BookingWindow(opensAt: opens, closesAt: opens.addingTimeInterval(Double(windowMinutes) * 60)))
        var pipeline = Pipeline(service: "tatkal-gate", groupID: "tatkal-gate")
        pipeline.emits(TatkalSamples.admitted)
        pipeline.emits(TatkalSamples.rejected, TatkalSamples.rejectedWindow)
        pipeline.ignoreOthers(
            of: tatkalRequestEventTypes, handled: [BookingRequested.self, PlacesReleased.self])
        // Places given back (an unpaid hold expired, a payment declined) can be admitted again: admission counts
        // the passengers holding, booked or waiting, not everyone ever admitted. The releases come on this topic,
        // in one order with the requests, so a batch handled again decides the same way.
        pipeline.on(PlacesReleased.self) { released, context in
            _ = try tatkalDatabase(context).execute(
                "UPDATE gate_admitted SET passengers = passengers - ? WHERE inventory = ?",
                [.integer(Int64(released.passengers)), .text(released.inventory)])
        }
        pipeline.on(BookingRequested.self) { request, context in
            let database = try tatkalDatabase(context)
            if try !database.query("SELECT 1 FROM gate_requests WHERE request_id = ?", [.text(request.requestId)]).isEmpty {
                _ = try database.execute(
                    "INSERT INTO gate_refreshes (request_id, event_id) VALUES (?, ?)",
                    [.text(request.requestId), .text(context.envelope.id)])
                return
            }
            let admitted = try database.query(
                "SELECT passengers FROM gate_admitted WHERE inventory = ?", [.text(request.inventory)]
            ).first?[0].integerValue ?? 0
            let now = Date()
            switch rules.decide(request, admittedPassengers: Int(admitted)) {
            case .admit(let fare, let passengers):
                _ = try database.execute(
                    "INSERT INTO gate_admitted (inventory, passengers) VALUES (?, ?) ON CONFLICT (inventory) DO UPDATE SET passengers = gate_admitted.passengers + excluded.passengers",
                    [.text(request.inventory), .integer(Int64(passengers))])
                try record(request.requestId, "admitted", in: database)
                try await context.emit(
                    BookingAdmitted(
                        requestId: request.requestId, userId: request.userId, trainNumber: request.trainNumber,
                        journeyDate: request.journeyDate, travelClass: request.travelClass, passengers: passengers,
                        farePaise: fare, requestedAt: request.requestedAt, admittedAt: now))
            case .reject(let reason, let detail, let retryAfter):
                try record(request.requestId, reason.rawValue, in: database)
                try await context.emit(
                    BookingRejected(
                        requestId: request.requestId, trainNumber: request.trainNumber, journeyDate: request.journeyDate,
                        travelClass: request.travelClass, reason: reason, detail: detail, retryAfterSeconds: retryAfter,
                        rejectedAt: now))
            }
        }
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ServiceEffects.migrations + [
                "CREATE TABLE IF NOT EXISTS gate_requests (request_id TEXT PRIMARY KEY, decision TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS gate_refreshes (request_id TEXT NOT NULL, event_id TEXT NOT NULL)",
                "CREATE TABLE IF NOT EXISTS gate_admitted (inventory TEXT PRIMARY KEY, passengers BIGINT NOT NULL)",
            ],
            configure: { demo.apply(to: &$0) }
        )
    }
}

private func record(_ requestId: String, _ decision: String, in database: any InboxTransaction) throws {
    _ = try database.execute(
        "INSERT INTO gate_requests (request_id, decision) VALUES (?, ?)", [.text(requestId), .text(decision)])
}
