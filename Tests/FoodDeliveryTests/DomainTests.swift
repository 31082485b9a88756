import DabbaCatalog
import DabbaEvents
import DabbaSchema
import FoodDeliveryDomain
import FoodDeliveryRuntime
import DemoKit
import Foundation
import Testing

@Suite("Food delivery: order state machine")
struct OrderStateMachineTests {
    @Test("the happy path passes every state once and ends delivered")
    func happyPath() {
        let states = OrderStateMachine.replay([
            .place, .accept, .confirm, .startPreparing, .markReady, .assignPartner, .pickUp, .deliver,
        ])
        #expect(states == [.placed, .accepted, .confirmed, .preparing, .ready, .assigned, .pickedUp, .delivered])
        #expect(states.last?.isTerminal == true)
    }

    @Test("illegal transitions are rejected: skipped steps, repeats, anything after a terminal state")
    func illegal() {
        #expect(OrderStateMachine.apply(.confirm, to: .placed) == .illegal(current: .placed, transition: .confirm))
        #expect(OrderStateMachine.apply(.accept, to: .accepted) == .illegal(current: .accepted, transition: .accept))
        #expect(OrderStateMachine.apply(.place, to: .placed) == .illegal(current: .placed, transition: .place))
        #expect(OrderStateMachine.apply(.deliver, to: nil) == .illegal(current: nil, transition: .deliver))
        for terminal in OrderState.allCases where terminal.isTerminal {
            for transition in OrderTransition.allCases {
                #expect(
                    OrderStateMachine.apply(transition, to: terminal)
                        == .illegal(current: terminal, transition: transition))
            }
        }
    }

    @Test("a cancellation counts before pickup and is void after it")
    func cancellation() {
        #expect(
            OrderStateMachine.replay([.place, .accept, .confirm, .cancel, .startPreparing]) == [
                .placed, .accepted, .confirmed, .cancelled,
            ])
        #expect(
            OrderStateMachine.replay([.place, .accept, .confirm, .startPreparing, .markReady, .assignPartner, .cancel])
                .last == .cancelled)
        let late = OrderStateMachine.replay([
            .place, .accept, .confirm, .startPreparing, .markReady, .assignPartner, .pickUp, .cancel, .deliver,
        ])
        #expect(late.last == .delivered)
        #expect(!late.contains(.cancelled))
    }

    @Test("rejections and payment failures end the order; terminal buckets")
    func terminalBuckets() {
        #expect(OrderStateMachine.replay([.place, .reject, .accept]) == [.placed, .rejected])
        #expect(OrderStateMachine.replay([.place, .accept, .reject]) == [.placed, .accepted, .rejected])
        #expect(OrderStateMachine.replay([.place, .failPayment, .accept]) == [.placed, .paymentFailed])
        #expect(OrderState.paymentFailed.terminalBucket == "cancelled")
        #expect(OrderState.delivered.terminalBucket == "delivered")
        #expect(OrderState.ready.terminalBucket == nil)
    }
}

@Suite("Food delivery: pricing, kitchen, dispatch, notifications")
struct DomainRuleTests {
    let catalog = ReferenceCatalog.standard
    let pricer = OrderPricer()

    func order(restaurant: String = "ben-dosa-corner", items: [OrderItem], at location: Location? = nil) -> OrderPlaced
    {
        let restaurantLocation = catalog.restaurant(restaurant)?.location ?? Location(lat: 12.97, lon: 77.59)
        return OrderPlaced(
            orderId: "o-1", customerId: "c-1", restaurantId: restaurant, city: "bengaluru", items: items,
            deliveryLocation: location ?? Location(lat: restaurantLocation.lat + 0.02, lon: restaurantLocation.lon),
            paymentToken: "tok_ok", placedAt: Date(timeIntervalSince1970: 1_773_491_400)
        )
    }

