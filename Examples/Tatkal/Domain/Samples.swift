import Foundation

/// Representative events of each type, for `Pipeline.emits` contract declarations and tests.
public enum TatkalSamples {
    static let time = Date(timeIntervalSince1970: 1_796_617_800)  // 2026-12-07T10:00:00+05:30
    static let hold = Hold(seats: ["B1-17", "B1-18"], farePaise: 551_200, expiresAt: time.addingTimeInterval(300))

    /// A request.
    public static let requested = BookingRequested(
        requestId: "REQ000001", userId: "user42", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A",
        passengers: [Passenger(name: "Asha Patil", age: 34), Passenger(name: "Ravi Patil", age: 36)], requestedAt: time)
    /// A rejection at capacity.
    public static let rejected = BookingRejected(
        requestId: "REQ000002", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A", reason: .atCapacity,
        detail: "12951/2026-12-08/3A admitted 480 of 480 passengers (seats and waitlist)", retryAfterSeconds: 300,
        rejectedAt: time)
    /// A rejection without a retry-after.
    public static let rejectedWindow = BookingRejected(
        requestId: "REQ000003", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A",
        reason: .windowClosed, detail: "before 10:00", rejectedAt: time)
    /// An admission.
    public static let admitted = BookingAdmitted(
        requestId: "REQ000001", userId: "user42", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A",
        passengers: 2, farePaise: 551_200, requestedAt: time, admittedAt: time)
    /// Seats held.
    public static let held = SeatsHeld(
        requestId: "REQ000001", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A", hold: hold,
        heldAt: time)
    /// Waitlisted.
    public static let waitlisted = BookingWaitlisted(
        requestId: "REQ000004", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A", passengers: 2,
        position: 7, waitlistedAt: time)
    /// Promoted.
    public static let promoted = WaitlistPromoted(
        requestId: "REQ000004", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A", hold: hold,
        promotedAt: time)
    /// Paid.
    public static let paid = TatkalPaymentSucceeded(
        requestId: "REQ000001", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A",
        amountPaise: 551_200, gateway: "gw-a", paidAt: time)
    /// Declined.
    public static let paymentFailed = TatkalPaymentFailed(
        requestId: "REQ000005", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A", gateway: "gw-b",
        reason: "declined", failedAt: time)
    /// Confirmed.
    public static let confirmed = BookingConfirmed(
        requestId: "REQ000001", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A", pnr: "4521987603",
        seats: ["B1-17", "B1-18"], farePaise: 551_200, heldAt: time, confirmedAt: time)
    /// Expired.
    public static let expired = HoldExpired(
        requestId: "REQ000006", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A",
        seats: ["B1-19"], dueAt: time, expiredAt: time)
    /// A released hold.
    public static let released = HoldReleased(
        requestId: "REQ000005", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A",
        seats: ["B1-20"], reason: "payment_failed", releasedAt: time)
    /// Places given back to the gate.
    public static let placesReleased = PlacesReleased(
        requestId: "REQ000006", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A", passengers: 1,
        releasedAt: time)
    /// A refund.
    public static let refund = TatkalRefundRequested(
        requestId: "REQ000006", trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A",
        amountPaise: 275_600, reason: "late_payment", requestedAt: time)
    /// A chart request.
    public static let chartRequested = ChartRequested(
        trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A", requestedAt: time)
    /// A chart.
    public static let chart = ChartPrepared(
        trainNumber: "12951", journeyDate: "2026-12-08", travelClass: "3A", bookedSeats: 238,
        notConfirmed: ["REQ000004"], preparedAt: time)
}
