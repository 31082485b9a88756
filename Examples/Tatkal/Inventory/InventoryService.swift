// tatkal-inventory: the seats of every train, date and class. An admitted request gets seats held for 300 s (a
// durable timer) when enough are free and nobody waits ahead of it, or joins the waitlist (FIFO). Payment within
// the hold books the seats under a PNR; a declined payment or an expired hold frees them, and the head of the
// waitlist is promoted while it fits. A payment arriving after its hold expired is refunded. The chart closes an
// inventory: whoever still waits is not confirmed. Everything of one inventory is on one partition, so allocation
// is serial by construction; the seats, the bookings and the timers are in one store, written in the event's
// transaction.
import ArgumentParser
import DabbaInbox
import DabbaPipeline
import DabbaService
import DemoServiceKit
import Foundation
import TatkalDomain
import TatkalRuntime

@main
struct InventoryService: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tatkal-inventory", abstract: "Seats, holds with durable timers, the waitlist and its promotions.")

    @OptionGroup var options: PipelineOptions
    @OptionGroup var demo: DemoServiceOptions

    @Option(name: .customLong("hold-seconds"), help: "How long seats are held while the passenger pays.")
    var holdSeconds = 300

    func validate() throws {
        if holdSeconds <= 0 { throw ValidationError("--hold-seconds must be positive, not \(holdSeconds)") }
    }

    func run() async throws {
        try demo.check(options, system: tatkalSystem)
        let seats = Allocation(holdSeconds: holdSeconds)
        var pipeline = Pipeline(service: "tatkal-inventory", groupID: "tatkal-inventory")
        pipeline.emits(TatkalSamples.held)
        pipeline.emits(TatkalSamples.waitlisted)
        pipeline.emits(TatkalSamples.promoted)
        pipeline.emits(TatkalSamples.confirmed)
        pipeline.emits(TatkalSamples.expired)
        pipeline.emits(TatkalSamples.released)
        pipeline.emits(TatkalSamples.placesReleased)
        pipeline.emits(TatkalSamples.refund)
        pipeline.emits(TatkalSamples.chart)
        let handled: [any InventoryEvent.Type] = [
            BookingAdmitted.self, TatkalPaymentSucceeded.self, TatkalPaymentFailed.self, ChartRequested.self,
            HoldExpiryDue.self,
        ]
        pipeline.ignoreOthers(of: tatkalBookingEventTypes, handled: handled)
        pipeline.on(BookingAdmitted.self, seats.admit)
        pipeline.on(TatkalPaymentSucceeded.self, seats.paid)
        pipeline.on(TatkalPaymentFailed.self, seats.declined)
        pipeline.on(HoldExpiryDue.self, seats.expire)
        pipeline.on(ChartRequested.self, seats.chart)
        try await PipelineService.run(
            pipeline, options: options,
            migrations: ServiceEffects.migrations + InventoryBook.migrations(reference: .standard),
            configure: { configuration in
                demo.apply(to: &configuration)
                // Hold expiries are timers that fire between batches: after a crash, a payment handled again may
                // find its hold expired where the first run confirmed it, so what a batch emitted must commit with
                // the seats, or not at all (Docs/pipelines.md, "Transactional outbox").
                configuration.outbox.enabled = true
            }
        )
    }
}

/// The inventory's handlers.
struct Allocation: Sendable {
    let holdSeconds: Int

