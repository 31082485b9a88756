import DabbaEvents
import DabbaKafka
import DemoKit
import DemoServiceKit
import Foundation
import Logging
import Synchronization
import TatkalDomain

/// Watches `tatkal.requests` and `tatkal.bookings` (and the dead-letter topics) from the outside: where each request
/// is, and, per inventory in log order, the seats and the waitlist as the events tell them — so it can check that no
/// seat was in two live bookings, nobody was waitlisted while enough seats were free, promotions followed the
/// waitlist, holds expired on time and late payments were refunded.
public final class TatkalObserver: Sendable {
    struct Tracked {
        var state: String?
        var requestedMilliseconds: Int64?
        var placedMilliseconds: Int64?
        /// The record timestamp of the request's first decision: held, waitlisted or rejected (by the gate or the
        /// inventory).
        var decidedMilliseconds: Int64?
        var reason: String?
        var refunded = false
        var paid = false
    }

    struct InventoryView {
        var free: Int
        var owners: [String: String] = [:]
        var holds: [String: [String]] = [:]
        var queue: [(request: String, passengers: Int)] = []
        var releasedSinceCheck = false
    }

    struct State {
        var requests: [String: Tracked] = [:]
        var inventories: [String: InventoryView] = [:]
        var refreshes = 0
        var seatConflicts = 0
        var waitlistedWhileFree = 0
        var promotionsOutOfOrder = 0
        var missedPromotions = 0
        /// Every expiry: when it was due and when its event was written (ms).
        var expiries: [(due: Int64, at: Int64)] = []
        /// Periods the inventory was down (a SIGKILL until it had its partitions again): a hold due then expires
        /// once the inventory is back.
        var outages: [(from: Int64, to: Int64)] = []
        var chartMismatches = 0
        var charts: Set<String> = []
        var undecodable = 0
        var admittedMilliseconds: [Int64] = []
    }

    final class Tracker: Sendable {
        let state: Mutex<State>
        init(_ state: State) { self.state = Mutex(state) }
    }

    private let tracker: Tracker
    private let watcher: EventLogWatcher
    /// How late a hold may expire after its due time (the timer poll, a batch in hand, a loaded machine).
    public static let expiryTolerance: Int64 = 3000

    /// Creates an observer (call ``run()`` to start reading).
    public init(bootstrap: String, deadLetterTopics: [String], reference: TatkalReference = .standard, logger: Logger)
        throws
    {
        var initial = State()
        for inventory in reference.inventories { initial.inventories[inventory.key] = InventoryView(free: inventory.travelClass.quota) }
        let tracker = Tracker(initial)
        self.tracker = tracker
        watcher = try EventLogWatcher(
            bootstrap: bootstrap, mainTopics: [tatkalRequestsTopic, tatkalBookingsTopic],
            deadLetterTopics: deadLetterTopics, groupPrefix: "tatkal-observer", logger: logger
        ) { message, type, timestamp in
            tracker.state.withLock { state in Self.track(message, type: type, timestamp: timestamp, in: &state) }
        }
    }

    /// Whether the consumer has its partitions.
    public var isAssigned: Bool { watcher.isAssigned }

    /// Records that the inventory was down from `from` until it had its partitions again at `to` (wall clock):
    /// holds due meanwhile count as on time when they expire within the tolerance of `to`.
    public func noteInventoryOutage(from: Date, to: Date) {
        tracker.state.withLock {
            $0.outages.append((Int64(from.timeIntervalSince1970 * 1000), Int64(to.timeIntervalSince1970 * 1000)))
        }
    }
    /// Reads until ``stop()``.
    public func run() async throws { try await watcher.run() }
    /// Stops reading.
    public func stop() async { await watcher.stop() }

    private static func decode<E: Decodable>(_ type: E.Type, _ message: KafkaMessage) -> E? {
        EventLogWatcher.payload(type, of: message)
    }

