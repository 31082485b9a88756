import ArgumentParser

/// The standard arguments of an example service started by a demo or a test.
/// - Parameters:
///   - bootstrap: The brokers.
///   - catalog: The Topics/ directory.
///   - store: The SQLite file of its inbox and state.
///   - instanceID: A static member id, if any.
///   - sessionTimeout: The consumer session timeout.
///   - fetchWait: The longest a fetch waits at the broker (the embedded broker holds an empty fetch that long).
/// - Returns: The arguments.
public func demoServiceArguments(
    bootstrap: String, catalog: String, store: String, instanceID: String? = nil, sessionTimeout: String = "6s",
    fetchWait: String? = nil
) -> [String] {
    var arguments = [
        "--bootstrap", bootstrap, "--catalog", catalog, "--inbox", "sqlite:\(store)", "--session-timeout",
        sessionTimeout,
        "--metrics-port=-1", "--log-level", "info",
    ]
    if let instanceID { arguments += ["--instance-id", instanceID] }
    if let fetchWait { arguments += ["--fetch-wait", fetchWait] }
    return arguments
}

/// Resolves the SQLite file a service's store is in, the way PipelineService does, for report modes and tools.
/// - Parameters:
///   - inbox: The `--inbox` option (`sqlite:PATH`), or nil for the default.
///   - group: The consumer group.
///   - instanceID: The `--instance-id`, if any.
/// - Returns: The file path.
/// - Throws: `ValidationError` when the inbox is not SQLite.
public func sqliteStorePath(inbox: String?, group: String, instanceID: String?) throws -> String {
    let value = inbox ?? "sqlite:.dabba/\(group)-\(instanceID ?? "default").sqlite"
    guard value.hasPrefix("sqlite:") else {
        throw ValidationError("this mode reads a SQLite store: pass --inbox sqlite:PATH, not '\(value)'")
    }
    return String(value.dropFirst("sqlite:".count))
}