    /// Holds seats for an admitted request, or waitlists it.
    @Sendable func admit(_ request: BookingAdmitted, _ context: EventContext) async throws {
        let database = try tatkalDatabase(context)
        guard try InventoryBook.booking(request.requestId, in: database) == nil else { return }
        guard
            let row = try database.query(
                "SELECT next_queue, charted FROM inventories WHERE inventory = ?", [.text(request.inventory)]
            ).first, let queue = row[0].integerValue
        else {
            throw PermanentError(HandlerFailure("no inventory \(request.inventory): the gate admitted an unknown one"))
        }
        _ = try database.execute(
            "INSERT INTO bookings (request_id, inventory, passengers, fare_paise, state, seats, queue) VALUES (?, ?, ?, ?, 'admitted', '', ?)",
            [
                .text(request.requestId), .text(request.inventory), .integer(Int64(request.passengers)),
                .integer(Int64(request.farePaise)), .integer(queue),
            ])
        _ = try database.execute(
            "UPDATE inventories SET next_queue = next_queue + 1 WHERE inventory = ?", [.text(request.inventory)])
        let waiting = try InventoryBook.waitlist(request.inventory, in: database)
        let free = try InventoryBook.freeSeats(request.inventory, limit: request.passengers, in: database)
        if waiting.isEmpty, free.count == request.passengers {
            let hold = try place(request.requestId, seats: free, fare: request.farePaise, of: request, context, database)
            try await context.emit(
                SeatsHeld(
                    requestId: request.requestId, trainNumber: request.trainNumber, journeyDate: request.journeyDate,
                    travelClass: request.travelClass, hold: hold, heldAt: Date()))
        } else {
            try InventoryBook.update(request.requestId, state: "waitlisted", in: database)
            try await context.emit(
                BookingWaitlisted(
                    requestId: request.requestId, trainNumber: request.trainNumber, journeyDate: request.journeyDate,
                    travelClass: request.travelClass, passengers: request.passengers, position: waiting.count + 1,
                    waitlistedAt: Date()))
        }
    }

    /// Books the seats of a paid hold, or refunds a payment for a hold no longer live.
    @Sendable func paid(_ payment: TatkalPaymentSucceeded, _ context: EventContext) async throws {
        let database = try tatkalDatabase(context)
        guard let booking = try InventoryBook.booking(payment.requestId, in: database) else {
            throw PermanentError(HandlerFailure("payment for \(payment.requestId), which was never admitted"))
        }
        switch booking.state {
        case "held":
            _ = try context.timers.cancel(id: "hold:\(payment.requestId)")
            try InventoryBook.setSeats(
                booking.seats, of: payment.inventory, to: "booked", request: payment.requestId, in: database)
            try InventoryBook.update(payment.requestId, state: "confirmed", in: database)
            try ServiceEffects.record("book:\(payment.requestId)", context: context, in: database)
            try await context.emit(
                BookingConfirmed(
                    requestId: payment.requestId, trainNumber: payment.trainNumber, journeyDate: payment.journeyDate,
                    travelClass: payment.travelClass, pnr: pnr(for: payment.requestId), seats: booking.seats,
                    farePaise: booking.farePaise,
                    heldAt: Date(timeIntervalSince1970: Double(booking.heldMilliseconds ?? 0) / 1000), confirmedAt: Date()))
        case "confirmed":
            return
        default:
            // Paid after the hold expired (or was released): the money goes back.
            try ServiceEffects.record("refund:\(payment.requestId)", context: context, in: database)
            try await context.emit(
                TatkalRefundRequested(
                    requestId: payment.requestId, trainNumber: payment.trainNumber, journeyDate: payment.journeyDate,
                    travelClass: payment.travelClass, amountPaise: payment.amountPaise, reason: "late_payment",
                    requestedAt: Date()))
        }
    }

    /// Frees the seats of a declined payment's hold and promotes the waitlist.
    @Sendable func declined(_ failure: TatkalPaymentFailed, _ context: EventContext) async throws {
        let database = try tatkalDatabase(context)
        guard let booking = try InventoryBook.booking(failure.requestId, in: database), booking.state == "held" else {
            return
        }
        _ = try context.timers.cancel(id: "hold:\(failure.requestId)")
        try InventoryBook.setSeats(booking.seats, of: failure.inventory, to: "free", request: nil, in: database)
        try InventoryBook.update(failure.requestId, state: "payment_failed", in: database)
        try await giveBack(booking, of: failure, requestId: failure.requestId, context)
        try await context.emit(
            HoldReleased(
                requestId: failure.requestId, trainNumber: failure.trainNumber, journeyDate: failure.journeyDate,
                travelClass: failure.travelClass, seats: booking.seats, reason: "payment_failed", releasedAt: Date()))
        try await promote(failure, context, database)
    }

