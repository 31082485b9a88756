/// The five services of the example, by executable name.
public let foodServiceNames = [
    "food-orders", "food-restaurants", "food-delivery", "food-notifications", "food-analytics",
]

/// The standard arguments of a service started by the demo or a test.
/// - Parameters:
///   - bootstrap: The brokers.
///   - catalog: The Topics/ directory.
///   - store: The SQLite file of its inbox and state.
///   - instanceID: A static member id, if any.
///   - sessionTimeout: The consumer session timeout.
/// - Returns: The arguments.
public func foodServiceArguments(
    bootstrap: String, catalog: String, store: String, instanceID: String? = nil, sessionTimeout: String = "6s"
) -> [String] {
    var arguments = [
        "--bootstrap", bootstrap, "--catalog", catalog, "--inbox", "sqlite:\(store)", "--session-timeout",
        sessionTimeout,
        "--metrics-port=-1", "--log-level", "info",
    ]
    if let instanceID { arguments += ["--instance-id", instanceID] }
    return arguments
}
