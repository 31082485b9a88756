import DabbaCatalog
import DabbaEvents
import DabbaKafka
import DemoKit
import FoodDeliveryDomain
import Foundation
import Logging

/// What the load generator produced: which orders exist and which records are deliberately malformed.
public struct LoadPlan: Sendable, Codable {
    /// Ids of the well-formed orders, in production order.
    public var orderIDs: [String] = []
    /// Event ids of the malformed `food.order.placed` records (they must end in a dead-letter topic).
    public var invalidEventIDs: [String] = []
    /// Orders the customer cancels (the cancellation may come too late, after pickup).
    public var cancelledOrderIDs: [String] = []
    /// Partner location updates sent.
    public var partnerUpdates = 0

    /// An empty plan.
    public init() {}
}

/// Settings of a load run.
public struct LoadSettings: Sendable {
    /// Well-formed orders to place.
    public var orders: Int
    /// The seed: the same seed makes the same orders.
    public var seed: UInt64
    /// Orders per second (0: as fast as the broker acknowledges).
    public var rate: Double
    /// A prefix for order ids, so several runs against one cluster do not collide.
    public var runID: String
    /// Make bad orders too (unknown restaurants and items, a closed restaurant, scarce dishes, declined cards,
    /// malformed payloads) and cancel some orders.
    public var includeBadOrders: Bool

    /// Creates settings.
    public init(orders: Int, seed: UInt64 = 42, rate: Double = 0, runID: String = "run", includeBadOrders: Bool = true)
    {
        self.orders = orders
        self.seed = seed
        self.rate = rate
        self.runID = runID
        self.includeBadOrders = includeBadOrders
    }
}

/// Creates realistic orders across cities, restaurants and customers.
public struct LoadGenerator: Sendable {
    /// The reference data.
    public let catalog: ReferenceCatalog
    /// The settings.
    public let settings: LoadSettings

    /// Creates a generator.
    public init(settings: LoadSettings, catalog: ReferenceCatalog = .standard) {
        self.settings = settings
        self.catalog = catalog
    }

    /// One record to produce.
    public enum Record: Sendable {
        /// A well-formed order.
        case order(OrderPlaced)
        /// A cancellation.
        case cancel(OrderCancelled)
        /// A partner's new position.
        case partner(PartnerLocationUpdated)
        /// A malformed `food.order.placed` payload with its event id.
        case malformed(id: String, key: String, json: String)
    }