    @Test("items are priced from the menu and the delivery charge grows with distance")
    func pricing() throws {
        let near = try pricer.price(
            order(items: [OrderItem(itemId: "masala-dosa", quantity: 2), OrderItem(itemId: "idli", quantity: 1)]))
        #expect(near.lines.map(\.lineTotalMinor) == [24000, 6000])
        #expect(near.subtotalMinor == 30000)
        // About 2.2 km: base 2000 + 3 started km × 800.
        #expect(near.deliveryChargeMinor == 2000 + 3 * 800)
        #expect(near.totalMinor == near.subtotalMinor + near.deliveryChargeMinor)
        let restaurant = try #require(catalog.restaurant("ben-dosa-corner"))
        let far = try pricer.price(
            order(
                items: [OrderItem(itemId: "idli", quantity: 1)],
                at: Location(lat: restaurant.location.lat + 0.08, lon: restaurant.location.lon))
        )
        #expect(far.deliveryChargeMinor > near.deliveryChargeMinor)
        #expect(DeliveryTariff.standard.charge(distanceKm: 3, subtotalMinor: 80000) == 0)
    }

    @Test("the platform refuses unknown restaurants and items, closed restaurants and customers out of range")
    func refusals() {
        func reason(_ placed: OrderPlaced) -> RejectionReason? {
            do {
                _ = try pricer.price(placed)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(
            reason(order(restaurant: "ben-ghost-kitchen", items: [OrderItem(itemId: "idli", quantity: 1)]))
                == .unknownRestaurant)
        #expect(
            reason(order(restaurant: "ben-thali-co", items: [OrderItem(itemId: "veg-thali", quantity: 1)]))
                == .restaurantClosed)
        #expect(reason(order(items: [OrderItem(itemId: "unicorn-steak", quantity: 1)])) == .unknownItem)
        #expect(
            reason(order(items: [OrderItem(itemId: "idli", quantity: 1)], at: Location(lat: 13.5, lon: 77.59)))
                == .outOfDeliveryArea)
    }

    @Test("the kitchen rejects when the stock of an item (over all lines) is short")
    func kitchen() throws {
        let restaurant = try #require(catalog.restaurant("ben-dosa-corner"))
        let accepted = OrderAccepted(
            orderId: "o-1", customerId: "c", restaurantId: restaurant.id, city: "bengaluru",
            lines: [
                PricedLine(
                    itemId: "chefs-special", name: "Chef's special", quantity: 2, unitPriceMinor: 1, lineTotalMinor: 2),
                PricedLine(
                    itemId: "chefs-special", name: "Chef's special", quantity: 2, unitPriceMinor: 1, lineTotalMinor: 2),
            ],
            subtotalMinor: 4, deliveryChargeMinor: 0, totalMinor: 4, currency: "INR", distanceKm: 1,
            deliveryLocation: restaurant.location, acceptedAt: Date()
        )
        #expect(
            Kitchen.decide(accepted, restaurant: restaurant, stock: ["chefs-special": 4], hour: 12)
                == .confirm(preparationMinutes: restaurant.preparationMinutes))
        guard
            case .reject(let refusal) = Kitchen.decide(
                accepted, restaurant: restaurant, stock: ["chefs-special": 3], hour: 12)
        else {
            Issue.record("expected an out-of-stock rejection")
            return
        }
        #expect(refusal.reason == .outOfStock)
        #expect(refusal.detail.contains("chefs-special"))
    }

    @Test("the nearest free partner is chosen; ties go to the smaller id; nobody free means no choice")
    func dispatch() {
        let pickup = Location(lat: 12.97, lon: 77.59)
        let partners = [
            PartnerPosition(partnerId: "p-b", location: Location(lat: 12.98, lon: 77.59)),
            PartnerPosition(partnerId: "p-a", location: Location(lat: 12.98, lon: 77.59)),
            PartnerPosition(partnerId: "p-c", location: Location(lat: 13.10, lon: 77.59)),
        ]
        #expect(Dispatcher.nearest(to: pickup, among: partners)?.partner.partnerId == "p-a")
        #expect(Dispatcher.nearest(to: pickup, among: [partners[2]])?.partner.partnerId == "p-c")
        #expect(Dispatcher.nearest(to: pickup, among: []) == nil)
    }

    @Test("one customer message per state; restaurants hear about new and cancelled orders")
    func notifications() {
        let summary = OrderSummary(
            orderId: "o-1", customerId: "c-1", restaurantId: "r-1", restaurantName: "Dosa Corner", totalMinor: 27600)
        for state in OrderState.allCases {
            let messages = NotificationRenderer.render(state, order: summary, detail: "why")
            #expect(messages.filter { $0.audience == .customer }.count == 1)
            #expect(messages.first?.recipient == "c-1")
            let restaurantMessages = messages.filter { $0.audience == .restaurant }.count
            #expect(restaurantMessages == (state == .accepted || state == .cancelled ? 1 : 0))
        }
        #expect(NotificationRenderer.render(.accepted, order: summary)[0].text.contains("₹276.00"))
    }

    @Test("percentiles by nearest rank")
    func percentiles() {
        let values = (1...100).map(Double.init)
        #expect(Percentile.of(50, values) == 50)
        #expect(Percentile.of(99, values) == 99)
        #expect(Percentile.of(95, [3]) == 3)
        #expect(Percentile.of(95, []) == 0)
    }

    @Test("the load generator is deterministic for a seed and makes bad orders and cancellations")
    func loadGenerator() {
        let settings = LoadSettings(orders: 400, seed: 7, runID: "t")
        let first = LoadGenerator(settings: settings).records()
        let second = LoadGenerator(settings: settings).records()
        func orders(_ records: [LoadGenerator.Record]) -> [OrderPlaced] {
            records.compactMap { if case .order(let order) = $0 { order } else { nil } }
        }
        #expect(orders(first).map(\.orderId) == orders(second).map(\.orderId))
        #expect(orders(first).map(\.items) == orders(second).map(\.items))
        #expect(orders(first).count == 400)
        let refused = orders(first).filter { (try? OrderPricer().price($0)) == nil }
        #expect(!refused.isEmpty)
        #expect(first.contains { if case .malformed = $0 { true } else { false } })
        #expect(first.contains { if case .cancel = $0 { true } else { false } })
        #expect(orders(first).contains { PaymentProvider.charge(token: $0.paymentToken, amountMinor: 1) != nil })
        // Every cancellation comes after its order.
        var placed: Set<String> = []
        for record in first {
            if case .order(let order) = record { placed.insert(order.orderId) }
            if case .cancel(let cancel) = record { #expect(placed.contains(cancel.orderId)) }
        }
    }
}

