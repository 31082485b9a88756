import DemoServiceKit

/// The five services of the example, by executable name.
public let foodServiceNames = [
    "food-orders", "food-restaurants", "food-delivery", "food-notifications", "food-analytics",
]

/// The fetch wait the demo and the tests give the services (`--fetch-wait`), as in the other example systems: the
/// embedded broker holds an empty fetch for the whole wait even when records arrive meanwhile. A delivery partner
/// goes through three hops of food-delivery's own topic (assigned, picked up, delivered) before taking the next
/// order, so librdkafka's default 500 ms made the partners, not the services, the bound on orders per second.
/// Kafka answers a waiting fetch as soon as records arrive, so a deployment keeps the default.
public let foodFetchWait = "20ms"

/// The standard arguments of a food service started by the demo or a test (see ``demoServiceArguments``).
public func foodServiceArguments(
    bootstrap: String, catalog: String, store: String, instanceID: String? = nil, sessionTimeout: String = "6s"
) -> [String] {
    demoServiceArguments(
        bootstrap: bootstrap, catalog: catalog, store: store, instanceID: instanceID, sessionTimeout: sessionTimeout,
        fetchWait: foodFetchWait)
}