    /// Every record of the run, in production order (deterministic for a seed).
    /// - Returns: The records.
    public func records() -> [Record] {
        var random = SeededGenerator(seed: settings.seed)
        var records: [Record] = []
        var pendingCancels: [(due: Int, cancel: OrderCancelled)] = []
        let now = Date()
        let customersPerCity = max(10, settings.orders / 8)
        for index in 0..<settings.orders {
            let orderID = "\(settings.runID)-\(String(format: "%06d", index + 1))"
            let city = catalog.cities[Int(random.next() % UInt64(catalog.cities.count))]
            let cityRestaurants = catalog.restaurants.filter { $0.city == city.id && !$0.openingHours.isEmpty }
            var restaurant = cityRestaurants[Int(random.next() % UInt64(cityRestaurants.count))]
            var restaurantID = restaurant.id
            var items = (0..<(1 + Int(random.next() % 3))).map { _ in
                let dishes = restaurant.menu.filter { $0.id != "chefs-special" }
                return OrderItem(
                    itemId: dishes[Int(random.next() % UInt64(dishes.count))].id, quantity: 1 + Int(random.next() % 2))
            }
            var location = Location(
                lat: city.centre.lat + (Double(random.next() % 1000) / 1000 - 0.5) * 0.08,
                lon: city.centre.lon + (Double(random.next() % 1000) / 1000 - 0.5) * 0.08
            )
            var token = "tok_card_\(random.next() % 10_000)"
            if settings.includeBadOrders {
                switch random.next() % 100 {
                case 0: restaurantID = "\(city.id.prefix(3))-ghost-kitchen"  // unknown restaurant
                case 1:
                    if let closed = catalog.restaurants.first(where: { $0.city == city.id && $0.openingHours.isEmpty })
                    {
                        restaurant = closed
                        restaurantID = closed.id
                        items = [OrderItem(itemId: closed.menu[0].id, quantity: 1)]
                    }
                case 2: items.append(OrderItem(itemId: "unicorn-steak", quantity: 1))  // not on any menu
                case 3: location = Location(lat: city.centre.lat + 0.5, lon: city.centre.lon)  // ~55 km away
                case 4...9: items.append(OrderItem(itemId: "chefs-special", quantity: 1))  // scarce: some run out
                case 10...12: token = "tok_declined_\(index)"
                case 13: token = "tok_nofunds_\(index)"
                default: break
                }
            }
            let order = OrderPlaced(
                orderId: orderID,
                customerId:
                    "cus-\(city.id.prefix(3))-\(String(format: "%04d", random.next() % UInt64(customersPerCity)))",
                restaurantId: restaurantID, city: city.id, items: items, deliveryLocation: location,
                paymentToken: token,
                placedAt: now
            )
            records.append(.order(order))
            if settings.includeBadOrders, random.next() % 100 < 6 {
                // The customer changes their mind a little later: the cancellation lands at some state or other.
                let cancel = OrderCancelled(
                    orderId: orderID, reason: "customer_request", cancelledBy: "customer", cancelledAt: now)
                pendingCancels.append((index + 5 + Int(random.next() % 40), cancel))
            }
            if settings.includeBadOrders, random.next() % 100 == 0 {
                let id = "\(settings.runID)-malformed-\(index + 1)"
                // No items and a negative quantity elsewhere: the schema rejects it before any handler runs.
                let json =
                    #"{"orderId":"\#(id)","customerId":"cus-x","restaurantId":"\#(restaurant.id)","city":"\#(city.id)","items":[],"deliveryLocation":{"lat":0,"lon":0},"paymentToken":"tok","placedAt":"2026-03-14T12:30:00Z"}"#
                records.append(
                    .malformed(id: FoodEventID.make(orderId: id, type: OrderPlaced.eventType), key: id, json: json))
            }
            if random.next() % 10 == 0 {
                let cityPartners = catalog.partners.filter { $0.city == city.id }
                let partner = cityPartners[Int(random.next() % UInt64(cityPartners.count))]
                let moved = Location(
                    lat: partner.home.lat + (Double(random.next() % 100) / 100 - 0.5) * 0.01,
                    lon: partner.home.lon + (Double(random.next() % 100) / 100 - 0.5) * 0.01
                )
                records.append(
                    .partner(
                        PartnerLocationUpdated(partnerId: partner.id, city: city.id, location: moved, updatedAt: now)))
            }
            while let first = pendingCancels.first, first.due <= index {
                records.append(.cancel(first.cancel))
                pendingCancels.removeFirst()
            }
            pendingCancels.sort { $0.due < $1.due }
        }
        records.append(contentsOf: pendingCancels.map { .cancel($0.cancel) })
        return records
    }

    /// Produces the run's records and returns its plan.
    /// - Parameters:
    ///   - producer: A typed producer routed by the catalog.
    ///   - progress: Called after each order with the number produced so far.
    /// - Returns: What was produced.
    /// - Throws: ``KafkaError`` when producing fails.
    public func produce(with producer: EventProducer, progress: @Sendable (Int) -> Void = { _ in }) async throws
        -> LoadPlan
    {
        var plan = LoadPlan()
        let clock = ContinuousClock()
        let start = clock.now
        // One producer, records enqueued in order: the idempotent producer keeps each partition's records in that
        // order (a cancellation after its order), and a failed delivery makes the final flush throw.
        for record in records() {
            switch record {
            case .order(var order):
                if settings.rate > 0 {
                    let due = start.advanced(
                        by: .milliseconds(Int64(Double(plan.orderIDs.count) / settings.rate * 1000)))
                    if due > clock.now { try await Task.sleep(until: due, clock: clock) }
                }
                order.placedAt = Date()
                try await producer.enqueue(order, metadata: Self.metadata(order))
                plan.orderIDs.append(order.orderId)
                progress(plan.orderIDs.count)
            case .cancel(var cancel):
                cancel.cancelledAt = Date()
                try await producer.enqueue(cancel, metadata: Self.metadata(cancel))
                plan.cancelledOrderIDs.append(cancel.orderId)
            case .partner(let update):
                try await producer.enqueue(update)
                plan.partnerUpdates += 1
            case .malformed(let id, let key, let json):
                let message = try producer.message(
                    type: OrderPlaced.eventType, version: OrderPlaced.schemaVersion, payload: Array(json.utf8),
                    key: key,
                    metadata: EventMetadata(id: id)
                )
                try await producer.producer.enqueue(message)
                plan.invalidEventIDs.append(id)
            }
        }
        try await producer.producer.flush(timeout: .seconds(120))
        return plan
    }

    static func metadata<E: OrderEvent>(_ event: E) -> EventMetadata {
        EventMetadata(id: FoodEventID.make(orderId: event.orderId, type: E.eventType))
    }
}