    private static func track(_ message: KafkaMessage, type: String, timestamp: Int64, in state: inout State) {
        func set(_ id: String, _ value: String, placed: Bool = false) {
            state.requests[id, default: Tracked()].state = value
            if placed, state.requests[id]?.placedMilliseconds == nil { state.requests[id]?.placedMilliseconds = timestamp }
            if placed || value == "rejected", state.requests[id]?.decidedMilliseconds == nil {
                state.requests[id]?.decidedMilliseconds = timestamp
            }
        }
        func hold(_ id: String, _ inventory: String, _ seats: [String]) {
            var view = state.inventories[inventory] ?? InventoryView(free: 0)
            for seat in seats {
                if let owner = view.owners[seat], owner != id { state.seatConflicts += 1 }
                view.owners[seat] = id
            }
            view.holds[id] = seats
            view.free -= seats.count
            state.inventories[inventory] = view
        }
        func release(_ id: String, _ inventory: String) {
            guard var view = state.inventories[inventory], let seats = view.holds.removeValue(forKey: id) else { return }
            for seat in seats where view.owners[seat] == id { view.owners[seat] = nil }
            view.free += seats.count
            view.releasedSinceCheck = true
            state.inventories[inventory] = view
        }
        // After seats were released, the inventory promotes at once: an event of the inventory other than a
        // promotion while the head of the waitlist fits in the free seats is a missed promotion.
        func checkPromotions(_ inventory: String, promoting: Bool) {
            guard !promoting, var view = state.inventories[inventory], view.releasedSinceCheck else { return }
            if let head = view.queue.first, head.passengers <= view.free { state.missedPromotions += 1 }
            view.releasedSinceCheck = false
            state.inventories[inventory] = view
        }
        switch type {
        case BookingRequested.eventType:
            guard let request = decode(BookingRequested.self, message) else { state.undecodable += 1; return }
            if state.requests[request.requestId]?.requestedMilliseconds != nil {
                state.refreshes += 1
                return
            }
            state.requests[request.requestId, default: Tracked()].requestedMilliseconds = timestamp
            if state.requests[request.requestId]?.state == nil { set(request.requestId, "requested") }
        case BookingRejected.eventType:
            guard let event = decode(BookingRejected.self, message) else { state.undecodable += 1; return }
            set(event.requestId, "rejected")
            state.requests[event.requestId]?.reason = event.reason.rawValue
        case BookingAdmitted.eventType:
            guard let event = decode(BookingAdmitted.self, message) else { state.undecodable += 1; return }
            if state.requests[event.requestId]?.state == "requested" { set(event.requestId, "admitted") }
        case SeatsHeld.eventType:
            guard let event = decode(SeatsHeld.self, message) else { state.undecodable += 1; return }
            checkPromotions(event.inventory, promoting: false)
            if !(state.inventories[event.inventory]?.queue.isEmpty ?? true) { state.promotionsOutOfOrder += 1 }
            hold(event.requestId, event.inventory, event.hold.seats)
            set(event.requestId, "held", placed: true)
        case BookingWaitlisted.eventType:
            guard let event = decode(BookingWaitlisted.self, message) else { state.undecodable += 1; return }
            checkPromotions(event.inventory, promoting: false)
            var view = state.inventories[event.inventory] ?? InventoryView(free: 0)
            if view.queue.isEmpty, view.free >= event.passengers { state.waitlistedWhileFree += 1 }
            view.queue.append((event.requestId, event.passengers))
            state.inventories[event.inventory] = view
            set(event.requestId, "waitlisted", placed: true)
        case WaitlistPromoted.eventType:
            guard let event = decode(WaitlistPromoted.self, message) else { state.undecodable += 1; return }
            var view = state.inventories[event.inventory] ?? InventoryView(free: 0)
            if view.queue.first?.request == event.requestId {
                view.queue.removeFirst()
            } else {
                state.promotionsOutOfOrder += 1
                view.queue.removeAll { $0.request == event.requestId }
            }
            state.inventories[event.inventory] = view
            hold(event.requestId, event.inventory, event.hold.seats)
            set(event.requestId, "held")
        case BookingConfirmed.eventType:
            guard let event = decode(BookingConfirmed.self, message) else { state.undecodable += 1; return }
            checkPromotions(event.inventory, promoting: false)
            // Seats sold that the request no longer held (its hold expired or was released) are a conflict.
            if state.requests[event.requestId]?.state != "held" { state.seatConflicts += 1 }
            set(event.requestId, "confirmed")
        case HoldExpired.eventType:
            guard let event = decode(HoldExpired.self, message) else { state.undecodable += 1; return }
            checkPromotions(event.inventory, promoting: false)
            state.expiries.append((Int64((event.dueAt.timeIntervalSince1970 * 1000).rounded()), timestamp))
            release(event.requestId, event.inventory)
            set(event.requestId, "expired")
        case HoldReleased.eventType:
            guard let event = decode(HoldReleased.self, message) else { state.undecodable += 1; return }
            checkPromotions(event.inventory, promoting: false)
            release(event.requestId, event.inventory)
            set(event.requestId, "payment_failed")
        case TatkalPaymentSucceeded.eventType:
            // The inventory answers every payment with a confirmation (the hold was live) or a refund (it was not).
            guard let event = decode(TatkalPaymentSucceeded.self, message) else { state.undecodable += 1; return }
            state.requests[event.requestId, default: Tracked()].paid = true
        case TatkalRefundRequested.eventType:
            guard let event = decode(TatkalRefundRequested.self, message) else { state.undecodable += 1; return }
            state.requests[event.requestId, default: Tracked()].refunded = true
        case ChartPrepared.eventType:
            guard let event = decode(ChartPrepared.self, message) else { state.undecodable += 1; return }
            var view = state.inventories[event.inventory] ?? InventoryView(free: 0)
            if view.queue.map(\.request) != event.notConfirmed { state.chartMismatches += 1 }
            for id in view.queue.map(\.request) { set(id, "not_confirmed") }
            view.queue.removeAll()
            state.inventories[event.inventory] = view
            state.charts.insert(event.inventory)
        default:
            return
        }
    }

