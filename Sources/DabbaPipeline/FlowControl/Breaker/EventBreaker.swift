import DabbaKafka

extension EventContext {
    /// The circuit breaker of a dependency, for this event: call the dependency through its
    /// ``EventBreaker/run(_:)``.
    ///
    /// ```swift
    /// pipeline.breaker("bank", CircuitBreakerConfiguration(consecutiveFailures: 3, openDuration: .seconds(10)))
    /// pipeline.on(PaymentRequested.self) { event, context in
    ///     try await context.breaker("bank").run { try await bank.transfer(event.amount) }
    /// }
    /// ```
    ///
    /// While the breaker is closed the call goes through and its error, if any, is rethrown unchanged: a
    /// ``PermanentError`` still dead-letters the event, other errors still go through in-place retries and the retry
    /// tiers. When the breaker opens (this call's failure tripped it, or it was open or probing already), `run` throws
    /// ``DependencyUnavailable`` and the pipeline holds the event: it is neither retried nor dead-lettered, its
    /// partition (or, with ``CircuitBreakerScope/consumer``, every partition) is paused until the next probe, and it is
    /// handled again after the dependency recovers. So is an event whose last failure the breaker counted and that is
    /// open by the time the event would be retried.
    /// - Parameter name: The dependency's name, as declared with ``Pipeline/breaker(_:_:)`` (an undeclared name gets
    ///   the default settings and a warning in the log).
    /// - Returns: The breaker, bound to this event.
    public func breaker(_ name: String) -> EventBreaker {
        EventBreaker(cell: breakers.cell(name), breakers: breakers, message: event.message)
    }
}

/// A dependency's circuit breaker as one event's handler uses it (see ``EventContext/breaker(_:)``).
public struct EventBreaker: Sendable {
    let cell: CircuitBreakers.Cell
    let breakers: CircuitBreakers
    let message: KafkaMessage

    /// The dependency's name.
    public var name: String { cell.name }

    /// Calls the dependency through the breaker.
    /// - Parameter body: The call.
    /// - Returns: What the call returned.
    /// - Throws: ``DependencyUnavailable`` when the breaker refused the call or this call's failure opened it; the
    ///   call's own error otherwise.
    public func run<Value>(_ body: () async throws -> Value) async throws -> Value {
        let permission: CircuitBreaker.Permission
        switch breakers.acquire(cell) {
        case .success(let granted): permission = granted
        case .failure(let refusal): throw refusal
        }
        let value: Value
        do {
            value = try await body()
        } catch {
            let counts = cell.counts(error)
            let transition = breakers.record(counts ? .failure : .ignored, for: permission, in: cell)
            if transition?.to == .open {
                throw DependencyUnavailable(.tripped, dependency: cell.name, cause: "\(error)")
            }
            // If the breaker opens before this event is retried, the event is held instead (see `BreakerHolds`).
            if counts { BreakerHolds.current?.noteFailure(of: message, through: cell.name) }
            throw error
        }
        _ = breakers.record(.success, for: permission, in: cell)
        return value
    }
}
