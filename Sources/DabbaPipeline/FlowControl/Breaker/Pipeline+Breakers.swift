extension Pipeline {
    /// Declares the circuit breaker of a dependency its handlers call through ``EventContext/breaker(_:)``.
    ///
    /// Declared breakers can be tuned without a rebuild by the standard `--breaker NAME:KEY=VALUE,…` option; a name
    /// used by a handler without a declaration gets the default settings and a warning in the log.
    /// - Parameters:
    ///   - name: The dependency's name (e.g. `bank`).
    ///   - configuration: Its thresholds, open period and scope.
    public mutating func breaker(_ name: String, _ configuration: CircuitBreakerConfiguration = .init()) {
        breakers[name] = configuration
    }

    /// The declared circuit breakers, by name.
    public var declaredBreakers: [String: CircuitBreakerConfiguration] { breakers }
}