    /// A snapshot for a set of requests.
    public func snapshot(of requestIDs: [String]) -> TatkalRun {
        let counts = watcher.counts
        return tracker.state.withLock { state in
            var run = TatkalRun()
            var placed: [Double] = []
            var firstRequested: Int64?
            var lastDecided: Int64?
            for id in requestIDs {
                let tracked = state.requests[id]
                let current = tracked?.state ?? "not_sent_yet"
                run.byState[current, default: 0] += 1
                if TatkalRun.terminalStates.contains(current) {
                    run.terminal[current, default: 0] += 1
                } else {
                    run.unfinished.append(id)
                }
                if let reason = tracked?.reason {
                    run.rejections[reason, default: 0] += 1
                    run.reasons[id] = reason
                }
                if let requested = tracked?.requestedMilliseconds, let done = tracked?.placedMilliseconds {
                    placed.append(Double(done - requested))
                }
                if let requested = tracked?.requestedMilliseconds {
                    firstRequested = min(firstRequested ?? requested, requested)
                }
                if let decided = tracked?.decidedMilliseconds {
                    run.decided += 1
                    lastDecided = max(lastDecided ?? decided, decided)
                }
                if tracked?.paid == true, current != "confirmed" {
                    run.latePayments += 1
                    if tracked?.refunded != true { run.unrefundedLatePayments += 1 }
                }
                if tracked?.refunded == true { run.refunds += 1 }
                run.states[id] = current
            }
            run.p50Milliseconds = Percentile.of(50, placed)
            run.p99Milliseconds = Percentile.of(99, placed)
            if let first = firstRequested, let last = lastDecided, last > first {
                run.decisionSpanSeconds = Double(last - first) / 1000
            }
            run.seatConflicts = state.seatConflicts
            run.waitlistedWhileFree = state.waitlistedWhileFree
            run.promotionsOutOfOrder = state.promotionsOutOfOrder
            run.missedPromotions = state.missedPromotions
            run.lateExpiries = state.expiries.filter { expiry in
                // Due while the inventory was down: on time if it expired within the tolerance of its return.
                let due = state.outages.first { expiry.due >= $0.from && expiry.due <= $0.to }.map(\.to) ?? expiry.due
                return expiry.at - due > Self.expiryTolerance
            }.count
            run.chartMismatches = state.chartMismatches
            run.charts = state.charts
            run.refreshes = state.refreshes
            run.undecodable = state.undecodable
            run.liveHolds = state.requests.values.filter { $0.state == "held" }.count
            run.freeSeats = state.inventories.mapValues(\.free)
            run.events = counts.events
            run.duplicateDeliveries = counts.duplicateDeliveries
            run.deadLetters = counts.deadLetters
            return run
        }
    }
}

