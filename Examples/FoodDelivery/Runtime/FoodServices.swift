import DemoServiceKit

/// The five services of the example, by executable name.
public let foodServiceNames = [
    "food-orders", "food-restaurants", "food-delivery", "food-notifications", "food-analytics",
]

/// The standard arguments of a food service started by the demo or a test (see ``demoServiceArguments``).
public func foodServiceArguments(
    bootstrap: String, catalog: String, store: String, instanceID: String? = nil, sessionTimeout: String = "6s"
) -> [String] {
    demoServiceArguments(
        bootstrap: bootstrap, catalog: catalog, store: store, instanceID: instanceID, sessionTimeout: sessionTimeout)
}