    /// The hold's timer: frees the seats of an unpaid hold and promotes the waitlist.
    @Sendable func expire(_ due: HoldExpiryDue, _ context: EventContext) async throws {
        let database = try tatkalDatabase(context)
        guard let booking = try InventoryBook.booking(due.requestId, in: database), booking.state == "held" else {
            return
        }
        try InventoryBook.setSeats(booking.seats, of: due.inventory, to: "free", request: nil, in: database)
        try InventoryBook.update(due.requestId, state: "expired", in: database)
        try await giveBack(booking, of: due, requestId: due.requestId, context)
        try await context.emit(
            HoldExpired(
                requestId: due.requestId, trainNumber: due.trainNumber, journeyDate: due.journeyDate,
                travelClass: due.travelClass, seats: booking.seats,
                dueAt: Date(timeIntervalSince1970: Double(booking.expiresMilliseconds ?? 0) / 1000), expiredAt: Date()))
        try await promote(due, context, database)
    }

    /// Closes an inventory: the remaining waitlist is not confirmed.
    @Sendable func chart(_ request: ChartRequested, _ context: EventContext) async throws {
        let database = try tatkalDatabase(context)
        let waiting = try InventoryBook.waitlist(request.inventory, in: database)
        for entry in waiting { try InventoryBook.update(entry.requestId, state: "not_confirmed", in: database) }
        _ = try database.execute("UPDATE inventories SET charted = 1 WHERE inventory = ?", [.text(request.inventory)])
        let booked = try database.query(
            "SELECT COUNT(*) FROM seats WHERE inventory = ? AND state = 'booked'", [.text(request.inventory)]
        ).first?[0].integerValue ?? 0
        try await context.emit(
            ChartPrepared(
                trainNumber: request.trainNumber, journeyDate: request.journeyDate, travelClass: request.travelClass,
                bookedSeats: Int(booked), notConfirmed: waiting.map(\.requestId), preparedAt: Date()))
    }

    /// Tells the gate the places of a request are free again (on `tatkal.requests`).
    private func giveBack(
        _ booking: InventoryBook.Booking, of event: some InventoryEvent, requestId: String, _ context: EventContext
    ) async throws {
        try await context.emit(
            PlacesReleased(
                requestId: requestId, trainNumber: event.trainNumber, journeyDate: event.journeyDate,
                travelClass: event.travelClass, passengers: booking.passengers, releasedAt: Date()))
    }

    /// Holds seats for a request and schedules the hold's expiry.
    private func place(
        _ requestId: String, seats: [String], fare: Int, of event: some InventoryEvent, _ context: EventContext,
        _ database: any InboxTransaction
    ) throws -> Hold {
        try InventoryBook.setSeats(seats, of: event.inventory, to: "held", request: requestId, in: database)
        let timer = "hold:\(requestId)"
        try context.timers.schedule(
            HoldExpiryDue(
                requestId: requestId, trainNumber: event.trainNumber, journeyDate: event.journeyDate,
                travelClass: event.travelClass),
            id: timer, after: .seconds(holdSeconds))
        let expires = try context.timers.dueDate(of: timer) ?? Date().addingTimeInterval(Double(holdSeconds))
        try InventoryBook.update(
            requestId, state: "held", seats: seats, heldMilliseconds: Int64(Date().timeIntervalSince1970 * 1000),
            expiresMilliseconds: Int64((expires.timeIntervalSince1970 * 1000).rounded()), in: database)
        try ServiceEffects.record("hold:\(requestId):\(seats.joined(separator: ","))", context: context, in: database)
        return Hold(seats: seats, farePaise: fare, expiresAt: expires)
    }

    /// Promotes the head of the waitlist while it fits in the free seats (strict FIFO: a large party at the head
    /// waits for enough seats; nobody behind it jumps the line).
    private func promote(_ event: some InventoryEvent, _ context: EventContext, _ database: any InboxTransaction)
        async throws
    {
        for entry in try InventoryBook.waitlist(event.inventory, in: database) {
            let free = try InventoryBook.freeSeats(event.inventory, limit: entry.passengers, in: database)
            guard free.count == entry.passengers else { return }
            let hold = try place(entry.requestId, seats: free, fare: entry.farePaise, of: event, context, database)
            try await context.emit(
                WaitlistPromoted(
                    requestId: entry.requestId, trainNumber: event.trainNumber, journeyDate: event.journeyDate,
                    travelClass: event.travelClass, hold: hold, promotedAt: Date()))
        }
    }
}