@Suite("Food delivery: the catalog document")
struct FoodCatalogTests {
    static let topics = FoodSystem.topics

    @Test("every order event is on food.orders keyed by order id; partner locations on food.partners keyed by partner")
    func topicsAndKeys() throws {
        let catalog = try Catalog.load(directory: Self.topics)
        for type in allOrderEventTypes {
            let spec = try #require(
                catalog.events.first { $0.type == type.eventType }, "\(type.eventType) is not in the catalog")
            #expect(spec.topic == "food.orders")
            #expect(spec.keyField == "/orderId")
        }
        let partner = try #require(catalog.events.first { $0.type == PartnerLocationUpdated.eventType })
        #expect(partner.topic == "food.partners")
        #expect(partner.keyField == "/partnerId")
        let groups = Set(catalog.consumerGroups.map(\.groupID))
        #expect(groups.isSuperset(of: foodServiceNames))
        #expect(catalog.allTopics.contains { $0.name == "food.orders.food-orders.dlq" })
    }

    @Test("the Swift events encode to payloads the catalog's schemas accept")
    func samplesMatchSchemas() throws {
        let catalog = try Catalog.load(directory: Self.topics)
        let codec = JSONEventCodec()
        func check<E: Event>(_ event: E) throws {
            let spec = try #require(catalog.events.first { $0.type == E.eventType })
            let json = try JSONValue.parse(Data(try codec.encode(event)))
            let violations = spec.payloadSchema.validate(json)
            #expect(violations.isEmpty, "\(E.eventType): \(violations)")
        }
        try check(SampleEvents.placed)
        try check(SampleEvents.accepted)
        try check(SampleEvents.rejectedByPlatform)
        try check(SampleEvents.rejectedByRestaurant)
        try check(SampleEvents.paymentFailed)
        try check(SampleEvents.confirmed)
        try check(SampleEvents.preparing)
        try check(SampleEvents.ready)
        try check(SampleEvents.assigned)
        try check(SampleEvents.pickedUp)
        try check(SampleEvents.delivered)
        try check(SampleEvents.cancelled)
        try check(SampleEvents.partnerMoved)
    }
}