/// What the observer saw.
public struct TatkalRun: Sendable {
    /// The states a request ends in.
    public static let terminalStates: Set<String> = ["rejected", "confirmed", "expired", "payment_failed", "not_confirmed"]
    /// Requests per current state.
    public var byState: [String: Int] = [:]
    /// Requests per terminal state.
    public var terminal: [String: Int] = [:]
    /// Requests not in a terminal state.
    public var unfinished: [String] = []
    /// Each request's state.
    public var states: [String: String] = [:]
    /// Rejections by reason.
    public var rejections: [String: Int] = [:]
    /// Each rejected request's reason.
    public var reasons: [String: String] = [:]
    /// Request → held or waitlisted, by record timestamps.
    public var p50Milliseconds: Double = 0
    /// 99th percentile of the same.
    public var p99Milliseconds: Double = 0
    /// Requests decided: held, waitlisted or rejected (by the gate or the inventory), whatever came after.
    public var decided = 0
    /// Seconds from the first request's record to the last first decision's, by record timestamps.
    public var decisionSpanSeconds: Double = 0
    /// Payments that did not confirm a booking (the hold was no longer live).
    public var latePayments = 0
    /// Of which without a refund (a payment the inventory did not answer).
    public var unrefundedLatePayments = 0
    /// Refunds requested.
    public var refunds = 0
    /// Seats held for a request while another live request had them.
    public var seatConflicts = 0
    /// Requests waitlisted while no one waited and enough seats were free.
    public var waitlistedWhileFree = 0
    /// Holds given to someone other than the head of the waitlist while it was not empty.
    public var promotionsOutOfOrder = 0
    /// Times the head of the waitlist fitted in the free seats after a release and was not promoted.
    public var missedPromotions = 0
    /// Holds that expired later than their due time (or the inventory's return, after a crash) plus the tolerance.
    public var lateExpiries = 0
    /// Charts whose not-confirmed list differs from the waitlist.
    public var chartMismatches = 0
    /// Inventories charted.
    public var charts: Set<String> = []
    /// Requests sent again with a request id seen before.
    public var refreshes = 0
    /// Records that did not decode.
    public var undecodable = 0
    /// Holds neither confirmed nor released.
    public var liveHolds = 0
    /// Free seats per inventory, as the log tells.
    public var freeSeats: [String: Int] = [:]
    /// Distinct events.
    public var events = 0
    /// Records with an event id seen before.
    public var duplicateDeliveries = 0
    /// Dead-lettered records.
    public var deadLetters: [DeadLetter] = []

    /// Requests in a terminal state.
    public func count(_ state: String) -> Int { terminal[state] ?? 0 }

    /// Requests decided per second through the gate and the inventory, over ``decisionSpanSeconds`` (0 before any
    /// span).
    public var decidedPerSecond: Int { decisionSpanSeconds > 0 ? Int(Double(decided) / decisionSpanSeconds) : 0 }
}
